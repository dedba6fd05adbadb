//! The one JSON error of every API handler and catcher: Flask-JWT's body
//! (`error`, `description`, `status_code`), or Flask-JWT-Extended's
//! (`msg`) with `jwt.error_format = "flask-jwt-extended"`, with the right
//! status, `WWW-Authenticate` on 401 and `Retry-After` on 429. Handlers
//! return [`ApiResult`]; the service errors convert with `?`.

use rocket::http::{Header, MediaType, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use rocket::serde::json::Json;
use serde::Serialize;
use serde_json::{Map, Value};

#[cfg(feature = "google")]
use crate::auth::oidc::OidcError;
use crate::auth::AuthFailure;
use crate::config::ErrorFormat;
use crate::error::Error;
use crate::services::password_reset::ResetError;
use crate::services::signin::{ChangePasswordError, SignInError};
use crate::state::Gatehouse;
use crate::web::deny;

/// Flask-JWT's error body, with any `extra` fields (`mfa_token`) beside.
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    pub error: String,
    pub description: String,
    pub status_code: u16,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Flask-JWT-Extended's error body: the description as `msg`.
#[derive(Serialize)]
struct MsgBody<'a> {
    msg: &'a str,
    #[serde(flatten)]
    extra: &'a Map<String, Value>,
}

/// Renders a JSON error in the configured `jwt.error_format`, with its
/// status and `Retry-After`; callers add `WWW-Authenticate`.
pub fn error_json(req: &Request<'_>, body: ErrorBody) -> response::Result<'static> {
    let status = Status::from_code(body.status_code).unwrap_or(Status::InternalServerError);
    let format = req
        .rocket()
        .state::<Gatehouse>()
        .map(|app| app.config.jwt.error_format)
        .unwrap_or_default();
    let json = match format {
        ErrorFormat::FlaskJwt => serde_json::to_value(&body),
        ErrorFormat::FlaskJwtExtended => serde_json::to_value(MsgBody {
            msg: &body.description,
            extra: &body.extra,
        }),
    }
    .map_err(|_| Status::InternalServerError)?;
    let mut res = Response::build_from(Json(json).respond_to(req)?);
    res.status(status);
    if let Some(seconds) = retry_after(status) {
        res.header(Header::new("Retry-After", seconds));
    }
    res.ok()
}

/// Whether the client wants JSON rather than a page: API paths, Flask-JWT's
/// `/auth`, a `Content-Type` of JSON, an `Accept` preferring JSON to HTML,
/// or a token header (`Authorization` other than Basic, Digest, Negotiate or
/// NTLM, or the configured `jwt.header_name`) unless `Accept` prefers HTML.
pub fn wants_json(req: &Request<'_>) -> bool {
    // A request refused before routing keeps its original path.
    let original = deny::original(req).map(|o| o.uri.split('?').next().unwrap_or("").to_owned());
    let path = original.as_deref().unwrap_or(req.uri().path().as_str());
    let app = req.rocket().state::<Gatehouse>();
    let (api, auth, header) = app
        .map(|app| {
            let c = &app.config;
            (
                c.api_prefix.as_str(),
                c.auth_url_rule.as_str(),
                c.jwt.header_name.as_str(),
            )
        })
        .unwrap_or(("/api/v1", "/auth", "Authorization"));
    let (json, html) = (
        accept_rank(req, MediaType::is_json),
        accept_rank(req, MediaType::is_html),
    );
    path.starts_with("/api/")
        || path == api
        || path.starts_with(&format!("{}/", api.trim_end_matches('/')))
        || path == auth
        || req.content_type().is_some_and(|ct| ct.is_json())
        || json > html
        || (sends_token(req, header) && html <= json)
}

/// How much `Accept` asks for a kind of media type: its best q-weight, an
/// earlier listing winning ties; `None` when not asked for (or `q=0`).
fn accept_rank(req: &Request<'_>, kind: fn(&MediaType) -> bool) -> Option<(u32, i64)> {
    req.accept()?
        .iter()
        .enumerate()
        .filter(|(_, m)| kind(m.media_type()))
        .map(|(i, m)| ((m.weight_or(1.0).clamp(0.0, 1.0) * 1000.0) as u32, -(i as i64)))
        .filter(|(q, _)| *q > 0)
        .max()
}

/// Whether the request carries a token header: `Authorization` with a
/// scheme other than a browser's own (Basic, Digest, Negotiate, NTLM), or
/// the configured token header.
fn sends_token(req: &Request<'_>, header: &str) -> bool {
    let browser_schemes = ["basic", "digest", "negotiate", "ntlm"];
    let token_like = |value: &str| {
        let scheme = value.split_whitespace().next().unwrap_or("").to_ascii_lowercase();
        !scheme.is_empty() && !browser_schemes.contains(&scheme.as_str())
    };
    req.headers().get("Authorization").any(token_like)
        || (!header.eq_ignore_ascii_case("Authorization")
            && req.headers().get(header).any(|v| !v.trim().is_empty()))
}

/// What an API handler returns.
pub type ApiResult<T> = Result<T, ApiError>;

/// A JSON error answer: a refusal the client can act on (its status,
/// Flask-JWT's `error` words, a description naming what is wrong and, for
/// a refused token, a code), or a server fault (`cause`), which is logged
/// and answered by the catcher without its details.
#[derive(Debug)]
pub struct ApiError {
    pub status: Status,
    pub error: &'static str,
    pub description: String,
    pub code: Option<&'static str>,
    pub cause: Option<Error>,
}

impl ApiError {
    /// A refusal with the usual words for its status.
    pub fn new(status: Status, description: impl Into<String>) -> Self {
        ApiError {
            status,
            error: words(status),
            description: description.into(),
            code: None,
            cause: None,
        }
    }

    /// The same refusal with a machine-readable code.
    pub fn with_code(self, code: &'static str) -> Self {
        ApiError {
            code: Some(code),
            ..self
        }
    }

    /// The same refusal under other `error` words (Flask-JWT answers a bad
    /// sign-in with 401 and "Bad Request").
    pub fn with_words(self, error: &'static str) -> Self {
        ApiError { error, ..self }
    }
}

/// When to try again: a minute after the per-IP limit (429), a few seconds
/// when the server is busy (503).
pub fn retry_after(status: Status) -> Option<&'static str> {
    match status.code {
        429 => Some("60"),
        503 => Some("5"),
        _ => None,
    }
}

/// Flask-JWT's `error` words for a status.
fn words(status: Status) -> &'static str {
    match status.code {
        401 => "Authorization Required",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        code if code >= 500 => "Internal Server Error",
        _ => "Bad Request",
    }
}

impl<'r> Responder<'r, 'static> for ApiError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        if let Some(cause) = self.cause {
            // Logged by the error's responder; the catcher answers.
            return cause.respond_to(req);
        }
        let body = ErrorBody {
            error: self.error.to_owned(),
            description: self.description.clone(),
            status_code: self.status.code,
            extra: Map::new(),
        };
        let mut res = Response::build_from(error_json(req, body)?);
        if self.status == Status::Unauthorized {
            // RFC 6750: no error code when no token was sent at all.
            let value = match self.code {
                Some(code) if code != AuthFailure::Missing.code() => format!(
                    "Bearer realm=\"gatehouse\", error=\"invalid_token\", error_description=\"{}\"",
                    self.description.replace('"', "'")
                ),
                _ => "Bearer realm=\"gatehouse\"".to_owned(),
            };
            res.header(Header::new("WWW-Authenticate", value));
        }
        res.ok()
    }
}

/// The `error` words of a sign-in that needs its two-factor code.
pub const CODE_REQUIRED: &str = "Two-factor code required";

/// A password sign-in that needs its second factor: 401 in the configured
/// error shape, with the `mfa_token` to send with the code to
/// `POST <api>/login/two-factor`.
#[derive(Debug)]
pub struct CodeRequired {
    pub mfa_token: Option<String>,
}

impl CodeRequired {
    const DESCRIPTION: &'static str =
        "This account signs in with a two-factor code: send it with the mfa_token to /login/two-factor";

    pub fn new(mfa_token: Option<String>) -> Self {
        CodeRequired { mfa_token }
    }

    /// The same refusal without a token (Flask-JWT's `/auth`, which has no
    /// second step).
    pub fn refusal() -> ApiError {
        ApiError::new(Status::Unauthorized, Self::DESCRIPTION)
            .with_words(CODE_REQUIRED)
            .with_code("two_factor_required")
    }
}

impl<'r> Responder<'r, 'static> for CodeRequired {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let mut extra = Map::new();
        if let Some(token) = self.mfa_token {
            extra.insert("mfa_token".into(), Value::String(token));
        }
        let body = ErrorBody {
            error: CODE_REQUIRED.to_owned(),
            description: Self::DESCRIPTION.to_owned(),
            status_code: Status::Unauthorized.code,
            extra,
        };
        Response::build_from(error_json(req, body)?)
            .header(Header::new("WWW-Authenticate", "Bearer realm=\"gatehouse\""))
            .ok()
    }
}

/// Bad input, a missing row or a taken email is the client's to fix; any
/// other error is a server fault.
impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match &e {
            Error::NotFound => ApiError::new(Status::NotFound, "The requested resource was not found"),
            Error::EmailTaken | Error::Invalid(_) | Error::Fields(_) => {
                ApiError::new(e.status(), e.to_string())
            }
            // Load, not a fault: the client should try again shortly.
            Error::Busy => ApiError::new(e.status(), e.to_string()).with_code("busy"),
            _ => ApiError {
                cause: Some(e),
                ..ApiError::new(Status::InternalServerError, "")
            },
        }
    }
}

/// A refused token.
impl From<AuthFailure> for ApiError {
    fn from(failure: AuthFailure) -> Self {
        ApiError::new(failure.status(), failure.description()).with_code(failure.code())
    }
}

/// A refused sign-in, in Flask-JWT's words.
impl From<SignInError> for ApiError {
    fn from(error: SignInError) -> Self {
        match error {
            SignInError::Other(e) => e.into(),
            SignInError::InvalidCredentials => ApiError::new(Status::Unauthorized, "Invalid credentials")
                .with_words("Bad Request")
                .with_code("invalid_credentials"),
            SignInError::RateLimited => {
                ApiError::new(Status::TooManyRequests, error.to_string()).with_code("rate_limited")
            }
            SignInError::Disabled => ApiError::from(AuthFailure::Disabled).with_words("Bad Request"),
            SignInError::PasskeyRefused => {
                ApiError::new(Status::Unauthorized, error.to_string()).with_code("passkey_refused")
            }
            SignInError::WrongCode => ApiError::new(Status::Unauthorized, "Invalid two-factor code")
                .with_words(CODE_REQUIRED)
                .with_code("invalid_code"),
        }
    }
}

impl From<ChangePasswordError> for ApiError {
    fn from(error: ChangePasswordError) -> Self {
        match error {
            ChangePasswordError::Other(e) => e.into(),
            ChangePasswordError::TooManyAttempts => {
                ApiError::new(Status::TooManyRequests, error.to_string()).with_code("rate_limited")
            }
            ChangePasswordError::WrongPassword | ChangePasswordError::Policy(_) => {
                ApiError::new(Status::UnprocessableEntity, error.to_string())
            }
        }
    }
}

/// A refused password reset. The password's errors are named by the
/// route, which knows its body's field names.
impl From<ResetError> for ApiError {
    fn from(error: ResetError) -> Self {
        match error {
            ResetError::Other(e) => e.into(),
            ResetError::LinkInvalid => ApiError::new(
                Status::BadRequest,
                "The reset token is unknown, used or expired; ask for a new one",
            ),
            ResetError::Disabled => ApiError::new(Status::Forbidden, SignInError::Disabled.to_string()),
            ResetError::RateLimited => {
                ApiError::new(Status::TooManyRequests, SignInError::RateLimited.to_string())
                    .with_code("rate_limited")
            }
            ResetError::Fields { errors, .. } => {
                ApiError::new(Status::UnprocessableEntity, errors.to_string())
            }
        }
    }
}

/// A refused Google sign-in, with its code; a server fault keeps its cause
/// out of the answer.
#[cfg(feature = "google")]
impl From<&OidcError> for ApiError {
    fn from(error: &OidcError) -> Self {
        ApiError::new(error.status(), error.to_string()).with_code(error.code())
    }
}
