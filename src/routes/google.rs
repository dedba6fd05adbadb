//! Sign in with Google: `GET /auth/google` starts it, the provider sends
//! the browser back to `GET /auth/google/callback`; a single-page app sends
//! its code to `POST /api/v1/auth/google` instead. Every refusal is a page
//! (or JSON error) saying what went wrong, and is audited.

use oauth2::url::Url;
use rocket::http::{CookieJar, Status};
use rocket::response::Redirect;
use rocket::serde::json::Json;
use rocket::{get, post, routes, Responder, Route, State};
use rocket_dyn_templates::Template;
use serde::Deserialize;
use serde_json::json;

use super::api::TokenPair;
use crate::app::Gatehouse;
use crate::auth::limit::Attempt;
use crate::auth::oidc::{flow, signin, OidcError, Provider};
use crate::auth::redirect::{is_local_path, safe_next};
use crate::auth::signin::set_cookies;
use crate::catchers::JsonError;
use crate::db::session::Device;
use crate::view::PageContext;

pub fn routes() -> Vec<Route> {
    routes![start, callback]
}

/// Mounted under the API prefix.
pub fn api_routes() -> Vec<Route> {
    routes![api_sign_in]
}

#[derive(Responder)]
pub enum Outcome {
    Redirect(Redirect),
    Refused((Status, Template)),
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
    let next = next.filter(|n| is_local_path(n));
    Outcome::Refused((
        // A 404 would hide the message behind the not-found page.
        if error.status() == Status::NotFound {
            Status::BadRequest
        } else {
            error.status()
        },
        page.render(
            "google_error",
            json!({
                "provider_name": provider_name,
                "message": error.to_string(),
                "code": error.code(),
                "next": next,
            }),
        ),
    ))
}

fn limited(app: &Gatehouse, device: &Device) -> bool {
    matches!(app.limiter.check(device.ip.parse().ok()), Attempt::Limited { .. })
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
    let next = next.filter(|n| is_local_path(n));
    let started = match provider(app) {
        Ok(provider) => provider.start().await,
        Err(e) => Err(e),
    };
    match started {
        Ok(started) => {
            let config = &app.config;
            let lifetime = config.google.as_ref().map_or(600, |g| g.flow_expires);
            flow::keep(jar, &started, next, config.jwt.cookie_secure, lifetime);
            Outcome::Redirect(Redirect::to(started.url.to_string()))
        }
        Err(e) => {
            log::warn!("Google sign-in could not start: {e}");
            refused(&page, app, &e, next.as_deref())
        }
    }
}

/// Where the provider sends the browser back: checks the state, trades the
/// code, verifies the ID token, and signs the person in.
#[get("/auth/google/callback?<code>&<state>&<error>&<error_description>")]
#[allow(clippy::too_many_arguments)]
async fn callback(
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    app: &State<Gatehouse>,
    jar: &CookieJar<'_>,
    device: Device,
    page: PageContext,
) -> Outcome {
    let lifetime = app.config.google.as_ref().map_or(600, |g| g.flow_expires);
    // The started sign-in is taken first, so it serves one callback only.
    let flow = flow::take(jar, state.as_deref(), lifetime);
    let next = flow.as_ref().ok().and_then(|f| f.next.clone());
    let mut email = None;
    let result = async {
        let provider = provider(app)?;
        if let Some(error) = error {
            let said = error_description.map_or(error.clone(), |d| format!("{error}: {d}"));
            log::info!("the provider refused a sign-in: {said}");
            return Err(OidcError::Denied(provider.config.provider_name.clone()));
        }
        let flow = flow?;
        let code =
            code.ok_or_else(|| OidcError::BadRequest("The provider sent no authorization code.".into()))?;
        if limited(app, &device) {
            return Err(OidcError::RateLimited);
        }
        let claims = provider
            .exchange(
                code,
                flow.verifier,
                &provider.config.redirect_uri,
                Some(&flow.nonce),
            )
            .await?;
        email = claims.email.clone();
        signin::sign_in(app, claims, device.clone(), false).await
    }
    .await;
    match result {
        Ok(signed_in) => {
            set_cookies(app, jar, &signed_in);
            Outcome::Redirect(Redirect::to(safe_next(next.as_deref()).to_owned()))
        }
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
#[derive(Debug, Deserialize)]
pub struct CodeBody {
    code: String,
    redirect_uri: String,
    code_verifier: String,
    #[serde(default)]
    nonce: Option<String>,
}

fn json_error(error: &OidcError) -> JsonError {
    let status = error.status();
    JsonError {
        status,
        error: match status.code {
            400 => "Bad Request",
            401 => "Authorization Required",
            403 => "Forbidden",
            429 => "Too Many Requests",
            502 => "Bad Gateway",
            _ => "Internal Server Error",
        },
        description: error.to_string(),
        code: Some(error.code()),
    }
}

/// `{"code", "redirect_uri", "code_verifier"}` -> the API's tokens
/// (Flask-JWT-Router's `oauth_login`).
#[post("/auth/google", data = "<body>")]
async fn api_sign_in(
    body: Json<CodeBody>,
    app: &State<Gatehouse>,
    device: Device,
) -> Result<Json<TokenPair>, JsonError> {
    let body = body.into_inner();
    let mut email = None;
    let result = async {
        let provider = provider(app)?;
        let redirect_uri = Url::parse(&body.redirect_uri)
            .ok()
            .filter(|u| provider.allows_redirect(u))
            .ok_or_else(|| {
                OidcError::BadRequest(
                    "`redirect_uri` is not this site's callback or one of `google.spa_redirect_uris`".into(),
                )
            })?;
        if body.code.is_empty() || body.code_verifier.is_empty() {
            return Err(OidcError::BadRequest("Send `code` and `code_verifier`".into()));
        }
        if limited(app, &device) {
            return Err(OidcError::RateLimited);
        }
        let claims = provider
            .exchange(
                body.code,
                body.code_verifier,
                &redirect_uri,
                body.nonce.as_deref(),
            )
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
            Err(json_error(&e))
        }
    }
}
