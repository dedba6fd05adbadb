//! A reset of an account with two-factor sign-in on: the link stands for
//! the password only. The new password is set and every session signed
//! out, but no session starts before a code, in the form and in the API.

use gatehouse::domain::Role;
use rocket::http::{ContentType, Status};
use serde_json::{json, Value};

use super::with_reset;
use crate::common::{assert_redirect_to, TestApp};
use crate::db_tests;
use crate::two_factor::{code, session_count, turn_on};

db_tests!(
    a_reset_with_two_factor_on_asks_for_the_code,
    the_api_reset_with_two_factor_on_answers_with_an_mfa_token
);

const NEW: &str = "a brand new passphrase";

async fn a_reset_with_two_factor_on_asks_for_the_code(app: TestApp) {
    let app = with_reset(app, &[]).await;
    let ada = app.create_user("ada@example.com", "Ada", Role::User).await;
    // Reset from a browser signed in to the account: the reset ends that
    // session, and the code step still knows the browser.
    app.sign_in("ada@example.com").await;
    let (secret, _) = turn_on(&app, "ada@example.com").await;
    let res = app
        .forgot(&[("email", "ada@example.com"), ("next", "/protected")])
        .await;
    assert_eq!(res.status(), Status::Ok);
    let link = app.link_for("ada@example.com");

    let res = app.reset(&link, NEW, NEW).await;
    assert_redirect_to(&res, "/login/two-factor");
    assert!(
        res.cookies().get("access_token_cookie").is_none(),
        "no session before the code"
    );
    assert_eq!(session_count(&app, ada.id).await, 1, "only the one signed out");
    let page = app.get("/login/two-factor").await.into_string().await.unwrap();
    assert!(page.contains("Your new password is set"), "{page}");

    // The password is set all the same, and the link spent.
    let res = app.reset(&link, NEW, NEW).await;
    assert_eq!(res.status(), Status::NotFound);

    let res = app.code_form(&code(&secret, 1)).await;
    assert_redirect_to(&res, "/protected");
    assert_eq!(app.claims().await["amr"], json!(["pwd", "otp"]));
    assert_eq!(session_count(&app, ada.id).await, 2);
}

async fn the_api_reset_with_two_factor_on_answers_with_an_mfa_token(app: TestApp) {
    let app = with_reset(app, &[]).await;
    let ada = app.create_user("ada@example.com", "Ada", Role::User).await;
    let (secret, _) = turn_on(&app, "ada@example.com").await;
    app.forgot(&[("email", "ada@example.com")]).await;
    let link = app.link_for("ada@example.com");
    let token = link.split_once("token=").unwrap().1;

    let res = app
        .bare
        .post("/api/v1/password/reset")
        .header(ContentType::JSON)
        .body(json!({ "token": token, "new_password": NEW }).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Unauthorized);
    let body: Value = res.into_json().await.unwrap();
    assert_eq!(body["error"], "Two-factor code required", "{body}");
    let mfa_token = body["mfa_token"].as_str().unwrap().to_owned();
    assert!(body.get("access_token").is_none());
    assert_eq!(session_count(&app, ada.id).await, 0);

    let res = app
        .bare
        .post("/api/v1/login/two-factor")
        .header(ContentType::JSON)
        .body(json!({ "mfa_token": mfa_token, "code": code(&secret, 1) }).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    let body: Value = res.into_json().await.unwrap();
    assert!(body["access_token"].is_string(), "{body}");

    // The new password is the one that signs in now.
    let res = app
        .bare
        .post("/api/v1/login")
        .header(ContentType::JSON)
        .body(json!({ "email": "ada@example.com", "password": NEW }).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Unauthorized);
    let body: Value = res.into_json().await.unwrap();
    assert!(
        body["mfa_token"].is_string(),
        "right password, code asked: {body}"
    );
}
