//! The JSON API: `POST /api/v1/passkeys/login/start|finish` -> the usual
//! tokens (`amr: ["hwk"]`); a fresh caller's registration, list, rename,
//! removal; the second factor after `/login`'s `mfa_token`.

use gatehouse::domain::Role;
use rocket::http::{ContentType, Header, Status};
use serde_json::{json, Value};

use super::Authenticator;
use crate::common::{TestApp, PASSWORD};
use crate::db_tests;
use crate::two_factor::turn_on;

db_tests!(api_register_and_sign_in, api_second_factor);

/// A JSON request as an API client (no cookies), with a bearer token if
/// given.
async fn call(
    app: &TestApp,
    method: rocket::http::Method,
    uri: &str,
    bearer: Option<&Header<'static>>,
    body: Value,
) -> (Status, Value) {
    let mut req = app
        .bare
        .req(method, uri.to_owned())
        .header(ContentType::JSON)
        .body(body.to_string());
    if let Some(header) = bearer {
        req = req.header(header.clone());
    }
    let res = req.dispatch().await;
    let status = res.status();
    let text = res.into_string().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn api_register_and_sign_in(app: TestApp) {
    use rocket::http::Method::{Delete, Get, Patch, Post};
    let user = app.create_user("ada@example.com", "Ada", Role::User).await;
    let tokens = gatehouse::testing::sign_in(app.state(), &user).await.unwrap();
    let bearer = tokens.authorization();
    let (status, started) = call(
        &app,
        Post,
        "/api/v1/passkeys/register/start",
        Some(&bearer),
        json!({}),
    )
    .await;
    assert_eq!(status, Status::Ok, "{started}");
    let mut auth = Authenticator::new();
    let credential = auth.register(&started["options"]);
    let (status, created) = call(
        &app,
        Post,
        "/api/v1/passkeys/register/finish",
        Some(&bearer),
        json!({ "challenge_id": started["challenge_id"], "name": "CLI key", "credential": credential }),
    )
    .await;
    assert_eq!(status, Status::Created, "{created}");
    assert_eq!(created["name"], "CLI key");
    assert_eq!(created["synced"], false);
    assert!(created.get("passkey").is_none(), "never the key itself");
    let id = created["id"].as_i64().unwrap();
    let (_, list) = call(&app, Get, "/api/v1/passkeys", Some(&bearer), json!({})).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (status, renamed) = call(
        &app,
        Patch,
        &format!("/api/v1/passkeys/{id}"),
        Some(&bearer),
        json!({ "name": "Renamed" }),
    )
    .await;
    assert_eq!((status, renamed["name"].as_str()), (Status::Ok, Some("Renamed")));
    let (status, _) = call(
        &app,
        Patch,
        &format!("/api/v1/passkeys/{id}"),
        Some(&bearer),
        json!({ "name": "" }),
    )
    .await;
    assert_eq!(status, Status::UnprocessableEntity);

    // Sign in with it: no email, the usual tokens.
    let (status, started) = call(&app, Post, "/api/v1/passkeys/login/start", None, json!({})).await;
    assert_eq!(status, Status::Ok);
    auth.counter = 1;
    let (status, pair) = call(
        &app,
        Post,
        "/api/v1/passkeys/login/finish",
        None,
        json!({ "challenge_id": started["challenge_id"], "credential": auth.assert(&started["options"]) }),
    )
    .await;
    assert_eq!(status, Status::Ok, "{pair}");
    assert!(pair["refresh_token"].is_string());
    assert_eq!(pair["token_type"], "Bearer");
    let me = app
        .bare
        .get("/api/v1/me")
        .header(Header::new(
            "Authorization",
            format!("Bearer {}", pair["access_token"].as_str().unwrap()),
        ))
        .dispatch()
        .await
        .into_json::<Value>()
        .await
        .unwrap();
    assert_eq!(me["claims"]["amr"], json!(["hwk"]));
    assert_eq!(me["claims"]["fresh"], true);
    // A browser's challenge is no API challenge, and the reverse.
    let (csrf, browser_started) = super::start_login(&app).await;
    let (status, _) = call(
        &app,
        Post,
        "/api/v1/passkeys/login/finish",
        None,
        json!({ "challenge_id": browser_started["challenge_id"], "credential": auth.assert(&browser_started["options"]) }),
    )
    .await;
    assert_eq!(status, Status::UnprocessableEntity);
    let (_, api_started) = call(&app, Post, "/api/v1/passkeys/login/start", None, json!({})).await;
    let res = super::finish_login(&app, &csrf, &api_started, &auth.assert(&api_started["options"])).await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    drop(res);

    // Removing needs a fresh token; then it is gone, audited.
    let stale = gatehouse::testing::sign_in_stale(app.state(), &user)
        .await
        .unwrap();
    let (status, _) = call(
        &app,
        Delete,
        &format!("/api/v1/passkeys/{id}"),
        Some(&stale.authorization()),
        json!({}),
    )
    .await;
    assert_eq!(status, Status::Unauthorized);
    let (status, _) = call(
        &app,
        Delete,
        &format!("/api/v1/passkeys/{id}"),
        Some(&bearer),
        json!({}),
    )
    .await;
    assert_eq!(status, Status::NoContent);
    let (status, _) = call(
        &app,
        Delete,
        &format!("/api/v1/passkeys/{id}"),
        Some(&bearer),
        json!({}),
    )
    .await;
    assert_eq!(status, Status::NotFound);
    assert_eq!(app.events("passkey_removed").await.len(), 1);
    // Its key no longer signs in.
    let (_, started) = call(&app, Post, "/api/v1/passkeys/login/start", None, json!({})).await;
    auth.counter = 2;
    let (status, _) = call(
        &app,
        Post,
        "/api/v1/passkeys/login/finish",
        None,
        json!({ "challenge_id": started["challenge_id"], "credential": auth.assert(&started["options"]) }),
    )
    .await;
    assert_eq!(status, Status::Unauthorized);
}

async fn api_second_factor(app: TestApp) {
    use rocket::http::Method::Post;
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let mut auth = super::user_with_passkey(&app, "ada@example.com").await;
    turn_on(&app, "ada@example.com").await;
    let (status, refused) = call(
        &app,
        Post,
        "/api/v1/login",
        None,
        json!({ "email": "ada@example.com", "password": PASSWORD }),
    )
    .await;
    assert_eq!(status, Status::Unauthorized);
    let mfa_token = refused["mfa_token"].as_str().unwrap().to_owned();
    let (status, started) = call(
        &app,
        Post,
        "/api/v1/login/two-factor/passkey/start",
        None,
        json!({ "mfa_token": mfa_token }),
    )
    .await;
    assert_eq!(status, Status::Ok, "{started}");
    let (status, pair) = call(
        &app,
        Post,
        "/api/v1/login/two-factor/passkey/finish",
        None,
        json!({ "mfa_token": mfa_token, "challenge_id": started["challenge_id"], "credential": auth.assert(&started["options"]) }),
    )
    .await;
    assert_eq!(status, Status::Ok, "{pair}");
    let me = app
        .bare
        .get("/api/v1/me")
        .header(Header::new(
            "Authorization",
            format!("Bearer {}", pair["access_token"].as_str().unwrap()),
        ))
        .dispatch()
        .await
        .into_json::<Value>()
        .await
        .unwrap();
    assert_eq!(me["claims"]["amr"], json!(["pwd", "hwk"]));
    // A forged mfa_token: 401.
    let (status, _) = call(
        &app,
        Post,
        "/api/v1/login/two-factor/passkey/start",
        None,
        json!({ "mfa_token": "x.y.z" }),
    )
    .await;
    assert_eq!(status, Status::Unauthorized);
}
