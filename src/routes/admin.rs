//! The admin area's pages (`/admin`): the dashboard, the users table and a
//! user's page. The role is checked on the server on every request; writes
//! need a fresh sign-in and the CSRF value, and are audited.

use rocket::form::FromForm;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, uri, Route, State};
use rocket_dyn_templates::Template;
use serde_json::json;

use crate::app::Gatehouse;
use crate::auth::{AdminUser, CsrfForm, CsrfProtected, FreshAdmin};
use crate::db::audit::{self, EventKind, NewEvent};
use crate::db::now;
use crate::db::session::{Device, Session};
use crate::db::user::{User, UserFilter};
use crate::domain::Role;
use crate::error::Error;
use crate::view::PageContext;

pub fn routes() -> Vec<Route> {
    routes![dashboard, users, user_page, set_disabled]
}

const PER_PAGE: i64 = 25;

#[get("/admin")]
async fn dashboard(_admin: AdminUser, page: PageContext, app: &State<Gatehouse>) -> Result<Template, Error> {
    let since = now() - 24 * 3600;
    let counts = app
        .db
        .run(move |conn| {
            let (users, admins, disabled) = User::counts(conn)?;
            Ok(json!({
                "users": users,
                "admins": admins,
                "disabled": disabled,
                "sessions": Session::count_active(conn)?,
                "sign_ins": audit::count_since(conn, EventKind::SignIn, since)?,
                "failures": audit::count_since(conn, EventKind::SignInFailed, since)?,
            }))
        })
        .await?;
    Ok(page.render("admin/dashboard", json!({ "counts": counts })))
}

#[get("/admin/users?<q>&<role>&<status>&<page>")]
async fn users(
    q: Option<String>,
    role: Option<&str>,
    status: Option<&str>,
    page: Option<i64>,
    _admin: AdminUser,
    ctx: PageContext,
    app: &State<Gatehouse>,
) -> Result<Template, Error> {
    let role = role.and_then(|r| r.parse::<Role>().ok());
    let disabled = match status {
        Some("disabled") => Some(true),
        Some("active") => Some(false),
        _ => None,
    };
    let page = page.unwrap_or(1).max(1);
    let filter = UserFilter {
        q: q.clone(),
        role,
        disabled,
    };
    let (found, total) = app
        .db
        .run(move |conn| User::search(conn, &filter, page, PER_PAGE))
        .await?;
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let now = now();
    let rows: Vec<_> = found
        .iter()
        .map(|u| {
            json!({
                "id": u.id, "email": u.email, "name": u.name, "role": u.role,
                "disabled": u.disabled, "locked": u.is_locked(now), "google": u.google_sub.is_some(),
                "last_sign_in_at": u.last_sign_in_at,
            })
        })
        .collect();
    Ok(ctx.render(
        "admin/users",
        json!({
            "users": rows, "total": total, "page": page, "pages": pages,
            "q": q.unwrap_or_default(), "role": role.map(|r| r.as_str()), "status": status,
            "prev": (page > 1).then(|| page - 1), "next": (page < pages).then(|| page + 1),
        }),
    ))
}

#[get("/admin/users/<id>")]
async fn user_page(
    id: i32,
    admin: AdminUser,
    page: PageContext,
    app: &State<Gatehouse>,
) -> Result<Template, Error> {
    let idle = app.config.jwt.session_idle_timeout;
    let (user, sessions, events) = app
        .db
        .run(move |conn| {
            let user = User::find(conn, id)?.ok_or(Error::NotFound)?;
            let sessions = Session::list_active(conn, id, idle)?;
            let events = audit::recent(conn, Some(id), 20)?;
            Ok((user, sessions, events))
        })
        .await?;
    Ok(page.render(
        "admin/user",
        json!({
            "user": {
                "id": user.id, "email": user.email, "name": user.name, "role": user.role,
                "disabled": user.disabled, "locked": user.is_locked(now()), "google": user.google_sub.is_some(),
                "created_at": user.created_at, "last_sign_in_at": user.last_sign_in_at,
            },
            "sessions": sessions,
            "events": events,
            "is_self": admin.user.id == user.id,
            "fresh": admin.claims.fresh,
        }),
    ))
}

#[derive(Debug, FromForm)]
pub struct DisableForm {
    csrf_token: Option<String>,
    disabled: bool,
}

impl CsrfProtected for DisableForm {
    fn csrf_token(&self) -> Option<&str> {
        self.csrf_token.as_deref()
    }
}

/// Disables or enables a user: their open sessions stop (or start) working
/// on their next request. The last admin can't be disabled.
#[post("/admin/users/<id>/status", data = "<form>")]
async fn set_disabled(
    id: i32,
    form: CsrfForm<DisableForm>,
    admin: FreshAdmin,
    app: &State<Gatehouse>,
    device: Device,
) -> Result<Flash<Redirect>, Error> {
    let disabled = form.disabled;
    let actor = admin.user.id;
    let result = app
        .db
        .run(move |conn| {
            use diesel::Connection;
            conn.transaction(|conn| {
                let user = User::set_disabled(conn, id, disabled)?;
                audit::record(
                    conn,
                    NewEvent {
                        user_id: Some(id),
                        actor_id: Some(actor),
                        device: Some(&device),
                        detail: "by an admin, from the admin pages",
                        ..NewEvent::new(if disabled {
                            EventKind::UserDisabled
                        } else {
                            EventKind::UserEnabled
                        })
                    },
                )?;
                Ok(user)
            })
        })
        .await;
    let back = Redirect::to(uri!(user_page(id)));
    match result {
        Ok(user) if user.disabled => Ok(Flash::success(back, format!("{} is disabled.", user.email))),
        Ok(user) => Ok(Flash::success(back, format!("{} is enabled.", user.email))),
        Err(Error::Invalid(message)) => Ok(Flash::error(back, message)),
        Err(e) => Err(e),
    }
}
