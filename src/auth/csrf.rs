//! CSRF protection for forms: the double-submit value is the `csrf` claim of
//! the signed-in user's token, or, before sign-in, a random value in a
//! private (encrypted, authenticated) cookie. Compared in constant time.

use rocket::data::{self, Data, FromData};
use rocket::form::{Form, FromForm};
use rocket::http::{Cookie, SameSite, Status};
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};
use subtle::ConstantTimeEq;

use super::guard::{authenticate, set_failure_reason};
use super::token::AuthFailure;
use crate::app::Gatehouse;

/// The private cookie holding the anonymous CSRF value.
pub const ANON_COOKIE: &str = "gatehouse_csrf";

/// A fresh random value, URL-safe.
pub fn random_value() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The CSRF value this request's forms must carry. Always succeeds.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

impl CsrfToken {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a submitted value matches, in constant time.
    pub fn matches(&self, submitted: Option<&str>) -> bool {
        match submitted {
            Some(s) if !s.is_empty() => self.0.as_bytes().ct_eq(s.as_bytes()).into(),
            _ => false,
        }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CsrfToken {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        if let Ok(user) = authenticate(req).await {
            return Outcome::Success(CsrfToken(user.claims.csrf.clone()));
        }
        let token = req
            .local_cache(|| {
                let jar = req.cookies();
                match jar.get_private(ANON_COOKIE) {
                    Some(cookie) if !cookie.value().is_empty() => CsrfToken(cookie.value().to_owned()),
                    _ => {
                        let value = random_value();
                        let secure = req
                            .rocket()
                            .state::<Gatehouse>()
                            .is_some_and(|app| app.config.jwt.cookie_secure);
                        jar.add_private(
                            Cookie::build((ANON_COOKIE, value.clone()))
                                .path("/")
                                .http_only(true)
                                .secure(secure)
                                .same_site(SameSite::Lax),
                        );
                        CsrfToken(value)
                    }
                }
            })
            .clone();
        Outcome::Success(token)
    }
}

/// A form that carries the CSRF field.
pub trait CsrfProtected {
    fn csrf_token(&self) -> Option<&str>;
}

/// A form (`application/x-www-form-urlencoded` or multipart) whose CSRF
/// value was checked before the handler runs. Fails with 403 (reason
/// [`AuthFailure::Csrf`]) when the form field and the `X-CSRF-TOKEN` header
/// both fail to match.
pub struct CsrfForm<T>(pub T);

impl<T> CsrfForm<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for CsrfForm<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

#[rocket::async_trait]
impl<'r, T: FromForm<'r> + CsrfProtected + Send> FromData<'r> for CsrfForm<T> {
    type Error = rocket::form::Errors<'r>;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        let form = match Form::<T>::from_data(req, data).await {
            Outcome::Success(form) => form.into_inner(),
            Outcome::Forward(f) => return Outcome::Forward(f),
            Outcome::Error(e) => return Outcome::Error(e),
        };
        let app = req.rocket().state::<Gatehouse>();
        if app.is_some_and(|app| !app.config.jwt.cookie_csrf_protect) {
            return Outcome::Success(CsrfForm(form));
        }
        let expected = match req.guard::<CsrfToken>().await {
            Outcome::Success(token) => token,
            _ => unreachable!("CsrfToken always succeeds"),
        };
        let header = app.and_then(|app| req.headers().get_one(&app.config.jwt.access_csrf_header_name));
        if expected.matches(form.csrf_token()) || expected.matches(header) {
            Outcome::Success(CsrfForm(form))
        } else {
            set_failure_reason(req, AuthFailure::Csrf);
            Outcome::Error((Status::Forbidden, rocket::form::Errors::new()))
        }
    }
}
