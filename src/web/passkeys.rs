//! The passkey routes' plumbing: [`PasskeysOn`], which makes every passkey
//! route a 404 while passkeys are off, and [`CsrfJson`], a JSON body
//! carrying the page's CSRF value (the browser's passkey script posts
//! JSON, not forms).

use rocket::data::{self, Data, FromData};
use rocket::http::Status;
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};
use rocket::serde::json::Json;
use serde::de::DeserializeOwned;

use super::csrf::{CsrfProtected, CsrfToken};
use super::guards::set_failure_reason;
use crate::auth::token::AuthFailure;
use crate::state::Gatehouse;

/// Passkeys are on (`[webauthn]`). Succeeds when they are; forwards with
/// 404 when they are off, so the route is not there. Put it first among a
/// handler's guards: a signed-in guard after it then never answers 401
/// for a route that is not there.
#[derive(Debug, Clone, Copy)]
pub struct PasskeysOn;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for PasskeysOn {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        match req.rocket().state::<Gatehouse>() {
            Some(app) if app.webauthn.is_some() => Outcome::Success(PasskeysOn),
            _ => Outcome::Forward(Status::NotFound),
        }
    }
}

/// A JSON body whose `csrf_token` matches this request's CSRF value (the
/// session's, or before sign-in the browser's anonymous one), compared in
/// constant time. Fails with 403 (reason [`AuthFailure::Csrf`]) when it
/// doesn't, and as `Json` does when the body is not the JSON expected.
#[derive(Debug)]
pub struct CsrfJson<T>(pub T);

impl<T> std::ops::Deref for CsrfJson<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> CsrfJson<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

#[rocket::async_trait]
impl<'r, T: DeserializeOwned + CsrfProtected + Send> FromData<'r> for CsrfJson<T> {
    type Error = Option<String>;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        let body = match Json::<T>::from_data(req, data).await {
            Outcome::Success(json) => json.into_inner(),
            Outcome::Forward(f) => return Outcome::Forward(f),
            Outcome::Error((status, e)) => return Outcome::Error((status, Some(e.to_string()))),
        };
        let app = req.rocket().state::<Gatehouse>();
        if app.is_some_and(|app| !app.config.jwt.cookie_csrf_protect) {
            return Outcome::Success(CsrfJson(body));
        }
        let expected = match req.guard::<CsrfToken>().await {
            Outcome::Success(token) => token,
            _ => unreachable!("CsrfToken always succeeds"),
        };
        if expected.matches(body.csrf_token()) {
            Outcome::Success(CsrfJson(body))
        } else {
            set_failure_reason(req, AuthFailure::Csrf);
            Outcome::Error((Status::Forbidden, None))
        }
    }
}
