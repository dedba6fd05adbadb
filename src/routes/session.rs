//! The sign-in form and sign-out.

use rocket::http::{CookieJar, Header, Status};
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Responder, Route, State};
use serde_json::json;

use crate::auth::token::MfaClaims;
use crate::config::Passkeys;
use crate::db::session::Device;
use crate::error::Error;
use crate::services::signin::{self, PasswordSignIn, SignInError};
use crate::services::{passkey, two_factor};
use crate::state::Gatehouse;
use crate::web::csrf::{csrf_form, BrowserBinding, PENDING_GONE};
use crate::web::json::retry_after;
use crate::web::page::{Page, PageContext};
use crate::web::redirect::safe_next;
use crate::web::{cookies, CsrfForm, CurrentUser};

pub fn routes() -> Vec<Route> {
    routes![login_page, login, code_page, code, logout, logout_signed_out]
}

csrf_form!(LoginForm { email: String, password: String, remember: bool, next: Option<String> });
csrf_form!(CodeForm { code: String });

/// The provider's name for the "Sign in with ..." button, if one is set up.
fn google_provider(app: &Gatehouse) -> Option<&str> {
    app.config.google.as_ref().map(|g| g.provider_name.as_str())
}

/// The passkey area's data when passkeys are on: the relying party id and
/// origin the page's script checks it runs on.
fn passkey_area(app: &Gatehouse) -> serde_json::Value {
    match &app.config.passkeys {
        Passkeys::On(c) if passkey::enabled(app) => json!({
            "rp_id": c.rp_id,
            "origin": c.origin.origin().ascii_serialization(),
        }),
        _ => serde_json::Value::Null,
    }
}

#[get("/login?<next>")]
fn login_page(next: Option<&str>, page: PageContext, app: &State<Gatehouse>) -> Page {
    page.render(
        "login",
        json!({
            "next": next.filter(|n| crate::web::redirect::is_local_path(n)),
            "email": "",
            "google_provider": google_provider(app),
            "passkeys": passkey_area(app),
        }),
    )
}

/// What a sign-in attempt gets: the page asked for, or the form again with
/// the reason and the email kept.
#[derive(Responder)]
enum LoginOutcome {
    SignedIn(Redirect),
    Refused((Status, Page)),
    /// Too many sign-ins at once (503): the form again, and when to retry.
    Busy((Status, Page), Header<'static>),
}

/// The right password signs in, or, with two-factor sign-in on, leads to
/// the code page with the pending sign-in in a cookie of its own (no
/// session yet).
#[post("/login", data = "<form>")]
async fn login(
    form: CsrfForm<LoginForm>,
    app: &State<Gatehouse>,
    jar: &CookieJar<'_>,
    device: Device,
    page: PageContext,
    browser: BrowserBinding,
) -> Result<LoginOutcome, Error> {
    let form = form.into_inner();
    let password = form.password.clone();
    match signin::sign_in_with_password(app, &form.email, password, device, form.remember).await {
        Ok(PasswordSignIn::SignedIn(signed_in)) => {
            cookies::set_signed_in(jar, &app.config.jwt, &signed_in);
            Ok(LoginOutcome::SignedIn(Redirect::to(
                safe_next(form.next.as_deref()).to_owned(),
            )))
        }
        Ok(PasswordSignIn::CodeRequired { user_id, remember }) => {
            let next = Some(safe_next(form.next.as_deref()).to_owned());
            let token = two_factor::pending_token(app, user_id, remember, next, Some(browser.0.as_str()))?;
            let lifetime = app.config.two_factor.pending_expires as i64;
            cookies::set_pending(jar, &app.config.jwt, token, lifetime);
            Ok(LoginOutcome::SignedIn(Redirect::to("/login/two-factor")))
        }
        Err(SignInError::Other(Error::Busy)) => {
            let status = Status::ServiceUnavailable;
            let retry = Header::new("Retry-After", retry_after(status).unwrap_or("5"));
            let page = refused_page(&page, app, &form.kept(), &Error::Busy.to_string());
            Ok(LoginOutcome::Busy((status, page), retry))
        }
        Err(SignInError::Other(e)) => Err(e),
        Err(refused) => {
            let status = match refused {
                SignInError::RateLimited => Status::TooManyRequests,
                _ => Status::Unauthorized,
            };
            let page = refused_page(&page, app, &form.kept(), &refused.to_string());
            Ok(LoginOutcome::Refused((status, page)))
        }
    }
}

impl LoginForm {
    /// What the form shows again after a refusal: all but the password.
    fn kept(&self) -> serde_json::Value {
        json!({
            "email": self.email.trim(),
            "next": self.next.as_deref().filter(|n| crate::web::redirect::is_local_path(n)),
            "remember": self.remember,
        })
    }
}

/// The form again, with why and what was typed (but the password).
fn refused_page(page: &PageContext, app: &Gatehouse, kept: &serde_json::Value, error: &str) -> Page {
    let mut context = kept.clone();
    context["error"] = error.into();
    context["google_provider"] = google_provider(app).into();
    context["passkeys"] = passkey_area(app);
    page.render("login", context)
}

/// Back to the sign-in form, when the pending sign-in is gone or was made
/// in another browser.
fn start_again(jar: &CookieJar<'_>) -> Flash<Redirect> {
    cookies::clear_pending(jar);
    Flash::error(Redirect::to("/login"), PENDING_GONE)
}

/// The second step: one field for the code from the app (or a recovery
/// code).
#[get("/login/two-factor")]
async fn code_page(
    jar: &CookieJar<'_>,
    app: &State<Gatehouse>,
    browser: BrowserBinding,
    page: PageContext,
) -> Result<CodeOutcome, Error> {
    let pending = browser.pending_sign_in(app, jar);
    match pending {
        Some(pending) => Ok(CodeOutcome::Page(
            page.render("login_two_factor", code_view(app, &pending, None).await?),
        )),
        None => Ok(CodeOutcome::StartAgain(start_again(jar))),
    }
}

/// The code page's context: the error, if any, and the passkey area when
/// passkeys are on and the pending account has one.
async fn code_view(
    app: &Gatehouse,
    pending: &MfaClaims,
    error: Option<String>,
) -> Result<serde_json::Value, Error> {
    let has_passkey = match pending.user_id() {
        Some(id) if passkey::enabled(app) => passkey::has_passkey(app, id).await?,
        _ => false,
    };
    let mut context = json!({ "error": error });
    if has_passkey {
        context["passkey"] = passkey_area(app);
    }
    Ok(context)
}

/// What the code step gets: signed in, the code page again, or back to
/// the sign-in form.
#[derive(Responder)]
#[allow(clippy::large_enum_variant)] // one per response, moved once
enum CodeOutcome {
    Page(Page),
    SignedIn(Redirect),
    Refused((Status, Page)),
    StartAgain(Flash<Redirect>),
}

/// A right code (or an unused recovery code) starts the session; a wrong
/// one counts towards the account's lockout.
#[post("/login/two-factor", data = "<form>")]
async fn code(
    form: CsrfForm<CodeForm>,
    app: &State<Gatehouse>,
    jar: &CookieJar<'_>,
    browser: BrowserBinding,
    device: Device,
    page: PageContext,
) -> Result<CodeOutcome, Error> {
    let pending = browser.pending_sign_in(app, jar);
    let Some(pending) = pending else {
        return Ok(CodeOutcome::StartAgain(start_again(jar)));
    };
    match two_factor::finish_sign_in(app, &pending, &form.code, device).await {
        Ok(signed_in) => {
            cookies::clear_pending(jar);
            cookies::set_signed_in(jar, &app.config.jwt, &signed_in);
            let next = safe_next(pending.next.as_deref()).to_owned();
            Ok(CodeOutcome::SignedIn(Redirect::to(next)))
        }
        Err(SignInError::Other(e)) => Err(e),
        Err(e @ (SignInError::WrongCode | SignInError::RateLimited)) => {
            let status = match e {
                SignInError::RateLimited => Status::TooManyRequests,
                _ => Status::Unauthorized,
            };
            let page = page.render(
                "login_two_factor",
                code_view(app, &pending, Some(e.to_string())).await?,
            );
            Ok(CodeOutcome::Refused((status, page)))
        }
        Err(refused) => {
            cookies::clear_pending(jar);
            let page = refused_page(&page, app, &json!({}), &refused.to_string());
            Ok(CodeOutcome::Refused((Status::Unauthorized, page)))
        }
    }
}

/// Signs out. Only a POST with the CSRF value does (checked centrally for
/// cookie-authenticated writes: a failure is a 403), so a link or an image
/// can't sign anyone out. Without a session there is nothing to end.
#[post("/logout")]
async fn logout(
    user: CurrentUser,
    app: &State<Gatehouse>,
    jar: &CookieJar<'_>,
    device: Device,
) -> Result<Flash<Redirect>, Error> {
    signin::sign_out(app, &user.session, device).await?;
    cookies::clear(jar, &app.config.jwt);
    Ok(Flash::success(Redirect::to("/"), "You are signed out."))
}

#[post("/logout", rank = 2)]
fn logout_signed_out() -> Flash<Redirect> {
    Flash::success(Redirect::to("/"), "You are signed out.")
}
