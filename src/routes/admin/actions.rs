//! The admin forms' writes: each takes a fresh admin ([`Actor`]) and the
//! CSRF value, does what the admin JSON API does (`services::admin`),
//! audited, and answers with a redirect and a message, or the form again
//! with what was typed and what to correct.

use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::{post, routes, Route, State};
use serde_json::json;

use super::pages::edit_page;
use super::views::UserView;
use crate::error::Error;
use crate::services::admin::{self, Actor, Changes, InitialPassword, NewAccount};
use crate::services::passkey;
use crate::state::Gatehouse;
use crate::web::csrf::csrf_form;
use crate::web::page::{FormOutcome, Page, PageContext};
use crate::web::CsrfForm;

pub fn routes() -> Vec<Route> {
    routes![
        create_user,
        edit_user,
        set_disabled,
        unlock,
        reset_password,
        revoke_session,
        revoke_all_sessions,
        unlink_google,
        reset_two_factor,
        remove_passkey,
        delete_user
    ]
}

csrf_form!(EmptyForm {});
csrf_form!(DisableForm { disabled: bool });
csrf_form!(NewUserForm {
    email: String,
    name: String,
    role: String,
    password_choice: String,
    password: String,
});
csrf_form!(EditForm {
    email: String,
    name: String,
    role: String,
});

fn user_uri(id: i32) -> Redirect {
    Redirect::to(format!("/admin/users/{id}"))
}

/// A model's refusal (the last admin, say) becomes a message on the user's
/// page; anything else is an error page.
fn refused_or(id: i32, result: Result<Flash<Redirect>, Error>) -> Result<FormOutcome, Error> {
    match result {
        Ok(done) => Ok(FormOutcome::Done(done)),
        Err(Error::Invalid(message)) => Ok(FormOutcome::Done(Flash::error(user_uri(id), message))),
        Err(e) => Err(e),
    }
}

/// Creates a user with the admin's password for them, or with a temporary
/// one shown here once (the user must change it at their next sign-in).
#[post("/admin/users", data = "<form>")]
async fn create_user(
    form: CsrfForm<NewUserForm>,
    actor: Actor,
    app: &State<Gatehouse>,
    page: PageContext,
) -> Result<FormOutcome, Error> {
    let form = form.into_inner();
    let password = if form.password_choice == "set" {
        InitialPassword::Given(form.password.clone())
    } else {
        InitialPassword::Temporary
    };
    let new = NewAccount {
        email: form.email.clone(),
        name: form.name.clone(),
        role: form.role.clone(),
        password,
    };
    match admin::create_user(app, &actor, new).await {
        Ok(created) => match created.temporary_password {
            Some(password) => Ok(FormOutcome::Shown(page.render(
                "admin/temporary_password",
                json!({ "user": UserView::from(&created.user), "password": password, "created": true }),
            ))),
            None => Ok(FormOutcome::Done(Flash::success(
                user_uri(created.user.id),
                format!("{} is created.", created.user.email),
            ))),
        },
        Err(e) => Ok(FormOutcome::Invalid((
            Status::UnprocessableEntity,
            page.render(
                "admin/new_user",
                json!({
                    "form": {
                        "email": form.email.trim(), "name": form.name, "role": form.role,
                        "password_choice": if form.password_choice == "set" { "set" } else { "temporary" },
                    },
                    "errors": admin::form_errors(e)?.to_map(),
                    "fresh": true,
                }),
            ),
        ))),
    }
}

/// Changes name, email and role; a new role holds on the user's next
/// request. The last admin can't be demoted (a message on the user's page).
#[post("/admin/users/<id>/edit", data = "<form>")]
async fn edit_user(
    id: i32,
    form: CsrfForm<EditForm>,
    actor: Actor,
    app: &State<Gatehouse>,
    page: PageContext,
) -> Result<FormOutcome, Error> {
    let form = form.into_inner();
    let changes = Changes {
        name: Some(form.name.clone()),
        email: Some(form.email.clone()),
        role: Some(form.role.clone()),
    };
    let result = admin::edit_user(app, &actor, id, changes).await;
    match result {
        Err(e @ (Error::Fields(_) | Error::EmailTaken)) => {
            let errors = admin::form_errors(e)?;
            let form = json!({ "email": form.email.trim(), "name": form.name, "role": form.role });
            Ok(FormOutcome::Invalid((
                Status::UnprocessableEntity,
                edit_page(&page, id, form, &errors),
            )))
        }
        other => refused_or(
            id,
            other.map(|u| Flash::success(user_uri(id), format!("{} is saved.", u.email))),
        ),
    }
}

/// Disables or enables a user: their open sessions stop (or start) working
/// on their next request. The last admin can't be disabled.
#[post("/admin/users/<id>/status", data = "<form>")]
async fn set_disabled(
    id: i32,
    form: CsrfForm<DisableForm>,
    actor: Actor,
    app: &State<Gatehouse>,
) -> Result<FormOutcome, Error> {
    let result = admin::set_disabled(app, &actor, id, form.disabled).await;
    refused_or(
        id,
        result.map(|user| {
            let state = if user.disabled { "disabled" } else { "enabled" };
            Flash::success(user_uri(id), format!("{} is {state}.", user.email))
        }),
    )
}

#[post("/admin/users/<id>/unlock", data = "<_form>")]
async fn unlock(
    id: i32,
    _form: CsrfForm<EmptyForm>,
    actor: Actor,
    app: &State<Gatehouse>,
) -> Result<FormOutcome, Error> {
    let result = admin::unlock(app, &actor, id).await;
    refused_or(
        id,
        result.map(|u| Flash::success(user_uri(id), format!("{} can sign in again.", u.email))),
    )
}

/// Sets a temporary password, shown here once; the user's sessions end and
/// they must choose a new password at their next sign-in.
#[post("/admin/users/<id>/reset-password", data = "<_form>")]
async fn reset_password(
    id: i32,
    _form: CsrfForm<EmptyForm>,
    actor: Actor,
    app: &State<Gatehouse>,
    page: PageContext,
) -> Result<Page, Error> {
    let reset = admin::reset_password(app, &actor, id).await?;
    Ok(page.render(
        "admin/temporary_password",
        json!({
            "user": UserView::from(&reset.user),
            "password": reset.temporary_password,
            "sessions_revoked": reset.sessions_revoked,
            "created": false,
        }),
    ))
}

#[post("/admin/users/<id>/sessions/<sid>/revoke", data = "<_form>")]
async fn revoke_session(
    id: i32,
    sid: &str,
    _form: CsrfForm<EmptyForm>,
    actor: Actor,
    app: &State<Gatehouse>,
) -> Result<Flash<Redirect>, Error> {
    admin::revoke_session(app, &actor, sid, Some(id)).await?;
    Ok(Flash::success(user_uri(id), "That session is signed out."))
}

#[post("/admin/users/<id>/sessions/revoke-all", data = "<_form>")]
async fn revoke_all_sessions(
    id: i32,
    _form: CsrfForm<EmptyForm>,
    actor: Actor,
    app: &State<Gatehouse>,
) -> Result<Flash<Redirect>, Error> {
    let n = admin::revoke_all_sessions(app, &actor, id).await?;
    Ok(Flash::success(
        user_uri(id),
        format!("{n} session(s) signed out."),
    ))
}

/// Refused (with a message) when the user has no password to sign in with.
#[post("/admin/users/<id>/unlink-google", data = "<_form>")]
async fn unlink_google(
    id: i32,
    _form: CsrfForm<EmptyForm>,
    actor: Actor,
    app: &State<Gatehouse>,
) -> Result<FormOutcome, Error> {
    let result = admin::unlink_google(app, &actor, id).await;
    refused_or(
        id,
        result.map(|u| {
            Flash::success(
                user_uri(id),
                format!("{} is no longer linked to Google.", u.email),
            )
        }),
    )
}

/// Turns the user's two-factor sign-in off (they lost their app and codes).
#[post("/admin/users/<id>/reset-two-factor", data = "<_form>")]
async fn reset_two_factor(
    id: i32,
    _form: CsrfForm<EmptyForm>,
    actor: Actor,
    app: &State<Gatehouse>,
) -> Result<FormOutcome, Error> {
    let result = admin::reset_two_factor(app, &actor, id).await;
    refused_or(
        id,
        result.map(|u| {
            Flash::success(
                user_uri(id),
                format!("Two-factor sign-in is off for {}.", u.email),
            )
        }),
    )
}

/// Removes one of the user's passkeys (audited, the admin as actor).
#[post("/admin/users/<id>/passkeys/<passkey_id>/delete", data = "<_form>")]
async fn remove_passkey(
    id: i32,
    passkey_id: i32,
    _form: CsrfForm<EmptyForm>,
    actor: Actor,
    app: &State<Gatehouse>,
) -> Result<FormOutcome, Error> {
    let result = passkey::remove(app, id, passkey_id, Some(actor.id), Some(actor.device), None).await;
    refused_or(
        id,
        result.map(|p| Flash::success(user_uri(id), format!("Passkey “{}” removed.", p.name))),
    )
}

#[post("/admin/users/<id>/delete", data = "<_form>")]
async fn delete_user(
    id: i32,
    _form: CsrfForm<EmptyForm>,
    actor: Actor,
    app: &State<Gatehouse>,
) -> Result<FormOutcome, Error> {
    let result = admin::delete_user(app, &actor, id).await;
    refused_or(
        id,
        result.map(|u| Flash::success(Redirect::to("/admin/users"), format!("{} is deleted.", u.email))),
    )
}
