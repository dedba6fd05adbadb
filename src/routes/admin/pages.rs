//! The admin area's pages (`/admin`): the dashboard, the users table, a
//! user's page, the forms' pages and the audit log. The role is checked on
//! the server on every request. The forms' writes are in `actions.rs`.

use rocket::http::Status;
use rocket::{get, routes, Route, State};
use serde_json::{json, Value};

use super::views::{encode, AuditQuery, Unknown, UserQuery, UserView};
use crate::db::audit::EventKind;
use crate::db::user::{SortColumn, User, UserSort};
use crate::error::{Error, FieldErrors};
use crate::routes::passkeys::PasskeyView;
use crate::services::admin::reports;
use crate::services::passkey;
use crate::state::Gatehouse;
use crate::web::events::EventView;
use crate::web::page::{Page, PageContext};
use crate::web::AdminUser;

pub fn routes() -> Vec<Route> {
    routes![
        dashboard,
        users,
        user_page,
        new_user_page,
        edit_user_page,
        delete_page,
        audit_log
    ]
}

const PER_PAGE: i64 = 25;

#[get("/admin")]
async fn dashboard(_admin: AdminUser, page: PageContext, app: &State<Gatehouse>) -> Result<Page, Error> {
    let counts = reports::counts(app).await?;
    Ok(page.render("admin/dashboard", json!({ "counts": counts })))
}

// Links are built here from percent-encoded values and fixed words, already
// HTML-escaped (`&amp;`), and shown unescaped: Tera would also turn each `/`
// into `&#x2F;`.

/// The users table: search, filters, sort and pages. Unknown values are
/// ignored (a hand-edited address gets the defaults); a search that can't
/// be run (a control character) is shown again with why (422).
#[get("/admin/users?<query..>")]
async fn users(
    query: UserQuery,
    _admin: AdminUser,
    ctx: PageContext,
    app: &State<Gatehouse>,
) -> Result<(Status, Page), Error> {
    let filter = match query.filter(Unknown::Ignore) {
        Ok(filter) => filter,
        Err(Error::Fields(errors)) => {
            let sort = UserSort::default();
            let context = json!({
                "users": [], "total": 0, "page": 1, "pages": 1, "errors": errors.to_map(),
                "q": query.q.as_deref().unwrap_or(""), "sort": sort.column.as_str(), "dir": "asc",
                "columns": sort_links("q=", sort), "role": null, "status": null, "google": null,
                "prev": null, "next": null,
            });
            return Ok((Status::UnprocessableEntity, ctx.render("admin/users", context)));
        }
        Err(e) => return Err(e),
    };
    let page = query.page();
    let (q, role, sort) = (filter.q.clone().unwrap_or_default(), filter.role, filter.sort);
    let status = filter.disabled.map(|d| if d { "disabled" } else { "active" });
    let google = filter.google.map(|g| if g { "linked" } else { "unlinked" });
    let (found, total) = reports::search_users(app, filter, page, PER_PAGE).await?;
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let rows: Vec<UserView> = found.iter().map(UserView::from).collect();
    // The filters, for the sort and page links.
    let filters = format!(
        "q={}&amp;role={}&amp;status={}&amp;google={}",
        encode(&q),
        role.map_or("", |r| r.as_str()),
        status.unwrap_or(""),
        google.unwrap_or(""),
    );
    let dir = if sort.descending { "desc" } else { "asc" };
    let here = format!("{filters}&amp;sort={}&amp;dir={dir}", sort.column.as_str());
    Ok((
        Status::Ok,
        ctx.render(
            "admin/users",
            json!({
                "users": rows, "total": total, "page": page, "pages": pages, "errors": {},
                "q": q, "role": role.map(|r| r.as_str()), "status": status, "google": google,
                "sort": sort.column.as_str(), "dir": dir, "columns": sort_links(&filters, sort),
                "prev": (page > 1).then(|| format!("/admin/users?{here}&amp;page={}", page - 1)),
                "next": (page < pages).then(|| format!("/admin/users?{here}&amp;page={}", page + 1)),
            }),
        ),
    ))
}

/// Each column's header link: it sorts by the column, or turns the current
/// sort around.
fn sort_links(filters: &str, sort: UserSort) -> Vec<Value> {
    SortColumn::ALL
        .iter()
        .map(|c| {
            let current = *c == sort.column;
            let next_dir = if current && !sort.descending { "desc" } else { "asc" };
            json!({
                "key": c.as_str(),
                "current": current,
                "aria_sort": if !current { "none" } else if sort.descending { "descending" } else { "ascending" },
                "href": format!("/admin/users?{filters}&amp;sort={}&amp;dir={next_dir}", c.as_str()),
            })
        })
        .collect()
}

#[get("/admin/users/<id>")]
async fn user_page(
    id: i32,
    admin: AdminUser,
    page: PageContext,
    app: &State<Gatehouse>,
) -> Result<Page, Error> {
    let (user, sessions, events) = reports::user_details(app, id).await?;
    let passkeys = PasskeyView::list(passkey::list(app, id).await?);
    let email_of = |other: i32| match other == user.id {
        true => user.email.to_string(),
        false => format!("user {other}"),
    };
    let events: Vec<EventView> = events.iter().map(|e| EventView::new(e, email_of)).collect();
    Ok(page.render(
        "admin/user",
        json!({
            "user": UserView::from(&user),
            "passkeys": passkeys,
            "sessions": sessions,
            "events": events,
            "is_self": admin.user.id == user.id,
            "fresh": admin.claims.fresh,
        }),
    ))
}

#[get("/admin/users/new")]
fn new_user_page(admin: AdminUser, page: PageContext) -> Page {
    page.render(
        "admin/new_user",
        json!({
            "form": { "email": "", "name": "", "role": "user", "password_choice": "temporary" },
            "errors": {},
            "fresh": admin.claims.fresh,
        }),
    )
}

pub(super) fn edit_page(page: &PageContext, id: i32, form: Value, errors: &FieldErrors) -> Page {
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
) -> Result<Page, Error> {
    let user = app.db.run(move |conn| User::get(conn, id)).await?;
    let form = json!({ "email": user.email, "name": user.name, "role": user.role });
    Ok(edit_page(&page, id, form, &FieldErrors::new()))
}

/// The confirmation step before a delete.
#[get("/admin/users/<id>/delete")]
async fn delete_page(
    id: i32,
    _admin: AdminUser,
    page: PageContext,
    app: &State<Gatehouse>,
) -> Result<Page, Error> {
    let user = app.db.run(move |conn| User::get(conn, id)).await?;
    Ok(page.render("admin/delete_user", json!({ "user": UserView::from(&user) })))
}

/// The audit log, newest first: by user (id or email), event type and time
/// (from and to dates, UTC, both included).
#[get("/admin/audit?<query..>")]
async fn audit_log(
    query: AuditQuery,
    _admin: AdminUser,
    ctx: PageContext,
    app: &State<Gatehouse>,
) -> Result<(Status, Page), Error> {
    let page = query.page();
    let text = |v: &Option<String>| v.as_deref().unwrap_or("").trim().to_owned();
    let form = json!({
        "user": text(&query.user), "type": query.kind.as_deref().unwrap_or(""),
        "from": text(&query.from), "to": text(&query.to),
    });
    let kinds: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
    let filter = match query.filter() {
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
    let found = reports::audit_page(app, filter, page).await?;
    let rows: Vec<Value> = found
        .events
        .iter()
        .map(|e| json!(EventView::new(e, |id| found.email_of(id))))
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
                "next": found.has_more.then(|| format!("/admin/audit?{filters}&amp;page={}", page + 1)),
            }),
        ),
    ))
}
