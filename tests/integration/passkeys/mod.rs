//! Passkeys, driven end to end with a software authenticator
//! ([`authenticator`], written from the WebAuthn spec) on both backends:
//!
//! - [`register`]: `/account/passkeys`: adding one (a fresh sign-in
//!   needed), renaming, removing (audited), bad input, passkeys off;
//! - [`signin`]: the discoverable sign-in (no email typed, `amr: ["hwk"]`,
//!   fresh) and its refusals: a replayed assertion, a wrong origin or RP
//!   id, an unknown credential, a counter going backwards, an expired
//!   challenge, a disabled user, another browser's challenge;
//! - [`second_factor`]: a passkey in place of the code after a password
//!   (`amr: ["pwd", "hwk"]`), `required_for_admins`, `SecondFactor`;
//! - [`api`]: the JSON API's ceremonies and tokens;
//! - [`admin`]: the admin's page and API, and the command line.

mod admin;
mod api;
pub mod authenticator;
mod register;
mod second_factor;
mod signin;

use rocket::http::{ContentType, Header};
use rocket::local::asynchronous::LocalResponse;
use serde_json::{json, Value};

pub use authenticator::Authenticator;

use crate::common::TestApp;

impl TestApp {
    /// Posts JSON as the browser (`app.client`), as the passkey script
    /// does: `csrf_token` first (the central CSRF check reads a body's
    /// first 512 bytes).
    pub async fn post_json(&self, uri: &str, body: &Value) -> LocalResponse<'_> {
        self.client
            .post(uri.to_owned())
            .header(ContentType::JSON)
            .header(Header::new("Accept", "application/json"))
            .body(csrf_first(body))
            .dispatch()
            .await
    }

    /// The events of a kind, newest first: (user id, actor id, detail).
    pub async fn events(&self, kind: &str) -> Vec<(Option<i32>, Option<i32>, String)> {
        let kind = kind.to_owned();
        self.state()
            .db
            .run(|conn| gatehouse::db::audit::recent(conn, None, 100))
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == kind)
            .map(|e| (e.user_id, e.actor_id, e.detail))
            .collect()
    }
}

/// A JSON object as text with its `csrf_token` member first (serde_json
/// sorts members).
pub fn csrf_first(body: &Value) -> String {
    let mut rest = body.as_object().cloned().unwrap_or_default();
    let Some(csrf) = rest.remove("csrf_token") else {
        return body.to_string();
    };
    let rest = Value::Object(rest).to_string();
    let tail = rest.strip_prefix('{').unwrap_or("}");
    let sep = if tail == "}" { "" } else { "," };
    format!("{{\"csrf_token\":{csrf}{sep}{tail}")
}

/// A response's JSON body.
pub async fn body(res: LocalResponse<'_>) -> Value {
    res.into_json().await.expect("a JSON body")
}

/// Adds a passkey in the signed-in (fresh) browser: start, the
/// authenticator, finish. Returns the finish's status and body.
pub async fn add_passkey(app: &TestApp, auth: &mut Authenticator, name: &str) -> (u16, Value) {
    let csrf = app.csrf_cookie();
    let res = app
        .post_json("/account/passkeys/register/start", &json!({ "csrf_token": csrf }))
        .await;
    assert_eq!(res.status().code, 200, "register start");
    let started = body(res).await;
    let credential = auth.register(&started["options"]);
    let res = app
        .post_json(
            "/account/passkeys/register/finish",
            &json!({
                "csrf_token": csrf,
                "challenge_id": started["challenge_id"],
                "name": name,
                "credential": credential,
            }),
        )
        .await;
    let status = res.status().code;
    (status, body(res).await)
}

/// A discoverable sign-in started in the browser from the sign-in page:
/// the page's CSRF value and the start's answer.
pub async fn start_login(app: &TestApp) -> (String, Value) {
    let csrf = app.csrf("/login").await;
    let res = app
        .post_json("/login/passkey/start", &json!({ "csrf_token": csrf }))
        .await;
    assert_eq!(res.status().code, 200, "login start");
    (csrf, body(res).await)
}

/// Finishes a discoverable sign-in in the browser.
pub async fn finish_login<'a>(
    app: &'a TestApp,
    csrf: &str,
    started: &Value,
    credential: &Value,
) -> LocalResponse<'a> {
    app.post_json(
        "/login/passkey/finish",
        &json!({
            "csrf_token": csrf,
            "challenge_id": started["challenge_id"],
            "credential": credential,
            "next": "/protected",
        }),
    )
    .await
}

/// A user with a passkey, signed out again: returns the authenticator.
pub async fn user_with_passkey(app: &TestApp, email: &str) -> Authenticator {
    app.sign_in(email).await;
    let mut auth = Authenticator::new();
    let (status, _) = add_passkey(app, &mut auth, "Laptop").await;
    assert_eq!(status, 200, "passkey added");
    app.sign_out().await;
    auth
}
