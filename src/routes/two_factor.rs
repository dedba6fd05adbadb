//! `/account/two-factor`: turning two-factor sign-in on (a secret shown as a
//! QR code and as text, confirmed with a code), off (with a code), and new
//! recovery codes. Every change needs a fresh sign-in.

use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, uri, Route, State};
use serde_json::{json, Value};

use crate::auth::totp;
use crate::db::session::Device;
use crate::error::{Error, FieldErrors};
use crate::services::two_factor::{self, TwoFactorError};
use crate::state::Gatehouse;
use crate::web::csrf::csrf_form;
use crate::web::page::{FormOutcome, Page, PageContext};
use crate::web::qr;
use crate::web::{CsrfForm, CurrentUser, FreshLogin};

pub fn routes() -> Vec<Route> {
    routes![status_page, setup, confirm, disable, regenerate]
}

csrf_form!(CodeForm { code: String });
csrf_form!(EmptyForm {});

/// What every state of the page shows.
async fn view(app: &Gatehouse, user: &CurrentUser) -> Result<Value, Error> {
    let on = user.user.two_factor_on();
    let left = if on {
        two_factor::recovery_codes_left(app, user.user.id).await?
    } else {
        0
    };
    Ok(json!({
        "on": on,
        "enabled_at": user.user.totp_enabled_at,
        "recovery_left": left,
        "fresh": user.claims.fresh,
        "signed_in_with_code": user.claims.has_second_factor(),
        "errors": {},
    }))
}

/// Which form's code field an error belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Setup,
    Disable,
    Regenerate,
}

/// The page again with an error next to the code field.
async fn with_error(
    app: &Gatehouse,
    user: &CurrentUser,
    page: &PageContext,
    error: TwoFactorError,
    field: Field,
) -> Result<FormOutcome, Error> {
    let message = match error {
        TwoFactorError::Other(Error::Invalid(message)) => message,
        TwoFactorError::Other(e) => return Err(e),
        e => e.to_string(),
    };
    let mut context = view(app, user).await?;
    if field == Field::Setup {
        context["setup"] = setup_view(app, user).await?;
    }
    let mut errors = FieldErrors::new();
    errors.add(
        if field == Field::Regenerate {
            "regen_code"
        } else {
            "code"
        },
        message,
    );
    context["errors"] = Value::Object(errors.to_map());
    Ok(FormOutcome::Invalid((
        Status::UnprocessableEntity,
        page.render("two_factor", context),
    )))
}

/// The pending secret as a QR code and as grouped text.
async fn setup_view(app: &Gatehouse, user: &CurrentUser) -> Result<Value, Error> {
    let enrollment = two_factor::begin(app, &user.user).await?;
    Ok(json!({
        "qr": qr::svg(&enrollment.uri, "QR code of your two-factor secret")?,
        "secret": totp::grouped(&enrollment.secret),
    }))
}

#[get("/account/two-factor")]
async fn status_page(user: CurrentUser, page: PageContext, app: &State<Gatehouse>) -> Result<Page, Error> {
    Ok(page.render("two_factor", view(app, &user).await?))
}

/// Shows a new secret (or the one waiting to be confirmed). A POST: it
/// makes the secret.
#[post("/account/two-factor/setup", data = "<_form>")]
async fn setup(
    _form: CsrfForm<EmptyForm>,
    user: FreshLogin,
    page: PageContext,
    app: &State<Gatehouse>,
) -> Result<Page, Error> {
    let mut context = view(app, &user).await?;
    context["setup"] = setup_view(app, &user).await?;
    Ok(page.render("two_factor", context))
}

/// A right code turns it on and shows the recovery codes, once.
#[post("/account/two-factor/confirm", data = "<form>")]
async fn confirm(
    form: CsrfForm<CodeForm>,
    user: FreshLogin,
    page: PageContext,
    app: &State<Gatehouse>,
    device: Device,
) -> Result<FormOutcome, Error> {
    match two_factor::confirm(app, &user.user, &form.code, device).await {
        Ok(codes) => Ok(FormOutcome::Shown(
            page.render("two_factor_codes", json!({ "codes": codes, "enabled": true })),
        )),
        Err(e) => with_error(app, &user, &page, e, Field::Setup).await,
    }
}

/// Turning it off needs a current code or a recovery code.
#[post("/account/two-factor/disable", data = "<form>")]
async fn disable(
    form: CsrfForm<CodeForm>,
    user: FreshLogin,
    page: PageContext,
    app: &State<Gatehouse>,
    device: Device,
) -> Result<FormOutcome, Error> {
    match two_factor::disable(app, &user.user, &form.code, device).await {
        Ok(()) => Ok(FormOutcome::Done(Flash::success(
            Redirect::to(uri!(status_page)),
            "Two-factor sign-in is off.",
        ))),
        Err(e) => with_error(app, &user, &page, e, Field::Disable).await,
    }
}

/// New recovery codes; the old ones stop working. Needs a current code (or
/// a recovery code), as turning it off does: a session that never gave one
/// (a Google sign-in) must not mint codes that turn it off.
#[post("/account/two-factor/recovery-codes", data = "<form>")]
async fn regenerate(
    form: CsrfForm<CodeForm>,
    user: FreshLogin,
    page: PageContext,
    app: &State<Gatehouse>,
    device: Device,
) -> Result<FormOutcome, Error> {
    match two_factor::regenerate(app, &user.user, &form.code, device).await {
        Ok(codes) => Ok(FormOutcome::Shown(
            page.render("two_factor_codes", json!({ "codes": codes, "enabled": false })),
        )),
        Err(e) => with_error(app, &user, &page, e, Field::Regenerate).await,
    }
}
