//! The JSON API: `POST /api/v1/password/forgot` (202 for every address)
//! and `POST /api/v1/password/reset` (the tokens of `/api/v1/login`).

use gatehouse::domain::Role;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::LocalResponse;
use serde_json::{json, Value};

use super::{with_reset, Resetting};
use crate::common::TestApp;
use crate::db_tests;

db_tests!(forgot_answers_202_for_every_address, reset_answers_with_tokens);

async fn post<'a>(app: &'a Resetting, path: &str, body: Value) -> LocalResponse<'a> {
    app.bare
        .post(format!("/api/v1/password/{path}"))
        .header(ContentType::JSON)
        .body(body.to_string())
        .dispatch()
        .await
}

async fn forgot_answers_202_for_every_address(app: TestApp) {
    let app = with_reset(app, &[]).await;
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let mut answers = Vec::new();
    for email in ["ada@example.com", "carol@example.com"] {
        let res = post(&app, "forgot", json!({ "email": email })).await;
        assert_eq!(res.status(), Status::Accepted);
        answers.push(res.into_json::<Value>().await.unwrap());
    }
    assert_eq!(answers[0], answers[1], "the same answer");
    assert!(app.new_mails("ada@example.com")[0].reset_link().is_some());
    assert!(app.new_mails("carol@example.com")[0].reset_link().is_none());

    let res = post(&app, "forgot", json!({ "email": "ada@" })).await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    let body: Value = res.into_json().await.unwrap();
    assert_eq!(body["status_code"], 422);
    assert_eq!(body["error"], "Unprocessable Entity");
    assert!(
        body["description"].as_str().unwrap().starts_with("email:"),
        "{body}"
    );
    let res = post(&app, "forgot", json!({ "mail": "ada@example.com" })).await;
    assert!(res.status().code >= 400 && res.status().code < 500);
    let body: Value = res.into_json().await.unwrap();
    assert!(body["status_code"].is_number(), "{body}");
    assert_eq!(app.mails().len(), 2);
}

async fn reset_answers_with_tokens(app: TestApp) {
    let app = with_reset(app, &[]).await;
    let ada = app.create_user("ada@example.com", "Ada", Role::User).await;
    let before = gatehouse::testing::sign_in(app.state(), &ada).await.unwrap();
    post(&app, "forgot", json!({ "email": "ada@example.com" })).await;
    let link = app.link_for("ada@example.com");
    let token = link.split_once("token=").unwrap().1;

    // A weak password: 422 naming the field; the link still works.
    let res = post(&app, "reset", json!({ "token": token, "new_password": "short" })).await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    let body: Value = res.into_json().await.unwrap();
    let description = body["description"].as_str().unwrap();
    assert!(description.starts_with("new_password:"), "{body}");
    assert!(description.contains("at least 8"), "{body}");

    let new = "a brand new passphrase";
    let res = post(&app, "reset", json!({ "token": token, "new_password": new })).await;
    assert_eq!(res.status(), Status::Ok);
    let pair: Value = res.into_json().await.unwrap();
    assert_eq!(pair["token_type"], "Bearer");
    assert!(pair["refresh_token"].is_string() && pair["expires_in"].is_number());
    let access = pair["access_token"].as_str().unwrap();
    let res = app
        .bare
        .get("/api/v1/me")
        .header(Header::new("Authorization", format!("Bearer {access}")))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    let me: Value = res.into_json().await.unwrap();
    assert_eq!(me["identity"]["email"], "ada@example.com");
    let res = app
        .bare
        .get("/api/v1/me")
        .header(before.authorization())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Unauthorized, "signed out everywhere else");

    // Used, or made up: a 400 in the API's shape.
    for token in [token, "made-up", ""] {
        let res = post(&app, "reset", json!({ "token": token, "new_password": new })).await;
        assert_eq!(res.status(), Status::BadRequest, "{token}");
        let body: Value = res.into_json().await.unwrap();
        assert_eq!(body["status_code"], 400);
        assert!(body["description"].as_str().unwrap().contains("token"), "{body}");
    }
    let res = app
        .bare
        .post("/api/v1/login")
        .header(ContentType::JSON)
        .body(json!({ "email": "ada@example.com", "password": new }).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
}
