//! Sign in with Google, against the loopback OpenID Connect provider in
//! [`provider`]: the whole browser flow through Gatehouse's routes, the
//! single-page app's API, and every way an ID token or a callback can be
//! wrong.
//!
//! - [`signin`]: `/auth/google` to the callback: new accounts, linking by
//!   email, and the refusals the settings and the account decide;
//! - [`callback`]: the callback's own checks: state, PKCE, the flow cookie,
//!   `next`;
//! - [`id_token`]: forged ID tokens and the provider's keys;
//! - [`link`]: `/auth/google/link`, from the account page;
//! - [`spa`]: `/api/v1/auth/google`, a single-page app's code;
//! - [`setup`]: settings checked at launch, discovery, a silent provider.

use std::time::Duration;

use gatehouse::db::user::User;
use oauth2::url::Url;
use rocket::http::Status;
use rocket::local::asynchronous::LocalResponse;
use serde_json::{json, Value};

use self::provider::Provider;
use crate::common::{Backend, TestApp};

pub mod provider;

mod callback;
mod id_token;
mod link;
mod setup;
mod signin;
mod spa;
mod two_factor;

/// The app with the provider configured, plus `extra` settings.
pub(crate) async fn spawn(backend: Backend, provider: &Provider, extra: &[(&str, Value)]) -> TestApp {
    let extra: Vec<(String, Value)> = extra.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    TestApp::spawn_with(backend, move |f| {
        extra.iter().fold(provider.configure(f), |f, (k, v)| {
            f.merge((k.as_str(), v.clone()))
        })
    })
    .await
    .expect("the app starts")
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Clicks "Sign in with Google": the provider URL Gatehouse sends the
/// browser to.
async fn start(app: &TestApp, next: &str) -> Url {
    let res = app.get(&format!("/auth/google?next={next}")).await;
    assert_eq!(res.status(), Status::SeeOther, "the sign-in starts");
    Url::parse(res.headers().get_one("Location").unwrap()).unwrap()
}

/// The browser at the provider: it signs in and is sent back; returns the
/// callback's path and query on Gatehouse.
async fn authorize(url: &Url) -> String {
    let res = http().get(url.clone()).send().await.unwrap();
    assert_eq!(
        res.status().as_u16(),
        302,
        "the provider accepts the request: {url}"
    );
    let back = res.headers()["location"].to_str().unwrap().to_owned();
    let back = back
        .strip_prefix("http://localhost:8000")
        .expect("sent back to the configured redirect_uri");
    back.to_owned()
}

/// The whole browser flow; returns Gatehouse's answer to the callback.
pub(crate) async fn sign_in<'a>(app: &'a TestApp, next: &str) -> LocalResponse<'a> {
    let url = start(app, next).await;
    let callback = authorize(&url).await;
    app.get(&callback).await
}

/// A refusal: the friendly page, with its status and error code.
async fn assert_refused(res: LocalResponse<'_>, status: Status, code: &str) -> String {
    assert_eq!(res.status(), status, "refused with {code}");
    let body = res.into_string().await.unwrap();
    assert!(
        body.contains(&format!("data-code=\"{code}\"")),
        "expected {code} in:\n{body}"
    );
    assert!(body.contains("href=\"/login"), "a way back");
    body
}

async fn user_count(app: &TestApp) -> usize {
    app.state().db.run(User::list).await.unwrap().len()
}

async fn signed_in_as(app: &TestApp) -> Option<String> {
    let res = app.get_json("/api/v1/me").await;
    if res.status() != Status::Ok {
        return None;
    }
    let me: Value = res.into_json().await.unwrap();
    assert_eq!(me["claims"]["fresh"], json!(true), "a Google sign-in is fresh");
    me["identity"]["email"].as_str().map(str::to_owned)
}
