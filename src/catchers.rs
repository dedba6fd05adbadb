//! What a refused or failed request gets: browsers a page in the site's
//! layout (or, for 401, the sign-in page), JSON clients the JSON error
//! (`jwt.error_format`) with `WWW-Authenticate`.

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use rocket::http::{Method, Status};
use rocket::request::Request;
use rocket::response::{self, Flash, Redirect, Responder, Response};
use rocket::{catch, catchers, Catcher};
use serde_json::json;

use crate::auth::AuthFailure;
use crate::web::guards::failure_reason;
use crate::web::json::{retry_after, wants_json, ApiError};
use crate::web::page::{Page, PageContext};

pub fn catchers() -> Vec<Catcher> {
    catchers![
        unauthorized,
        forbidden,
        not_found,
        unprocessable,
        internal,
        unavailable,
        default
    ]
}

/// Either answer, by what the client accepts.
pub enum Caught {
    Json(ApiError),
    Page(Status, Page),
    Redirect(Redirect),
    Flash(Flash<Redirect>),
}

impl<'r> Responder<'r, 'static> for Caught {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        match self {
            Caught::Json(e) => e.respond_to(req),
            Caught::Page(status, t) => {
                let mut res = Response::build_from(t.respond_to(req)?);
                if let Some(seconds) = retry_after(status) {
                    res.raw_header("Retry-After", seconds);
                }
                res.status(status).ok()
            }
            Caught::Redirect(r) => r.respond_to(req),
            Caught::Flash(f) => f.respond_to(req),
        }
    }
}

const QUERY_VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'<')
    .add(b'>')
    .add(b'=')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// `/login?next=<this request's path and query>` (GET requests only: a
/// POST can't be replayed by a redirect).
pub fn login_url(req: &Request<'_>) -> String {
    let (method, next) = match crate::web::deny::original(req) {
        Some(original) => (original.method, original.uri),
        None => (req.method(), req.uri().to_string()),
    };
    if method != Method::Get {
        return "/login".into();
    }
    format!("/login?next={}", utf8_percent_encode(&next, QUERY_VALUE))
}

async fn page(req: &Request<'_>, status: Status, title: &str, message: &str) -> Page {
    let ctx = match req.guard::<PageContext>().await {
        rocket::outcome::Outcome::Success(ctx) => ctx,
        _ => unreachable!("PageContext always succeeds"),
    };
    ctx.render(
        "error",
        json!({ "status": status.code, "title": title, "message": message }),
    )
}

/// The JSON error for a status reaching a catcher (its `error` words are
/// [`ApiError`]'s), with the guard's reason for 401 and 403.
fn json_error(status: Status, reason: Option<AuthFailure>) -> Caught {
    let description = match (status.code, reason) {
        (401, r) => r.unwrap_or(AuthFailure::Missing).description(),
        (403, r) => r.unwrap_or(AuthFailure::Forbidden).description(),
        (404, _) => "The requested resource was not found",
        (422, _) => "The request body could not be understood",
        (503, _) => "The server is busy; try again in a few seconds",
        (code, _) if code >= 500 => "Something went wrong on our side",
        _ => status.reason().unwrap_or("Error"),
    };
    let error = ApiError::new(status, description);
    Caught::Json(match reason {
        Some(reason) => error.with_code(reason.code()),
        None => error,
    })
}

#[catch(401)]
async fn unauthorized(req: &Request<'_>) -> Caught {
    let reason = failure_reason(req);
    if wants_json(req) {
        return json_error(Status::Unauthorized, reason);
    }
    Caught::Redirect(Redirect::to(login_url(req)))
}

#[catch(403)]
async fn forbidden(req: &Request<'_>) -> Caught {
    let reason = failure_reason(req);
    if wants_json(req) {
        return json_error(Status::Forbidden, reason);
    }
    if reason == Some(AuthFailure::PasswordChangeRequired) {
        return Caught::Flash(Flash::error(
            Redirect::to("/account"),
            "Choose a new password to continue: an administrator set a temporary one for you.",
        ));
    }
    if reason == Some(AuthFailure::TwoFactorEnrollmentRequired) {
        return Caught::Flash(Flash::error(
            Redirect::to("/account/two-factor"),
            "Turn on two-factor sign-in to continue.",
        ));
    }
    let (title, message) = match reason {
        Some(AuthFailure::SecondFactorRequired) => (
            "Two-factor sign-in needed",
            "This page needs a sign-in with a second factor. Sign out, then sign in again with a passkey, or with your password and a two-factor code.",
        ),
        Some(AuthFailure::Csrf) => (
            "This form has expired",
            "The form was missing its security token or it no longer matched your session. Go back, reload the page and try again.",
        ),
        _ => ("Access denied", "You don't have permission to see this page."),
    };
    Caught::Page(
        Status::Forbidden,
        page(req, Status::Forbidden, title, message).await,
    )
}

#[catch(404)]
async fn not_found(req: &Request<'_>) -> Caught {
    if wants_json(req) {
        return json_error(Status::NotFound, None);
    }
    Caught::Page(
        Status::NotFound,
        page(
            req,
            Status::NotFound,
            "Page not found",
            "There is no page at this address.",
        )
        .await,
    )
}

#[catch(422)]
async fn unprocessable(req: &Request<'_>) -> Caught {
    if let Some(refused) = crate::web::json_body::refusal(req) {
        return Caught::Json(refused);
    }
    if wants_json(req) {
        return json_error(Status::UnprocessableEntity, None);
    }
    Caught::Page(
        Status::UnprocessableEntity,
        page(
            req,
            Status::UnprocessableEntity,
            "We couldn't read that form",
            "Some fields were missing or not in the expected format. Go back and try again.",
        )
        .await,
    )
}

#[catch(500)]
async fn internal(req: &Request<'_>) -> Caught {
    if wants_json(req) {
        return json_error(Status::InternalServerError, None);
    }
    Caught::Page(
        Status::InternalServerError,
        page(
            req,
            Status::InternalServerError,
            "Something went wrong",
            "The server hit a problem and has logged it. Please try again in a moment.",
        )
        .await,
    )
}

/// Busy (too many sign-ins at once) or a mail server that failed: try
/// again in a moment (`Retry-After`).
#[catch(503)]
async fn unavailable(req: &Request<'_>) -> Caught {
    if wants_json(req) {
        return json_error(Status::ServiceUnavailable, None);
    }
    Caught::Page(
        Status::ServiceUnavailable,
        page(
            req,
            Status::ServiceUnavailable,
            "The server is busy",
            "Too many requests need it at once. Wait a few seconds and try again.",
        )
        .await,
    )
}

#[catch(default)]
async fn default(status: Status, req: &Request<'_>) -> Caught {
    if let Some(refused) = crate::web::json_body::refusal(req) {
        return Caught::Json(refused);
    }
    if wants_json(req) {
        return json_error(status, None);
    }
    let title = status.reason().unwrap_or("Error");
    Caught::Page(
        status,
        page(req, status, title, "The request could not be completed.").await,
    )
}
