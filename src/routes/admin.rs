//! The admin area's pages (`/admin`): the dashboard, the users table, a
//! user's page with every admin action, and the audit log. The role is
//! checked on the server on every request; writes need a fresh sign-in
//! (`FreshAdmin`: a renewed token is sent to sign in again) and the CSRF
//! value, and do what the admin JSON API does (`crate::services::admin`), audited.

use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, uri, Route, State};
use rocket_dyn_templates::Template;
use serde_json::{json, Value};

use crate::web::csrf::csrf_form;
use crate::db::audit::{self, AuditFilter, EventKind};
use crate::db::session::Session;
use crate::db::user::{SortColumn, User, UserFilter, UserSort};
use crate::domain::now;
use crate::domain::Role;
use crate::error::{Error, FieldErrors};
use crate::services::admin::{self, Actor, Changes, InitialPassword, NewAccount, MAX_PAGE};
use crate::state::Gatehouse;
use crate::web::page::{FormOutcome, PageContext};
use crate::web::{AdminUser, CsrfForm};

pub fn routes() -> Vec<Route> {
    routes![
        dashboard,
        users,
        user_page,
        new_user_page,
        create_user,
        edit_user_page,
        edit_user,
        set_disabled,
        unlock,
        reset_password,
        revoke_session,
        revoke_all_sessions,
        unlink_google,
        delete_page,
        delete_user,
        audit_log,
    ]
}

const PER_PAGE: i64 = 25;
const AUDIT_PER_PAGE: i64 = 50;

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
    Redirect::to(uri!(user_page(id)))
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

fn encode(value: &str) -> String {
    utf8_percent_encode(value, NON_ALPHANUMERIC).to_string()
}

// Links are built here from percent-encoded values and fixed words, already
// HTML-escaped (`&amp;`), and shown unescaped: Tera would also turn each `/`
// into `&#x2F;`.

#[allow(clippy::too_many_arguments)]
#[get("/admin/users?<q>&<role>&<status>&<google>&<sort>&<dir>&<page>")]
async fn users(
    q: Option<String>,
    role: Option<&str>,
    status: Option<&str>,
    google: Option<&str>,
    sort: Option<&str>,
    dir: Option<&str>,
    page: Option<i64>,
    _admin: AdminUser,
    ctx: PageContext,
    app: &State<Gatehouse>,
) -> Result<Template, Error> {
    // Unknown values are ignored (a hand-edited address gets the defaults).
    let role = role.and_then(|r| r.parse::<Role>().ok());
    let disabled = match status {
        Some("disabled") => Some(true),
        Some("active") => Some(false),
        _ => None,
    };
    let google = match google {
        Some("linked") => Some(true),
        Some("unlinked") => Some(false),
        _ => None,
    };
    let sort = UserSort {
        column: sort.and_then(|s| s.parse().ok()).unwrap_or_default(),
        descending: dir == Some("desc"),
    };
    let page = page.unwrap_or(1).clamp(1, MAX_PAGE);
    let filter = UserFilter {
        q: q.clone(),
        role,
        disabled,
        google,
        sort,
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
                "created_at": u.created_at, "last_sign_in_at": u.last_sign_in_at,
            })
        })
        .collect();
    let q = q.unwrap_or_default();
    let status = disabled.map(|d| if d { "disabled" } else { "active" });
    let google = google.map(|g| if g { "linked" } else { "unlinked" });
    // The filters, for the sort and page links.
    let filters = format!(
        "q={}&amp;role={}&amp;status={}&amp;google={}",
        encode(&q),
        role.map_or("", |r| r.as_str()),
        status.unwrap_or(""),
        google.unwrap_or(""),
    );
    let dir = if sort.descending { "desc" } else { "asc" };
    let columns: Vec<Value> = SortColumn::ALL
        .iter()
        .map(|c| {
            let current = *c == sort.column;
            // A column's link sorts by it, or turns the current sort around.
            let next_dir = if current && !sort.descending { "desc" } else { "asc" };
            json!({
                "key": c.as_str(),
                "current": current,
                "aria_sort": if !current { "none" } else if sort.descending { "descending" } else { "ascending" },
                "href": format!("/admin/users?{filters}&amp;sort={}&amp;dir={next_dir}", c.as_str()),
            })
        })
        .collect();
    let here = format!("{filters}&amp;sort={}&amp;dir={dir}", sort.column.as_str());
    Ok(ctx.render(
        "admin/users",
        json!({
            "users": rows, "total": total, "page": page, "pages": pages,
            "q": q, "role": role.map(|r| r.as_str()), "status": status, "google": google,
            "sort": sort.column.as_str(), "dir": dir, "columns": columns,
            "prev": (page > 1).then(|| format!("/admin/users?{here}&amp;page={}", page - 1)),
            "next": (page < pages).then(|| format!("/admin/users?{here}&amp;page={}", page + 1)),
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
            let user = User::get(conn, id)?;
            let sessions = Session::list_active(conn, id, idle)?;
            let events = audit::recent(conn, Some(id), 20)?;
            Ok((user, sessions, events))
        })
        .await?;
    Ok(page.render(
        "admin/user",
        json!({
            "user": user_view(&user),
            "sessions": sessions,
            "events": events,
            "is_self": admin.user.id == user.id,
            "fresh": admin.claims.fresh,
        }),
    ))
}

fn user_view(user: &User) -> Value {
    json!({
        "id": user.id, "email": user.email, "name": user.name, "role": user.role,
        "disabled": user.disabled, "locked": user.is_locked(now()), "google": user.google_sub.is_some(),
        "has_password": user.password_hash.is_some(), "must_change_password": user.must_change_password,
        "created_at": user.created_at, "last_sign_in_at": user.last_sign_in_at,
    })
}

#[get("/admin/users/new")]
fn new_user_page(admin: AdminUser, page: PageContext) -> Template {
    page.render(
        "admin/new_user",
        json!({
            "form": { "email": "", "name": "", "role": "user", "password_choice": "temporary" },
            "errors": {},
            "fresh": admin.claims.fresh,
        }),
    )
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
                json!({ "user": user_view(&created.user), "password": password, "created": true }),
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

fn edit_page(page: &PageContext, id: i32, form: Value, errors: &FieldErrors) -> Template {
    page.render(
        "admin/edit_user",
        json!({ "id": id, "form": form, "errors": errors.to_map() }),
    )
}

#[get("/admin/users/<id>/edit")]
async fn edit_user_page(
    id: i32,
    _admin: AdminUser,
    page: PageContext,
    app: &State<Gatehouse>,
) -> Result<Template, Error> {
    let user = app.db.run(move |conn| User::get(conn, id)).await?;
    let form = json!({ "email": user.email, "name": user.name, "role": user.role });
    Ok(edit_page(&page, id, form, &FieldErrors::new()))
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
) -> Result<Template, Error> {
    let reset = admin::reset_password(app, &actor, id).await?;
    Ok(page.render(
        "admin/temporary_password",
        json!({
            "user": user_view(&reset.user),
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

/// The confirmation step before a delete.
#[get("/admin/users/<id>/delete")]
async fn delete_page(
    id: i32,
    _admin: AdminUser,
    page: PageContext,
    app: &State<Gatehouse>,
) -> Result<Template, Error> {
    let user = app.db.run(move |conn| User::get(conn, id)).await?;
    Ok(page.render("admin/delete_user", json!({ "user": user_view(&user) })))
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

/// The audit log, newest first: by user (id or email), event type and time
/// (from and to dates, UTC, both included).
#[allow(clippy::too_many_arguments)]
#[get("/admin/audit?<user>&<type>&<from>&<to>&<page>")]
async fn audit_log(
    user: Option<&str>,
    r#type: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    page: Option<i64>,
    _admin: AdminUser,
    ctx: PageContext,
    app: &State<Gatehouse>,
) -> Result<(Status, Template), Error> {
    let page = page.unwrap_or(1).clamp(1, MAX_PAGE);
    let form = json!({
        "user": user.unwrap_or("").trim(), "type": r#type.unwrap_or(""),
        "from": from.unwrap_or("").trim(), "to": to.unwrap_or("").trim(),
    });
    let kinds: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
    let filter = match AuditFilter::parse(user, r#type, from, to) {
        Ok(filter) => filter,
        Err(errors) => {
            return Ok((
                Status::UnprocessableEntity,
                ctx.render(
                    "admin/audit",
                    json!({ "form": form, "errors": errors.to_map(), "kinds": kinds, "events": [] }),
                ),
            ))
        }
    };
    let offset = (page - 1) * AUDIT_PER_PAGE;
    let (events, more, emails) = app
        .db
        .run(move |conn| {
            let mut events = audit::page(conn, &filter, offset, AUDIT_PER_PAGE + 1)?;
            let more = events.len() as i64 > AUDIT_PER_PAGE;
            events.truncate(AUDIT_PER_PAGE as usize);
            let mut ids: Vec<i32> = events
                .iter()
                .flat_map(|e| [e.user_id, e.actor_id])
                .flatten()
                .collect();
            ids.sort_unstable();
            ids.dedup();
            let emails: std::collections::HashMap<i32, String> =
                User::emails_by_ids(conn, &ids)?.into_iter().collect();
            Ok((events, more, emails))
        })
        .await?;
    let rows: Vec<Value> = events
        .iter()
        .map(|e| {
            json!({
                "at": e.at, "kind": e.kind, "detail": e.detail, "ip": e.ip,
                "user_id": e.user_id, "actor_id": e.actor_id,
                "user": e.user_id
                    .map(|id| emails.get(&id).cloned().unwrap_or_else(|| format!("user {id}")))
                    .or_else(|| e.email.clone()),
                "actor": e.actor_id.map(|id| emails.get(&id).cloned().unwrap_or_else(|| format!("user {id}"))),
            })
        })
        .collect();
    let filters = format!(
        "user={}&amp;type={}&amp;from={}&amp;to={}",
        encode(form["user"].as_str().unwrap_or("")),
        encode(form["type"].as_str().unwrap_or("")),
        encode(form["from"].as_str().unwrap_or("")),
        encode(form["to"].as_str().unwrap_or("")),
    );
    Ok((
        Status::Ok,
        ctx.render(
            "admin/audit",
            json!({
                "form": form, "errors": {}, "kinds": kinds, "events": rows, "page": page,
                "prev": (page > 1).then(|| format!("/admin/audit?{filters}&amp;page={}", page - 1)),
                "next": more.then(|| format!("/admin/audit?{filters}&amp;page={}", page + 1)),
            }),
        ),
    ))
}
