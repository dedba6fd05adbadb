//! A forgotten password, when `password_reset` is on (otherwise every path
//! here is a 404): `/password/forgot` asks for an email and mails a link;
//! `/password/reset` (the link) sets a new password and signs in. The same
//! as JSON under the API prefix. The rules are in `services::password_reset`.

use rocket::http::{CookieJar, Status};
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};
use rocket::response::{Flash, Redirect};
use rocket::serde::json::Json;
use rocket::{get, post, routes, Responder, Route, State};
use serde::Deserialize;
use serde_json::{json, Value};

use super::api::TokenPair;
use super::api_views::Done;
use crate::db::session::Device;
use crate::domain::Email;
use crate::error::Error;
use crate::services::password_reset::{self, NewPassword, ResetError};
use crate::services::register::lifetime_words;
use crate::services::signin::{PasswordSignIn, SignInError};
use crate::services::two_factor;
use crate::state::Gatehouse;
use crate::web::csrf::{csrf_form, BrowserBinding};
use crate::web::json::{ApiError, ApiResult, CodeRequired};
use crate::web::json_body::JsonBody;
use crate::web::page::{Page, PageContext, WithToken};
use crate::web::redirect::{is_local_path, safe_next};
use crate::web::{cookies, CsrfForm};

/// The pages, mounted at `/`.
pub fn routes() -> Vec<Route> {
    routes![forgot_page, forgot_submit, reset_page, reset_submit]
}

/// The JSON routes, mounted at the API prefix.
pub fn api_routes() -> Vec<Route> {
    routes![api_forgot, api_reset]
}

/// Present when `password_reset` is on; off, it forwards (to a 404), before
/// any other guard or the form is read.
struct ResetOn;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ResetOn {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        match req.rocket().state::<Gatehouse>() {
            Some(app) if app.config.password_reset => Outcome::Success(ResetOn),
            _ => Outcome::Forward(Status::NotFound),
        }
    }
}

csrf_form!(ForgotForm { email: String, next: Option<String> });
csrf_form!(ResetForm {
    token: String,
    password: String,
    confirm_password: String
});

/// Shown for a link that is unknown, used or expired.
const LINK_INVALID: &str = "This link has expired or has already been used. Ask for a new one below.";
/// Shown when mail can't be sent: the same whatever the address.
const MAIL_FAILED: &str = "We could not send the mail just now. Please try again in a few minutes.";

#[get("/password/forgot?<next>")]
fn forgot_page(_on: ResetOn, next: Option<&str>, page: PageContext) -> Page {
    page.render(
        "password_forgot",
        json!({ "email": "", "errors": {}, "next": next.filter(|n| is_local_path(n)) }),
    )
}

#[post("/password/forgot", data = "<form>")]
async fn forgot_submit(
    _on: ResetOn,
    form: CsrfForm<ForgotForm>,
    app: &State<Gatehouse>,
    device: Device,
    page: PageContext,
) -> Result<(Status, Page), Error> {
    let form = form.into_inner();
    let next = form.next.filter(|n| is_local_path(n));
    let typed = form.email.trim().to_owned();
    let form_page = |status: Status, errors: Value, error: Option<&str>| {
        let context = json!({ "email": typed, "errors": errors, "error": error, "next": next });
        (status, page.render("password_forgot", context))
    };
    let email = match Email::parse(&form.email) {
        Ok(email) => email,
        Err(message) => {
            let errors = json!({ "email": message });
            return Ok(form_page(Status::UnprocessableEntity, errors, None));
        }
    };
    match password_reset::request(app, email.clone(), next.clone(), device).await {
        Ok(()) => {
            let expires = lifetime_words(app.config.password_reset_expires);
            let context = json!({ "email": email.as_str(), "expires": expires, "next": next });
            Ok((Status::Ok, page.render("password_forgot_sent", context)))
        }
        Err(SignInError::RateLimited) => {
            let message = SignInError::RateLimited.to_string();
            Ok(form_page(Status::TooManyRequests, json!({}), Some(&message)))
        }
        Err(SignInError::Other(Error::Mail(cause))) => {
            log::error!("password reset mail to {email} not sent: {cause}");
            Ok(form_page(
                Status::ServiceUnavailable,
                json!({}),
                Some(MAIL_FAILED),
            ))
        }
        Err(SignInError::Other(e)) => Err(e),
        Err(e) => Err(Error::Invalid(e.to_string())),
    }
}

/// What a refused link or form shows: the form again with its errors, or
/// why the link can't be used.
fn refused(page: &PageContext, token: &str, error: ResetError) -> Result<WithToken, Error> {
    let message = |status: Status, title: &str, message: String| {
        let context = json!({ "status": status.code, "title": title, "message": message });
        WithToken::new(status, page.render("error", context))
    };
    Ok(match error {
        ResetError::LinkInvalid => {
            let context = json!({ "email": "", "errors": {}, "error": LINK_INVALID });
            WithToken::new(Status::NotFound, page.render("password_forgot", context))
        }
        ResetError::Disabled => message(
            Status::Forbidden,
            "This account is disabled",
            SignInError::Disabled.to_string(),
        ),
        ResetError::RateLimited => message(
            Status::TooManyRequests,
            "Too many attempts",
            SignInError::RateLimited.to_string(),
        ),
        ResetError::Fields { email, errors } => {
            let context = json!({ "email": email, "token": token, "errors": errors.to_map() });
            WithToken::new(
                Status::UnprocessableEntity,
                page.render("password_reset", context),
            )
        }
        ResetError::Other(e) => return Err(e),
    })
}

#[get("/password/reset?<token>")]
async fn reset_page(
    _on: ResetOn,
    token: Option<&str>,
    app: &State<Gatehouse>,
    page: PageContext,
) -> Result<WithToken, Error> {
    let token = token.unwrap_or_default();
    match password_reset::pending(app, token).await {
        Ok(row) => Ok(WithToken::new(
            Status::Ok,
            page.render(
                "password_reset",
                json!({ "email": row.email, "token": token, "errors": {} }),
            ),
        )),
        Err(e) => refused(&page, token, e),
    }
}

#[derive(Responder)]
enum ResetOutcome {
    Page(WithToken),
    SignedIn(Redirect),
    /// Two-factor sign-in is on: the code step comes next.
    CodeRequired(Flash<Redirect>),
}

#[post("/password/reset", data = "<form>")]
async fn reset_submit(
    _on: ResetOn,
    form: CsrfForm<ResetForm>,
    app: &State<Gatehouse>,
    jar: &CookieJar<'_>,
    device: Device,
    page: PageContext,
    browser: BrowserBinding,
) -> Result<ResetOutcome, Error> {
    let form = form.into_inner();
    let new = NewPassword {
        password: form.password,
        confirm_password: form.confirm_password,
    };
    match password_reset::reset(app, &form.token, new, device, false).await {
        Ok(done) => {
            let to = safe_next(done.next.as_deref()).to_owned();
            match done.signed_in {
                PasswordSignIn::SignedIn(signed_in) => {
                    cookies::set_signed_in(jar, &app.config.jwt, &signed_in);
                    Ok(ResetOutcome::SignedIn(Redirect::to(to)))
                }
                PasswordSignIn::CodeRequired { user_id, remember } => {
                    let bind = Some(browser.0.as_str());
                    let token = two_factor::pending_token(app, user_id, remember, Some(to), bind)?;
                    let lifetime = app.config.two_factor.pending_expires as i64;
                    cookies::set_pending(jar, &app.config.jwt, token, lifetime);
                    let message =
                        "Your new password is set. Enter a code from your authenticator app to sign in.";
                    Ok(ResetOutcome::CodeRequired(Flash::success(
                        Redirect::to("/login/two-factor"),
                        message,
                    )))
                }
            }
        }
        Err(e) => Ok(ResetOutcome::Page(refused(&page, &form.token, e)?)),
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ForgotBody {
    email: String,
}

/// `{"email"}` -> 202, whatever the address (a link or a note is mailed).
#[utoipa::path(tag = "password", request_body = ForgotBody, responses((status = 202, description = "A link or a note is on its way, whatever the address", body = Done)), security(()))]
#[post("/password/forgot", data = "<body>")]
async fn api_forgot(
    _on: ResetOn,
    body: JsonBody<ForgotBody>,
    app: &State<Gatehouse>,
    device: Device,
) -> ApiResult<(Status, Json<Done>)> {
    let email = Email::parse(&body.email)
        .map_err(|m| ApiError::new(Status::UnprocessableEntity, format!("email: {m}")))?;
    password_reset::request(app, email, None, device).await?;
    let msg = "If the address has an account, a link to reset its password is on its way";
    Ok((Status::Accepted, Json(Done { msg })))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ResetBody {
    token: String,
    new_password: String,
}

/// `{"token", "new_password"}` -> the tokens of `/login`: the password is
/// set, every other session signed out, and a new one started.
#[utoipa::path(tag = "password", request_body = ResetBody, responses((status = 200, description = "The password is set and a new session started", body = TokenPair)), security(()))]
#[post("/password/reset", data = "<body>")]
async fn api_reset(
    _on: ResetOn,
    body: JsonBody<ResetBody>,
    app: &State<Gatehouse>,
    device: Device,
) -> ApiResult<Result<Json<TokenPair>, CodeRequired>> {
    let body = body.into_inner();
    let new = NewPassword {
        confirm_password: body.new_password.clone(),
        password: body.new_password,
    };
    match password_reset::reset(app, &body.token, new, device, true).await {
        Ok(done) => match done.signed_in {
            PasswordSignIn::SignedIn(s) => Ok(Ok(Json(TokenPair::new(app, s.token, s.refresh_token)))),
            // Two-factor sign-in is on: the answer of `/login` with it on.
            PasswordSignIn::CodeRequired { user_id, remember } => {
                let token = two_factor::pending_token(app, user_id, remember, None, None)?;
                Ok(Err(CodeRequired::new(Some(token))))
            }
        },
        Err(ResetError::Fields { errors, .. }) => {
            let message = errors.get("password").unwrap_or("is not allowed");
            let description = format!("new_password: {message}");
            Err(ApiError::new(Status::UnprocessableEntity, description))
        }
        Err(e) => Err(e.into()),
    }
}
