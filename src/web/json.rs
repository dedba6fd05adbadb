//! The JSON error answer: Flask-JWT's body (`error`, `description`,
//! `status_code`) with the right status, `WWW-Authenticate` on 401 and
//! `Retry-After` on 429.

use rocket::http::{Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use rocket::serde::json::Json;
use serde::Serialize;

use crate::auth::AuthFailure;
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

/// A JSON error response with the right status and, for 401,
/// `WWW-Authenticate`.
pub struct JsonError {
    pub status: Status,
    pub error: &'static str,
    pub description: String,
    pub code: Option<&'static str>,
}

impl<'r> Responder<'r, 'static> for JsonError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let body = ErrorBody {
            error: self.error.to_owned(),
            description: self.description.clone(),
            status_code: self.status.code,
        };
        let mut res = Response::build_from(Json(body).respond_to(req)?);
        res.status(self.status);
        if self.status == Status::TooManyRequests {
            res.header(Header::new("Retry-After", "60"));
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

impl JsonError {
    /// The error for a refused token.
    pub fn from_failure(failure: AuthFailure) -> Self {
        let status = failure.status();
        JsonError {
            status,
            error: match status.code {
                401 => "Authorization Required",
                403 => "Forbidden",
                _ => "Internal Server Error",
            },
            description: failure.description().to_owned(),
            code: Some(failure.code()),
        }
    }
}
