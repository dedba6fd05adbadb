//! `/account/passkeys`: a signed-in user's passkeys, with a form to rename
//! each and one to remove it (a fresh sign-in needed), and the form to add
//! one (driven by `/static/passkeys.js`; without JavaScript, its POST
//! answers a page saying so).

use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Route, State};
use serde_json::json;

use super::PasskeyView;
use crate::db::session::Device;
use crate::error::Error;
use crate::services::passkey;
use crate::state::Gatehouse;
use crate::web::csrf::csrf_form;
use crate::web::page::{FormOutcome, Page, PageContext};
use crate::web::passkeys::PasskeysOn;
use crate::web::{CsrfForm, CurrentUser, FreshLogin};

pub fn routes() -> Vec<Route> {
    routes![list_page, add_without_script, rename, remove]
}

csrf_form!(NameForm { name: String });
csrf_form!(EmptyForm {});

const PAGE: &str = "/account/passkeys";

/// The page, with an error above the add form if given.
async fn page_with(
    app: &Gatehouse,
    user: &CurrentUser,
    page: &PageContext,
    error: Option<&str>,
) -> Result<Page, Error> {
    let passkeys = PasskeyView::list(passkey::list(app, user.id()).await?);
    Ok(page.render(
        "account_passkeys",
        json!({
            "passkeys": passkeys,
            "fresh": user.claims.fresh,
            "error": error,
        }),
    ))
}

#[get("/account/passkeys")]
async fn list_page(
    _on: PasskeysOn,
    user: CurrentUser,
    page: PageContext,
    app: &State<Gatehouse>,
) -> Result<Page, Error> {
    page_with(app, &user, &page, None).await
}

/// The add form, sent without its script: adding a passkey happens in the
/// browser (`navigator.credentials.create()`), so say what is needed.
#[post("/account/passkeys/register", data = "<_form>")]
async fn add_without_script(
    _on: PasskeysOn,
    _form: CsrfForm<NameForm>,
    user: CurrentUser,
    page: PageContext,
    app: &State<Gatehouse>,
) -> Result<(Status, Page), Error> {
    let message =
        "Adding a passkey needs JavaScript: turn it on for this site, or use a browser that has it.";
    Ok((Status::Ok, page_with(app, &user, &page, Some(message)).await?))
}

/// What a change gets: back to the list with a message, or a 404.
fn done(result: Result<String, Error>) -> Result<FormOutcome, Error> {
    match result {
        Ok(message) => Ok(FormOutcome::Done(Flash::success(Redirect::to(PAGE), message))),
        Err(Error::Invalid(message)) => Ok(FormOutcome::Done(Flash::error(Redirect::to(PAGE), message))),
        Err(e) => Err(e),
    }
}

#[post("/account/passkeys/<id>/rename", data = "<form>")]
async fn rename(
    _on: PasskeysOn,
    id: i32,
    form: CsrfForm<NameForm>,
    user: CurrentUser,
    app: &State<Gatehouse>,
    device: Device,
) -> Result<FormOutcome, Error> {
    let renamed = passkey::rename(app, user.id(), id, &form.name, device).await;
    done(renamed.map(|p| format!("Passkey renamed to “{}”.", p.name)))
}

/// Removing one needs a fresh sign-in.
#[post("/account/passkeys/<id>/delete", data = "<_form>")]
async fn remove(
    _on: PasskeysOn,
    id: i32,
    _form: CsrfForm<EmptyForm>,
    user: FreshLogin,
    app: &State<Gatehouse>,
    device: Device,
) -> Result<FormOutcome, Error> {
    let removed = passkey::remove(
        app,
        user.id(),
        id,
        None,
        Some(device),
        Some(user.session.id.clone()),
    )
    .await;
    done(removed.map(|p| format!("Passkey “{}” removed.", p.name)))
}
