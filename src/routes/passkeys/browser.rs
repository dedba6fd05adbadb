//! The passkey script's endpoints (`/static/passkeys.js`): JSON in and out,
//! the page's CSRF value in the body (`csrf_token`), every ceremony bound
//! to this browser's anonymous CSRF value. A sign-in sets the session's
//! cookies and answers where to go.

use rocket::http::{CookieJar, Status};
use rocket::response::Flash;
use rocket::serde::json::Json;
use rocket::{post, routes, Route, State};
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse};

use crate::db::session::Device;
use crate::services::passkey::{self, Started};
use crate::services::signin::SignInError;
use crate::state::Gatehouse;
use crate::web::cookies;
use crate::web::csrf::{BrowserBinding, CsrfProtected, PENDING_GONE};
use crate::web::json::{ApiError, ApiResult};
use crate::web::passkeys::{CsrfJson, PasskeysOn};
use crate::web::redirect::safe_next;
use crate::web::FreshLogin;

pub fn routes() -> Vec<Route> {
    routes![
        register_start,
        register_finish,
        login_start,
        login_finish,
        second_factor_start,
        second_factor_finish
    ]
}

/// A body with only the CSRF value (a ceremony's start).
#[derive(Debug, Deserialize)]
pub struct StartBody {
    csrf_token: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct RegisterBody {
    csrf_token: Option<String>,
    challenge_id: String,
    name: String,
    credential: serde_json::Value,
}

#[derive(Debug, Deserialize)]
pub struct LoginBody {
    csrf_token: Option<String>,
    challenge_id: String,
    credential: serde_json::Value,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    remember: bool,
}

#[derive(Debug, Deserialize)]
pub struct SecondFactorBody {
    csrf_token: Option<String>,
    challenge_id: String,
    credential: serde_json::Value,
}

macro_rules! csrf_protected {
    ($($t:ty),*) => {$(
        impl CsrfProtected for $t {
            fn csrf_token(&self) -> Option<&str> {
                self.csrf_token.as_deref()
            }
        }
    )*};
}
csrf_protected!(StartBody, RegisterBody, LoginBody, SecondFactorBody);

/// Where the page goes next.
#[derive(Debug, Serialize)]
pub struct Redirected {
    pub redirect: String,
}

#[post("/account/passkeys/register/start", data = "<_body>")]
async fn register_start(
    _on: PasskeysOn,
    user: FreshLogin,
    browser: BrowserBinding,
    _body: CsrfJson<StartBody>,
    app: &State<Gatehouse>,
) -> ApiResult<Json<Started<CreationChallengeResponse>>> {
    let started = passkey::start_registration(app, &user.user, Some(browser.0.as_str())).await?;
    Ok(Json(started))
}

#[post("/account/passkeys/register/finish", data = "<body>")]
async fn register_finish(
    _on: PasskeysOn,
    user: FreshLogin,
    browser: BrowserBinding,
    body: CsrfJson<RegisterBody>,
    app: &State<Gatehouse>,
    device: Device,
) -> ApiResult<Flash<Json<Redirected>>> {
    let body = body.into_inner();
    let bind = Some(browser.0.as_str());
    let stored = passkey::finish_registration(
        app,
        &user.user,
        &body.challenge_id,
        &body.name,
        body.credential,
        bind,
        device,
    )
    .await?;
    let redirect = Json(Redirected {
        redirect: "/account/passkeys".into(),
    });
    Ok(Flash::success(
        redirect,
        format!("Passkey “{}” added.", stored.name),
    ))
}

#[post("/login/passkey/start", data = "<_body>")]
async fn login_start(
    _on: PasskeysOn,
    browser: BrowserBinding,
    _body: CsrfJson<StartBody>,
    app: &State<Gatehouse>,
    device: Device,
) -> ApiResult<Json<Started<RequestChallengeResponse>>> {
    Ok(Json(
        passkey::start_sign_in(app, Some(browser.0.as_str()), &device).await?,
    ))
}

/// A discoverable sign-in: the session's cookies, and `next` (checked as
/// the form's is).
#[post("/login/passkey/finish", data = "<body>")]
async fn login_finish(
    _on: PasskeysOn,
    browser: BrowserBinding,
    body: CsrfJson<LoginBody>,
    app: &State<Gatehouse>,
    jar: &CookieJar<'_>,
    device: Device,
) -> ApiResult<Json<Redirected>> {
    let body = body.into_inner();
    let bind = Some(browser.0.as_str());
    let signed_in = passkey::finish_sign_in(
        app,
        &body.challenge_id,
        body.credential,
        bind,
        body.remember,
        device,
    )
    .await?;
    cookies::set_signed_in(jar, &app.config.jwt, &signed_in);
    Ok(Json(Redirected {
        redirect: safe_next(body.next.as_deref()).to_owned(),
    }))
}

/// The pending sign-in of this browser, or 401 (sign in again).
fn pending(
    app: &Gatehouse,
    jar: &CookieJar<'_>,
    browser: &BrowserBinding,
) -> ApiResult<crate::auth::token::MfaClaims> {
    browser
        .pending_sign_in(app, jar)
        .ok_or_else(|| ApiError::new(Status::Unauthorized, PENDING_GONE).with_code("no_pending_sign_in"))
}

#[post("/login/two-factor/passkey/start", data = "<_body>")]
async fn second_factor_start(
    _on: PasskeysOn,
    browser: BrowserBinding,
    _body: CsrfJson<StartBody>,
    app: &State<Gatehouse>,
    jar: &CookieJar<'_>,
    device: Device,
) -> ApiResult<Json<Started<RequestChallengeResponse>>> {
    let pending = pending(app, jar, &browser)?;
    let bind = Some(browser.0.as_str());
    Ok(Json(
        passkey::start_second_factor(app, &pending, bind, device).await?,
    ))
}

#[post("/login/two-factor/passkey/finish", data = "<body>")]
async fn second_factor_finish(
    _on: PasskeysOn,
    browser: BrowserBinding,
    body: CsrfJson<SecondFactorBody>,
    app: &State<Gatehouse>,
    jar: &CookieJar<'_>,
    device: Device,
) -> ApiResult<Json<Redirected>> {
    let pending = pending(app, jar, &browser)?;
    let body = body.into_inner();
    let bind = Some(browser.0.as_str());
    match passkey::finish_second_factor(app, &pending, &body.challenge_id, body.credential, bind, device)
        .await
    {
        Ok(signed_in) => {
            cookies::clear_pending(jar);
            cookies::set_signed_in(jar, &app.config.jwt, &signed_in);
            Ok(Json(Redirected {
                redirect: safe_next(pending.next.as_deref()).to_owned(),
            }))
        }
        Err(e @ (SignInError::InvalidCredentials | SignInError::Disabled)) => {
            // The pending sign-in is over: start again.
            cookies::clear_pending(jar);
            Err(e.into())
        }
        Err(e) => Err(e.into()),
    }
}
