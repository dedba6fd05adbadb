//! The one JSON error of every API handler and catcher: Flask-JWT's body
//! (`error`, `description`, `status_code`) with the right status,
//! `WWW-Authenticate` on 401 and `Retry-After` on 429. Handlers return
//! [`ApiResult`]; the service errors convert with `?`.

use rocket::http::{Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use rocket::serde::json::Json;
use serde::Serialize;

#[cfg(feature = "google")]
use crate::auth::oidc::OidcError;
use crate::auth::AuthFailure;
use crate::error::Error;
use crate::services::password_reset::ResetError;
use crate::services::signin::{ChangePasswordError, SignInError};
use crate::state::Gatehouse;
use crate::web::deny;

/// Flask-JWT's error body.
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    pub error: String,
    pub description: String,
    pub status_code: u16,
}

/// Whether the client wants JSON rather than a page: API paths, Flask-JWT's
/// `/auth`, or an `Accept` or `Content-Type` asking for JSON.
pub fn wants_json(req: &Request<'_>) -> bool {
    // A request refused before routing keeps its original path.
    let original = deny::original(req).map(|o| o.uri.split('?').next().unwrap_or("").to_owned());
    let path = original.as_deref().unwrap_or(req.uri().path().as_str());
    let (api, auth) = req
        .rocket()
        .state::<Gatehouse>()
        .map(|app| (app.config.api_prefix.as_str(), app.config.auth_url_rule.as_str()))
        .unwrap_or(("/api/v1", "/auth"));
    path.starts_with("/api/")
        || path == api
        || path.starts_with(&format!("{}/", api.trim_end_matches('/')))
        || path == auth
        || req.accept().is_some_and(|a| a.preferred().is_json())
        || req.content_type().is_some_and(|ct| ct.is_json())
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
        };
        let mut res = Response::build_from(Json(body).respond_to(req)?);
        res.status(self.status);
        if let Some(seconds) = retry_after(self.status) {
            res.header(Header::new("Retry-After", seconds));
        }
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

/// A password sign-in that needs its second factor: 401 in Flask-JWT's
/// shape, with the `mfa_token` to send with the code to
/// `POST <api>/login/two-factor`.
#[derive(Debug, Serialize)]
pub struct CodeRequired {
    pub error: &'static str,
    pub description: &'static str,
    pub status_code: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mfa_token: Option<String>,
}

impl CodeRequired {
    const DESCRIPTION: &'static str =
        "This account signs in with a two-factor code: send it with the mfa_token to /login/two-factor";

    pub fn new(mfa_token: Option<String>) -> Self {
        CodeRequired {
            error: CODE_REQUIRED,
            description: Self::DESCRIPTION,
            status_code: 401,
            mfa_token,
        }
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
        Response::build_from(Json(self).respond_to(req)?)
            .status(Status::Unauthorized)
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
