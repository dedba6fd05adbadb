//! CSRF protection for forms: the double-submit value is the `csrf` claim of
//! the signed-in user's token, or, before sign-in, a random value in a
//! private (encrypted, authenticated) cookie. Compared in constant time.

use rocket::data::{self, Data, FromData};
use rocket::fairing::{Fairing, Info, Kind};
use rocket::form::{Form, FromForm};
use rocket::http::{Cookie, CookieJar, SameSite, Status};
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};
use subtle::ConstantTimeEq;

use super::guards::{authenticate, set_failure_reason};
use crate::auth::token::random_value;
use crate::auth::token::{AuthFailure, MfaClaims};
use crate::services::two_factor;
use crate::state::Gatehouse;

/// The private cookie holding the anonymous CSRF value.
pub const ANON_COOKIE: &str = "gatehouse_csrf";

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
        Outcome::Success(anonymous(req))
    }
}

/// This browser's anonymous CSRF value, signed in or not: what ties a
/// pending two-factor sign-in to one browser. (A session's own value would
/// not do: a password reset ends the session whose value it was.)
#[derive(Debug, Clone)]
pub struct BrowserBinding(pub CsrfToken);

/// What a browser is told when its pending sign-in is gone (expired, or
/// started in another browser).
pub const PENDING_GONE: &str = "Your sign-in timed out or was not finished here. Sign in again.";

impl BrowserBinding {
    /// This browser's pending two-factor sign-in (the `gatehouse_mfa`
    /// cookie), if it is still good and was started here.
    pub fn pending_sign_in(&self, app: &Gatehouse, jar: &CookieJar<'_>) -> Option<MfaClaims> {
        super::cookies::pending(jar)
            .and_then(|t| two_factor::check_pending(app, &t, Some(self.0.as_str())).ok())
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for BrowserBinding {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        Outcome::Success(BrowserBinding(anonymous(req)))
    }
}

/// The anonymous CSRF value from its private cookie, set now if missing.
fn anonymous(req: &Request<'_>) -> CsrfToken {
    req.local_cache(|| {
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
    .clone()
}

/// How much of a form body is searched for the CSRF field: what Rocket lets
/// a fairing peek at. Gatehouse's forms put `csrf_token` first; multipart
/// forms need the header.
const PEEK: usize = 512;

/// Cookie-authenticated POST/PUT/PATCH/DELETE must carry the CSRF value of
/// their token, in the `X-CSRF-TOKEN` header, a `csrf_token` field of a
/// URL-encoded form, or a `csrf_token` member of a JSON body. Checked before any handler runs, for every route, so a
/// route that forgets to check is still protected. A stray `Authorization`
/// header does not skip it: cookies are read first.
pub struct CsrfCheck;

#[rocket::async_trait]
impl Fairing for CsrfCheck {
    fn info(&self) -> Info {
        Info {
            name: "Gatehouse CSRF check",
            kind: Kind::Request,
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, data: &mut Data<'_>) {
        if refuses(req, data).await {
            // Refused before routing, whatever the route's guards: the
            // request is sent to the internal route that answers 403.
            set_failure_reason(req, AuthFailure::Csrf);
            super::deny::reject(req);
        }
    }
}

/// Whether a cookie-authenticated write lacks its CSRF value.
async fn refuses(req: &Request<'_>, data: &mut Data<'_>) -> bool {
    let Some(app) = req.rocket().state::<Gatehouse>() else {
        return false;
    };
    let config = &app.config.jwt;
    if !config.cookie_csrf_protect || !config.csrf_methods.contains(&req.method()) {
        return false;
    }
    let expected = match authenticate(req).await {
        Ok(user) if user.from_cookie => CsrfToken(user.claims.csrf.clone()),
        _ => return false,
    };
    if expected.matches(req.headers().get_one(&config.access_csrf_header_name)) {
        return false;
    }
    if req.content_type().is_some_and(|ct| ct.is_form()) {
        let body = data.peek(PEEK).await;
        let field = std::str::from_utf8(body).ok().and_then(form_field_csrf);
        if expected.matches(field.as_deref()) {
            return false;
        }
    }
    if req.content_type().is_some_and(|ct| ct.is_json()) {
        let body = data.peek(PEEK).await;
        if expected.matches(json_field_csrf(body).as_deref()) {
            return false;
        }
    }
    true
}

/// The `csrf_token` member of a JSON object, read from the body's first
/// bytes (the passkey script sends it first): `"csrf_token": "value"`,
/// where the value (random base64url) needs no escapes. A value with an
/// escape is not read (the header then has to carry it).
fn json_field_csrf(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let rest = &text[text.find("\"csrf_token\"")? + "\"csrf_token\"".len()..];
    let rest = rest
        .trim_start()
        .strip_prefix(':')?
        .trim_start()
        .strip_prefix('"')?;
    let end = rest.find(['"', '\\'])?;
    (rest.as_bytes()[end] == b'"').then(|| rest[..end].to_owned())
}

/// The `csrf_token` field of a URL-encoded body.
fn form_field_csrf(body: &str) -> Option<String> {
    body.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        (name == "csrf_token").then(|| {
            percent_encoding::percent_decode_str(&value.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        })
    })
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

/// A form with a `csrf_token` field, checked by [`CsrfForm`]:
/// `csrf_form!(ProfileForm { name: String });` declares the struct (with
/// `FromForm`) and its [`CsrfProtected`] impl. Put the `csrf_token` input
/// first in the HTML form: the central check reads only the body's first
/// 512 bytes.
#[macro_export]
macro_rules! csrf_form {
    ($(#[$meta:meta])* $name:ident { $($field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, rocket::form::FromForm)]
        pub struct $name {
            csrf_token: Option<String>,
            $($field: $ty,)*
        }

        impl $crate::web::CsrfProtected for $name {
            fn csrf_token(&self) -> Option<&str> {
                self.csrf_token.as_deref()
            }
        }
    };
}

/// The macro by its path in this module, for Gatehouse's own routes (apps
/// use `gatehouse::csrf_form!`).
pub use csrf_form;

#[cfg(test)]
mod tests {
    use super::form_field_csrf;

    #[test]
    fn finds_the_csrf_field() {
        assert_eq!(
            form_field_csrf("a=1&csrf_token=x%2By+z&b=2").as_deref(),
            Some("x+y z")
        );
        assert_eq!(form_field_csrf("csrf_tokenx=1"), None);
        assert_eq!(form_field_csrf(""), None);
    }

    #[test]
    fn finds_the_csrf_member_of_json() {
        use super::json_field_csrf;
        let found = |body: &str| json_field_csrf(body.as_bytes());
        assert_eq!(
            found(r#"{"csrf_token": "abc-_1", "x": 1}"#).as_deref(),
            Some("abc-_1")
        );
        assert_eq!(found(r#"{"a":2,"csrf_token":"v"}"#).as_deref(), Some("v"));
        assert_eq!(found(r#"{"csrf_token":"a\"b"}"#), None);
        assert_eq!(found(r#"{"csrf_token":"cut"#), None);
        assert_eq!(found(r#"{"token":"v"}"#), None);
    }
}
