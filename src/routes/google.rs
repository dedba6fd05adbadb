//! Sign in with Google: `GET /auth/google` starts it, the provider sends
//! the browser back to `GET /auth/google/callback`; a single-page app sends
//! its code to `POST /api/v1/auth/google` instead. Every refusal is a page
//! (or JSON error) saying what went wrong, and is audited.

use oauth2::url::Url;
use rocket::http::{CookieJar, Status};
use rocket::response::{Flash, Redirect};
use rocket::serde::json::Json;
use rocket::{get, post, routes, Responder, Route, State};
use serde::Deserialize;
use serde_json::json;

use super::api::TokenPair;
use crate::auth::oidc::{printable, OidcError, Provider};
use crate::db::session::Device;
use crate::services::google as signin;
use crate::services::signin::SignInError;
use crate::state::Gatehouse;
use crate::web::google_flow as flow;
use crate::web::json::ApiResult;
use crate::web::json_body::JsonBody;
use crate::web::page::{Page, PageContext};
use crate::web::redirect::{is_local_path, safe_next};
use crate::web::{cookies, CurrentUser, FreshLogin};

pub fn routes() -> Vec<Route> {
    routes![start, start_link, callback]
}

/// Mounted under the API prefix.
pub fn api_routes() -> Vec<Route> {
    routes![api_sign_in]
}

#[derive(Responder)]
pub enum Outcome {
    Redirect(Redirect),
    /// A page that sends the browser on to the provider by itself.
    Onward(Page),
    Linked(Flash<Redirect>),
    Refused((Status, Page)),
}

fn provider(app: &Gatehouse) -> Result<&Provider, OidcError> {
    app.oidc
        .as_ref()
        .ok_or_else(|| OidcError::BadRequest("Google sign-in is not configured on this site.".into()))
}

/// The page a refused sign-in shows: what went wrong and a way back.
fn refused(page: &PageContext, app: &Gatehouse, error: &OidcError, next: Option<&str>) -> Outcome {
    let provider_name = app
        .oidc
        .as_ref()
        .map_or("Google", |p| p.config.provider_name.as_str());
    Outcome::Refused((
        error.status(),
        page.render(
            "google_error",
            json!({
                "provider_name": provider_name,
                "message": error.to_string(),
                "code": error.code(),
                "next": next.filter(|n| is_local_path(n)),
            }),
        ),
    ))
}

/// Counts a Google sign-in against the per-IP limit. A refused one is
/// audited once a minute at most, so nobody can flood the audit log.
async fn check_limit(app: &Gatehouse, device: &Device) -> Result<(), OidcError> {
    match crate::services::signin::check_ip_limit(app, device, None, "per-IP sign-in limit (Google)").await {
        Ok(()) => Ok(()),
        Err(SignInError::Other(e)) => Err(OidcError::Other(e)),
        Err(_) => Err(OidcError::RateLimited),
    }
}

/// Starts a sign-in at the provider, remembering it in this browser: the
/// provider's authorization URL to send the browser to, or the refusal.
async fn begin(
    app: &Gatehouse,
    jar: &CookieJar<'_>,
    page: &PageContext,
    next: Option<String>,
    link_user: Option<i32>,
) -> Result<Url, Outcome> {
    let next = next.filter(|n| is_local_path(n));
    let provider = match provider(app) {
        Ok(provider) => provider,
        Err(e) => return Err(refused(page, app, &e, next.as_deref())),
    };
    match provider.start().await {
        Ok(started) => {
            let (secure, lifetime) = (app.config.jwt.cookie_secure, provider.config.flow_expires);
            flow::keep(jar, &started, next, link_user, secure, lifetime);
            Ok(started.url)
        }
        Err(e) => Err(refused(page, app, &e, next.as_deref())),
    }
}

/// Starts a Google sign-in: remembers `state`, `nonce`, the PKCE verifier
/// and `next` in this browser and sends it to the provider.
#[get("/auth/google?<next>")]
async fn start(
    next: Option<String>,
    app: &State<Gatehouse>,
    jar: &CookieJar<'_>,
    page: PageContext,
) -> Outcome {
    match begin(app, jar, &page, next, None).await {
        Ok(url) => Outcome::Redirect(Redirect::to(url.to_string())),
        Err(refused) => refused,
    }
}

/// Links Google to the signed-in account (from the account page). A
/// sensitive change, so it needs a fresh sign-in (and, being a POST, the
/// CSRF value).
///
/// Answered with a page that goes on to the provider by itself, not with a
/// redirect: Chromium checks every redirect after a form's POST against the
/// CSP's `form-action 'self'`, and would refuse the provider's origin (and
/// any other its sign-in passes through). The page's refresh is no form
/// submission, so every page keeps `form-action 'self'` alone.
#[post("/auth/google/link")]
async fn start_link(
    user: FreshLogin,
    app: &State<Gatehouse>,
    jar: &CookieJar<'_>,
    page: PageContext,
) -> Outcome {
    match begin(app, jar, &page, Some("/account".into()), Some(user.user.id)).await {
        Ok(url) => Outcome::Onward(page.render(
            "google_onward",
            json!({
                "provider_name": provider(app).map_or("Google", |p| p.config.provider_name.as_str()),
                "url": url.as_str(),
            }),
        )),
        Err(refused) => refused,
    }
}

/// Where the provider sends the browser back: checks the state, trades the
/// code, verifies the ID token, and signs the person in (or links the
/// signed-in account).
#[get("/auth/google/callback?<code>&<state>&<error>&<error_description>")]
#[allow(clippy::too_many_arguments)]
async fn callback(
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    current: Option<CurrentUser>,
    app: &State<Gatehouse>,
    jar: &CookieJar<'_>,
    device: Device,
    page: PageContext,
) -> Outcome {
    let lifetime = app.oidc.as_ref().map_or(0, |p| p.config.flow_expires);
    // The started sign-in is taken first, so it serves one callback only.
    let flow = flow::take(jar, state.as_deref(), lifetime);
    let next = flow.as_ref().ok().and_then(|f| f.next.clone());
    if let Err(e) = check_limit(app, &device).await {
        return refused(&page, app, &e, next.as_deref());
    }
    let mut email = None;
    let result = async {
        let provider = provider(app)?;
        let flow = flow?;
        if let Some(error) = error {
            let said = error_description.map_or(error.clone(), |d| format!("{error}: {d}"));
            log::info!("the provider refused a sign-in: {}", printable(&said));
            return Err(OidcError::Denied(provider.config.provider_name.clone()));
        }
        let code =
            code.ok_or_else(|| OidcError::BadRequest("The provider sent no authorization code.".into()))?;
        let claims = provider
            .exchange(code, flow.verifier, &provider.config.redirect_uri, &flow.nonce)
            .await?;
        email = claims.email.clone();
        match flow.link_user {
            Some(id) => match current {
                Some(current) if current.user.id == id => {
                    signin::link(app, id, claims, device.clone()).await.map(|()| None)
                }
                _ => Err(OidcError::LinkNeedsSignIn),
            },
            None => signin::sign_in(app, claims, device.clone(), false)
                .await
                .map(Some),
        }
    }
    .await;
    match result {
        Ok(Some(signed_in)) => {
            cookies::set_signed_in(jar, &app.config.jwt, &signed_in);
            Outcome::Redirect(Redirect::to(safe_next(next.as_deref()).to_owned()))
        }
        Ok(None) => Outcome::Linked(Flash::success(
            Redirect::to("/account"),
            "Google is linked to your account.",
        )),
        Err(e) => {
            if let OidcError::Other(inner) = &e {
                log::error!("Google sign-in failed: {}", inner.chain());
            }
            signin::record_failure(app, &e, email, device).await;
            refused(&page, app, &e, next.as_deref())
        }
    }
}

/// A single-page app's code, obtained with its own PKCE verifier (and,
/// optionally, nonce).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CodeBody {
    code: String,
    redirect_uri: String,
    code_verifier: String,
    /// Required: with PKCE, what ties the code to the app that asked.
    nonce: String,
}

/// `{"code", "redirect_uri", "code_verifier", "nonce"}` -> the API's tokens
/// (Flask-JWT-Router's `oauth_login`).
#[utoipa::path(tag = "sign-in", request_body = CodeBody, responses((status = 200, description = "Signed in with Google", body = TokenPair)), security(()))]
#[post("/auth/google", data = "<body>")]
async fn api_sign_in(
    body: JsonBody<CodeBody>,
    app: &State<Gatehouse>,
    device: Device,
) -> ApiResult<Json<TokenPair>> {
    let body = body.into_inner();
    let mut email = None;
    if let Err(e) = check_limit(app, &device).await {
        return Err((&e).into());
    }
    let result = async {
        let provider = provider(app)?;
        let redirect_uri = Url::parse(&body.redirect_uri)
            .ok()
            .filter(|u| provider.allows_spa_redirect(u))
            .ok_or_else(|| {
                OidcError::BadRequest("`redirect_uri` is not one of `google.spa_redirect_uris`".into())
            })?;
        if body.code.is_empty() || body.code_verifier.is_empty() || body.nonce.is_empty() {
            return Err(OidcError::BadRequest(
                "Send `code`, `code_verifier` and `nonce`".into(),
            ));
        }
        let claims = provider
            .exchange(body.code, body.code_verifier, &redirect_uri, &body.nonce)
            .await?;
        email = claims.email.clone();
        signin::sign_in(app, claims, device.clone(), true).await
    }
    .await;
    match result {
        Ok(s) => Ok(Json(TokenPair::new(app, s.token, s.refresh_token))),
        Err(e) => {
            if let OidcError::Other(inner) = &e {
                log::error!("Google sign-in (API) failed: {}", inner.chain());
            }
            signin::record_failure(app, &e, email, device).await;
            Err((&e).into())
        }
    }
}
