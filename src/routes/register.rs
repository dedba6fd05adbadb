//! Registration pages, mounted only when `registration` is on (otherwise
//! the paths are 404s): `/register` asks for an email and mails a link;
//! `/register/confirm` (the link) makes the account. The rules are in
//! `auth::register`.

use rocket::http::{CookieJar, Status};
use rocket::response::Redirect;
use rocket::{get, post, routes, Responder, Route, State};
use serde_json::{json, Value};

use crate::db::session::Device;
use crate::domain::Email;
use crate::error::Error;
use crate::services::register::{self, ConfirmError, Registration};
use crate::services::signin::SignInError;
use crate::state::Gatehouse;
use crate::web::csrf::csrf_form;
use crate::web::page::{Page, PageContext, WithToken};
use crate::web::redirect::{is_local_path, safe_next};
use crate::web::{cookies, CsrfForm};

pub fn routes() -> Vec<Route> {
    routes![register_page, register_submit, confirm_page, confirm_submit]
}

csrf_form!(RegisterForm { email: String, next: Option<String> });
csrf_form!(ConfirmForm {
    token: String,
    name: String,
    password: String,
    confirm_password: String
});

/// Shown for a link that is unknown, used or expired.
const LINK_INVALID: &str = "This link has expired or has already been used. Ask for a new one below.";
/// Shown when mail can't be sent: the same whether the address has an
/// account or not.
const MAIL_FAILED: &str = "We could not send the mail just now. Please try again in a few minutes.";

#[get("/register?<next>")]
fn register_page(next: Option<&str>, page: PageContext) -> Page {
    page.render(
        "register",
        json!({ "email": "", "errors": {}, "next": next.filter(|n| is_local_path(n)) }),
    )
}

#[post("/register", data = "<form>")]
async fn register_submit(
    form: CsrfForm<RegisterForm>,
    app: &State<Gatehouse>,
    device: Device,
    page: PageContext,
) -> Result<(Status, Page), Error> {
    let form = form.into_inner();
    let next = form.next.filter(|n| is_local_path(n));
    let typed = form.email.trim().to_owned();
    let form_page = |status: Status, errors: Value, error: Option<&str>| {
        (
            status,
            page.render(
                "register",
                json!({ "email": typed, "errors": errors, "error": error, "next": next }),
            ),
        )
    };
    let email = match Email::parse(&form.email) {
        Ok(email) => email,
        Err(message) => {
            return Ok(form_page(
                Status::UnprocessableEntity,
                json!({ "email": message }),
                None,
            ))
        }
    };
    match register::request(app, email.clone(), next.clone(), device).await {
        Ok(()) => Ok((
            Status::Ok,
            page.render(
                "register_sent",
                json!({
                    "email": email.as_str(),
                    "expires": register::lifetime_words(app.config.registration_link_expires),
                    "next": next,
                }),
            ),
        )),
        Err(SignInError::RateLimited) => Ok(form_page(
            Status::TooManyRequests,
            json!({}),
            Some(&SignInError::RateLimited.to_string()),
        )),
        Err(SignInError::Other(Error::Mail(cause))) => {
            log::error!("registration mail to {email} not sent: {cause}");
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

fn link_invalid(page: &PageContext) -> WithToken {
    WithToken::new(
        Status::NotFound,
        page.render(
            "register",
            json!({ "email": "", "errors": {}, "error": LINK_INVALID }),
        ),
    )
}

fn email_taken(page: &PageContext) -> WithToken {
    WithToken::new(
        Status::Conflict,
        page.render(
            "error",
            json!({
                "status": 409,
                "title": "This address already has an account",
                "message": "An account was made with this email address after the link was sent. Sign in with it instead.",
            }),
        ),
    )
}

#[get("/register/confirm?<token>")]
async fn confirm_page(
    token: Option<&str>,
    app: &State<Gatehouse>,
    page: PageContext,
) -> Result<WithToken, Error> {
    let token = token.unwrap_or_default();
    Ok(match register::pending(app, token).await {
        Ok(Some(pending)) => WithToken::new(
            Status::Ok,
            page.render(
                "register_confirm",
                json!({ "email": pending.email, "token": token, "name": "", "errors": {} }),
            ),
        ),
        Ok(None) => link_invalid(&page),
        Err(Error::EmailTaken) => email_taken(&page),
        Err(e) => return Err(e),
    })
}

#[derive(Responder)]
enum ConfirmOutcome {
    Page(WithToken),
    SignedIn(Redirect),
}

#[post("/register/confirm", data = "<form>")]
async fn confirm_submit(
    form: CsrfForm<ConfirmForm>,
    app: &State<Gatehouse>,
    jar: &CookieJar<'_>,
    device: Device,
    page: PageContext,
) -> Result<ConfirmOutcome, Error> {
    let form = form.into_inner();
    let registration = Registration {
        name: form.name.clone(),
        password: form.password,
        confirm_password: form.confirm_password,
    };
    let refused = match register::confirm(app, &form.token, registration, device).await {
        Ok(registered) => {
            cookies::set_signed_in(jar, &app.config.jwt, &registered.signed_in);
            return Ok(ConfirmOutcome::SignedIn(Redirect::to(
                safe_next(registered.next.as_deref()).to_owned(),
            )));
        }
        Err(ConfirmError::LinkInvalid) => link_invalid(&page),
        Err(ConfirmError::EmailTaken) => email_taken(&page),
        // The form again, with the name kept.
        Err(ConfirmError::Fields { email, errors }) => WithToken::new(
            Status::UnprocessableEntity,
            page.render(
                "register_confirm",
                json!({
                    "email": email, "token": form.token,
                    "name": form.name.trim(), "errors": errors.to_map(),
                }),
            ),
        ),
        Err(ConfirmError::RateLimited) => WithToken::new(
            Status::TooManyRequests,
            page.render(
                "error",
                json!({
                    "status": 429, "title": "Too many attempts",
                    "message": SignInError::RateLimited.to_string(),
                }),
            ),
        ),
        Err(ConfirmError::Other(e)) => return Err(e),
    };
    Ok(ConfirmOutcome::Page(refused))
}
