//! Account self-service: profile, password, own sessions.

use rocket::http::{CookieJar, Status};
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, uri, Route, State};
use serde_json::{json, Value};

use crate::db::session::{Device, Session};
use crate::error::{Error, FieldErrors};
use crate::services::signin::{self, ChangePasswordError};
use crate::services::{account, passkey};
use crate::state::Gatehouse;
use crate::web::csrf::csrf_form;
use crate::web::page::{FormOutcome, Page, PageContext};
use crate::web::{cookies, CsrfForm, CurrentUser, FreshLogin};

pub fn routes() -> Vec<Route> {
    routes![
        account_page,
        update_profile,
        change_password,
        revoke_session,
        sign_out_everywhere
    ]
}

csrf_form!(ProfileForm { name: String });
csrf_form!(PasswordForm {
    current_password: String,
    new_password: String,
    confirm_password: String,
    sign_out_others: bool
});
csrf_form!(EmptyForm {});

/// The account page's own context: profile, sessions, freshness.
async fn account_view(app: &Gatehouse, user: &CurrentUser) -> Result<Value, Error> {
    let id = user.user.id;
    let idle = app.config.jwt.session_idle_timeout;
    let sessions = app
        .db
        .run(move |conn| Session::list_active(conn, id, idle))
        .await?;
    let sessions: Vec<_> = sessions
        .into_iter()
        .map(|s| {
            json!({
                "id": s.id,
                "user_agent": s.user_agent,
                "ip": s.ip,
                "method": s.method,
                "created_at": s.created_at,
                "last_used_at": s.last_used_at,
                "this_device": s.id == user.session.id,
            })
        })
        .collect();
    let passkeys = passkey::enabled(app);
    let passkey_count = if passkeys {
        passkey::count(app, user.user.id).await?
    } else {
        0
    };
    Ok(json!({
        "passkeys": passkeys,
        "account": {
            "passkeys": passkey_count,
            "name": user.user.name,
            "email": user.user.email,
            "role": user.user.role,
            "created_at": user.user.created_at,
            "google_linked": user.user.google_sub.is_some(),
            "has_password": user.user.password_hash.is_some(),
            "two_factor": user.user.two_factor_on(),
        },
        "sessions": sessions,
        "fresh": user.claims.fresh,
        "google_provider": app.config.google.as_ref().map(|g| g.provider_name.as_str()),
        "errors": {},
        "form": { "sign_out_others": true },
    }))
}

/// The account page again, with a form's errors next to its fields and
/// what was typed kept (passwords never are).
async fn invalid(
    app: &Gatehouse,
    user: &CurrentUser,
    page: &PageContext,
    errors: FieldErrors,
    form: Value,
) -> Result<FormOutcome, Error> {
    let mut view = account_view(app, user).await?;
    view["errors"] = Value::Object(errors.to_map());
    if let (Some(view_form), Value::Object(typed)) = (view["form"].as_object_mut(), form) {
        view_form.extend(typed);
    }
    Ok(FormOutcome::Invalid((
        Status::UnprocessableEntity,
        page.render("account", view),
    )))
}

#[get("/account")]
async fn account_page(user: CurrentUser, page: PageContext, app: &State<Gatehouse>) -> Result<Page, Error> {
    Ok(page.render("account", account_view(app, &user).await?))
}

#[post("/account/profile", data = "<form>")]
async fn update_profile(
    form: CsrfForm<ProfileForm>,
    user: CurrentUser,
    page: PageContext,
    app: &State<Gatehouse>,
) -> Result<FormOutcome, Error> {
    match account::set_name(app, user.user.id, &form.name).await {
        Err(Error::Fields(errors)) => {
            let kept = json!({ "name": form.name.trim() });
            return invalid(app, &user, &page, errors, kept).await;
        }
        other => other?,
    }
    Ok(FormOutcome::Done(Flash::success(
        Redirect::to(uri!(account_page)),
        "Your name is saved.",
    )))
}

/// Needs a fresh sign-in and the current password; by default signs out
/// every other session.
#[post("/account/password", data = "<form>")]
async fn change_password(
    form: CsrfForm<PasswordForm>,
    user: FreshLogin,
    page: PageContext,
    app: &State<Gatehouse>,
    device: Device,
) -> Result<FormOutcome, Error> {
    let form = form.into_inner();
    let kept = json!({ "sign_out_others": form.sign_out_others });
    let mut errors = FieldErrors::new();
    if form.new_password != form.confirm_password {
        errors.add("confirm_password", "The new passwords do not match.");
        return invalid(app, &user, &page, errors, kept).await;
    }
    let back = Redirect::to(uri!(account_page));
    match signin::change_password(
        app,
        &user.user,
        &user.session.id,
        form.current_password,
        form.new_password,
        form.sign_out_others,
        device,
    )
    .await
    {
        Ok(0) => Ok(FormOutcome::Done(Flash::success(
            back,
            "Your password is changed.",
        ))),
        Ok(n) => Ok(FormOutcome::Done(Flash::success(
            back,
            format!("Your password is changed; {n} other session(s) signed out."),
        ))),
        Err(ChangePasswordError::Other(e)) => Err(e),
        Err(e) => {
            let field = match e {
                ChangePasswordError::WrongPassword => "current_password",
                ChangePasswordError::Policy(_) => "new_password",
                _ => "password_form",
            };
            errors.add(field, e.to_string());
            invalid(app, &user, &page, errors, kept).await
        }
    }
}

#[post("/account/sessions/<id>/revoke", data = "<_form>")]
async fn revoke_session(
    id: &str,
    _form: CsrfForm<EmptyForm>,
    user: CurrentUser,
    app: &State<Gatehouse>,
    device: Device,
) -> Result<Flash<Redirect>, Error> {
    account::sign_out_session(app, user.user.id, id, device).await?;
    Ok(Flash::success(
        Redirect::to(uri!(account_page)),
        "That session is signed out.",
    ))
}

#[post("/account/sessions/revoke-all", data = "<_form>")]
async fn sign_out_everywhere(
    _form: CsrfForm<EmptyForm>,
    user: CurrentUser,
    app: &State<Gatehouse>,
    jar: &CookieJar<'_>,
    device: Device,
) -> Result<Flash<Redirect>, Error> {
    account::sign_out_everywhere(app, user.user.id, device).await?;
    cookies::clear(jar, &app.config.jwt);
    Ok(Flash::success(
        Redirect::to("/login"),
        "You are signed out everywhere.",
    ))
}
