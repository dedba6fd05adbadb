//! The JSON API with two-factor on: `/api/v1/login` answers 401 with an
//! `mfa_token` that works only at `/api/v1/login/two-factor` (and expires);
//! Flask-JWT's `/auth` refuses; `amr` says how the session signed in and
//! survives refreshes.

use gatehouse::domain::Role;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use serde_json::{json, Value};

use super::{code, session_count, turn_on, wrong_code};
use crate::common::{TestApp, PASSWORD};
use crate::db_tests;

db_tests!(
    login_answers_with_an_mfa_token,
    the_mfa_token_works_nowhere_else,
    an_expired_mfa_token_is_refused,
    flask_jwt_auth_refuses_two_factor_accounts,
    amr_says_how_and_survives_a_refresh,
);

async fn post<'c>(client: &'c Client, uri: &str, body: Value, bearer: Option<&str>) -> LocalResponse<'c> {
    let mut req = client
        .post(uri.to_owned())
        .header(ContentType::JSON)
        .body(body.to_string());
    if let Some(token) = bearer {
        req = req.header(Header::new("Authorization", format!("Bearer {token}")));
    }
    req.dispatch().await
}

async fn json_of(res: LocalResponse<'_>) -> Value {
    res.into_json().await.expect("a JSON body")
}

/// `/api/v1/login` for a two-factor account: the 401 and its `mfa_token`.
async fn mfa_token(app: &TestApp, email: &str) -> String {
    let res = post(
        &app.bare,
        "/api/v1/login",
        json!({"email": email, "password": PASSWORD}),
        None,
    )
    .await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert!(res.headers().get_one("WWW-Authenticate").is_some());
    let body = json_of(res).await;
    assert_eq!(body["error"], "Two-factor code required");
    assert_eq!(body["status_code"], 401);
    body["mfa_token"].as_str().expect("an mfa_token").to_owned()
}

async fn me(app: &TestApp, access: &str) -> Value {
    let res = app
        .bare
        .get("/api/v1/me")
        .header(Header::new("Authorization", format!("Bearer {access}")))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    json_of(res).await
}

async fn login_answers_with_an_mfa_token(app: TestApp) {
    let user = app.create_user("ada@example.com", "Ada", Role::User).await;
    let (secret, codes) = turn_on(&app, "ada@example.com").await;
    let token = mfa_token(&app, "ada@example.com").await;
    assert_eq!(session_count(&app, user.id).await, 0);

    let res = post(
        &app.bare,
        "/api/v1/login/two-factor",
        json!({"mfa_token": token, "code": wrong_code(&secret)}),
        None,
    )
    .await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(json_of(res).await["description"], "Invalid two-factor code");
    assert_eq!(session_count(&app, user.id).await, 0);

    let res = post(
        &app.bare,
        "/api/v1/login/two-factor",
        json!({"mfa_token": token, "code": code(&secret, 1)}),
        None,
    )
    .await;
    assert_eq!(res.status(), Status::Ok);
    let pair = json_of(res).await;
    assert_eq!(pair["token_type"], "Bearer");
    let access = pair["access_token"].as_str().unwrap();
    assert_eq!(me(&app, access).await["claims"]["amr"], json!(["pwd", "otp"]));

    // A recovery code works in the same field.
    let token = mfa_token(&app, "ada@example.com").await;
    let res = post(
        &app.bare,
        "/api/v1/login/two-factor",
        json!({"mfa_token": token, "code": codes[0]}),
        None,
    )
    .await;
    assert_eq!(res.status(), Status::Ok);
    // Bad input is a 4xx.
    let res = post(&app.bare, "/api/v1/login/two-factor", json!({"code": "1"}), None).await;
    assert!(res.status().code >= 400 && res.status().code < 500);
    let res = post(
        &app.bare,
        "/api/v1/login/two-factor",
        json!({"mfa_token": "garbage", "code": "123456"}),
        None,
    )
    .await;
    assert_eq!(res.status(), Status::Unauthorized);
}

async fn the_mfa_token_works_nowhere_else(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    turn_on(&app, "ada@example.com").await;
    let token = mfa_token(&app, "ada@example.com").await;
    // Not an access token: as a header, a cookie...
    let res = app
        .bare
        .get("/api/v1/me")
        .header(Header::new("Authorization", format!("Bearer {token}")))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(
        json_of(res).await["description"],
        "Only access tokens are allowed"
    );
    let res = app.get_with_cookie("/api/v1/me", &token).await;
    assert_eq!(res.status(), Status::Unauthorized);
    // ...nor a refresh token.
    let res = post(
        &app.bare,
        "/api/v1/refresh",
        json!({"refresh_token": token}),
        None,
    )
    .await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(
        json_of(res).await["description"],
        "Only refresh tokens are allowed"
    );
    let res = post(&app.bare, "/api/v1/refresh", json!({}), Some(&token)).await;
    assert_eq!(res.status(), Status::Unauthorized);
    // An access token is no mfa_token.
    let user = app.find_user("ada@example.com").await.unwrap();
    let tokens = gatehouse::testing::sign_in(app.state(), &user).await.unwrap();
    let res = post(
        &app.bare,
        "/api/v1/login/two-factor",
        json!({"mfa_token": tokens.access_token, "code": "123456"}),
        None,
    )
    .await;
    assert_eq!(res.status(), Status::Unauthorized);
    // The form's pending token (bound to a browser) is refused here.
    let bound = app
        .state()
        .tokens
        .issue_mfa(user.id, false, None, Some("a-browser".into()), 300)
        .unwrap();
    let res = post(
        &app.bare,
        "/api/v1/login/two-factor",
        json!({"mfa_token": bound, "code": "123456"}),
        None,
    )
    .await;
    assert_eq!(res.status(), Status::Unauthorized);
}

async fn an_expired_mfa_token_is_refused(app: TestApp) {
    let user = app.create_user("ada@example.com", "Ada", Role::User).await;
    let (secret, _) = turn_on(&app, "ada@example.com").await;
    // Minted with the app's keys, five minutes in the past.
    let expired = app
        .state()
        .tokens
        .issue_mfa(user.id, false, None, None, -300)
        .unwrap();
    let res = post(
        &app.bare,
        "/api/v1/login/two-factor",
        json!({"mfa_token": expired, "code": code(&secret, 1)}),
        None,
    )
    .await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(json_of(res).await["description"], "Token has expired");
    assert_eq!(session_count(&app, user.id).await, 0);
}

async fn flask_jwt_auth_refuses_two_factor_accounts(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    turn_on(&app, "ada@example.com").await;
    let res = post(
        &app.bare,
        "/auth",
        json!({"username": "ada@example.com", "password": PASSWORD}),
        None,
    )
    .await;
    assert_eq!(res.status(), Status::Unauthorized);
    let body = json_of(res).await;
    assert_eq!(body["error"], "Two-factor code required");
    assert!(body.get("access_token").is_none());
}

async fn amr_says_how_and_survives_a_refresh(app: TestApp) {
    app.create_user("bob@example.com", "Bob", Role::User).await;
    let res = post(
        &app.bare,
        "/api/v1/login",
        json!({"email": "bob@example.com", "password": PASSWORD}),
        None,
    )
    .await;
    let pair = json_of(res).await;
    let access = pair["access_token"].as_str().unwrap();
    assert_eq!(me(&app, access).await["claims"]["amr"], json!(["pwd"]));

    app.create_user("ada@example.com", "Ada", Role::User).await;
    let (secret, _) = turn_on(&app, "ada@example.com").await;
    let token = mfa_token(&app, "ada@example.com").await;
    let res = post(
        &app.bare,
        "/api/v1/login/two-factor",
        json!({"mfa_token": token, "code": code(&secret, 1)}),
        None,
    )
    .await;
    let pair = json_of(res).await;
    let refresh = pair["refresh_token"].as_str().unwrap();
    let res = post(
        &app.bare,
        "/api/v1/refresh",
        json!({"refresh_token": refresh}),
        None,
    )
    .await;
    assert_eq!(res.status(), Status::Ok);
    let renewed = json_of(res).await;
    let claims = me(&app, renewed["access_token"].as_str().unwrap()).await["claims"].clone();
    assert_eq!(claims["amr"], json!(["pwd", "otp"]), "kept after a refresh");
    assert_eq!(claims["fresh"], false);
}
