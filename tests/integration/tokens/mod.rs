//! Tokens in cookies (and the Bearer header) on the app's pages: forged,
//! expired and revoked ones are refused; a live session renews.
//!
//! - [`refused`]: forged and tampered tokens, a disabled account, the Bearer
//!   header;
//! - [`renewal`]: renewing from the refresh cookie, early renewal, the grace
//!   window, the idle timeout;
//! - [`revocation`]: sign-out, and a replayed refresh token revoking the
//!   session;
//! - [`csrf`]: cookie-authenticated writes need the CSRF value on every
//!   route;
//! - [`instances`]: sign-out, disabling and demotion hold at once on a
//!   second instance sharing the database.

mod csrf;
mod instances;
mod refused;
mod renewal;
mod revocation;

use base64::Engine;
use gatehouse::auth::TokenType;
use gatehouse::domain::Role;
use gatehouse::Claims;
use rocket::http::{Cookie, Status};

use crate::common::TestApp;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

async fn signed_in_claims(app: &TestApp) -> (String, Claims) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    app.sign_in("ada@example.com").await;
    let token = app.access_cookie().unwrap();
    let claims = app
        .state()
        .tokens
        .decode(&token, TokenType::Access)
        .unwrap()
        .claims;
    (token, claims)
}

async fn description(app: &TestApp, token: &str) -> String {
    let res = app.get_with_cookie("/protected", token).await;
    assert_eq!(
        res.status(),
        Status::Unauthorized,
        "token should be refused: {token}"
    );
    assert!(res
        .headers()
        .get_one("WWW-Authenticate")
        .unwrap()
        .starts_with("Bearer"));
    let body: serde_json::Value = res.into_json().await.unwrap();
    assert_eq!(body["error"], "Authorization Required");
    assert_eq!(body["status_code"], 401);
    body["description"].as_str().unwrap().to_owned()
}

/// The browser's access token, re-signed as expired.
fn expired_access_cookie(app: &TestApp) -> Cookie<'static> {
    let token = app.access_cookie().unwrap();
    let tokens = &app.state().tokens;
    let claims = tokens.decode(&token, TokenType::Access).unwrap().claims;
    let expired = tokens
        .sign(&Claims {
            exp: gatehouse::domain::now() - 60,
            ..claims
        })
        .unwrap();
    Cookie::new("access_token_cookie", expired)
}

fn refresh_cookie(app: &TestApp) -> Cookie<'static> {
    let value = app
        .client
        .cookies()
        .get("refresh_token_cookie")
        .unwrap()
        .value()
        .to_owned();
    Cookie::new("refresh_token_cookie", value)
}

/// Renews once with the browser (its access cookie expired), returning the
/// refresh cookie it presented.
async fn renew_once(app: &TestApp) -> Cookie<'static> {
    let presented = refresh_cookie(app);
    let res = app
        .client
        .get("/protected")
        .cookie(expired_access_cookie(app))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    assert_ne!(refresh_cookie(app).value(), presented.value(), "rotated");
    presented
}
