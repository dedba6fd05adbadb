//! Registration pages (`/register`), mounted only when `registration` is on
//! (otherwise the path is a 404). The rules are in `auth::register`.

use rocket::http::{CookieJar, Status};
use rocket::response::Redirect;
use rocket::{get, post, routes, Responder, Route, State};
use rocket_dyn_templates::Template;
use serde_json::json;

use crate::app::Gatehouse;
use crate::auth::redirect::{is_local_path, safe_next};
use crate::auth::register::{self, Registration};
use crate::auth::signin::{self, SignInError};
use crate::auth::CsrfForm;
use crate::csrf_form;
use crate::db::session::Device;
use crate::error::Error;
use crate::view::PageContext;

pub fn routes() -> Vec<Route> {
    routes![register_page, register_submit]
}

csrf_form!(RegisterForm { email: String, name: String, password: String, confirm_password: String, next: Option<String> });

#[get("/register?<next>")]
fn register_page(next: Option<&str>, page: PageContext) -> Template {
    page.render(
        "register",
        json!({ "form": { "email": "", "name": "" }, "errors": {}, "next": next.filter(|n| is_local_path(n)) }),
    )
}

#[derive(Responder)]
enum RegisterOutcome {
    SignedIn(Redirect),
    Refused((Status, Template)),
}

#[post("/register", data = "<form>")]
async fn register_submit(
    form: CsrfForm<RegisterForm>,
    app: &State<Gatehouse>,
    jar: &CookieJar<'_>,
    device: Device,
    page: PageContext,
) -> Result<RegisterOutcome, Error> {
    let form = form.into_inner();
    let next = form.next.clone().filter(|n| is_local_path(n));
    let refused = |status: Status, errors: serde_json::Value, error: Option<String>| {
        RegisterOutcome::Refused((
            status,
            page.render(
                "register",
                json!({
                    "form": { "email": form.email.trim(), "name": form.name },
                    "errors": errors, "error": error, "next": next,
                }),
            ),
        ))
    };
    let registration = Registration {
        email: form.email.clone(),
        name: form.name.clone(),
        password: form.password.clone(),
        confirm_password: form.confirm_password.clone(),
    };
    let valid = match registration.validate(app.config.password.min_length) {
        Ok(valid) => valid,
        Err(errors) => return Ok(refused(Status::UnprocessableEntity, errors.to_map().into(), None)),
    };
    match register::register(app, valid, device).await {
        Ok(signed_in) => {
            signin::set_cookies(app, jar, &signed_in);
            Ok(RegisterOutcome::SignedIn(Redirect::to(
                safe_next(form.next.as_deref()).to_owned(),
            )))
        }
        Err(SignInError::Other(e)) => Err(e),
        Err(e) => {
            let status = match e {
                SignInError::RateLimited => Status::TooManyRequests,
                _ => Status::Unauthorized,
            };
            Ok(refused(status, json!({}), Some(e.to_string())))
        }
    }
}
