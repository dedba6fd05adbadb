//! The admin JSON API (under the API prefix): users, their sessions, the
//! audit log. The role is checked on every request; writes need a fresh
//! token (and, when authenticated by cookie, the CSRF value, checked
//! centrally). Every write is audited with the admin as actor and takes
//! effect on the user's open sessions at once.

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{delete, get, patch, post, routes, Route, State};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::app::Gatehouse;
use crate::auth::password::check_policy;
use crate::auth::{AdminUser, FreshAdmin};
use crate::catchers::JsonError;
use crate::db::audit::{self, AuditEvent, EventKind, NewEvent};
use crate::db::session::{Device, Session};
use crate::db::user::{NewUser, User, UserFilter};
use crate::db::{now, DbConn};
use crate::domain::{Email, Role};
use crate::error::Error;

pub fn routes() -> Vec<Route> {
    routes![
        list_users,
        create_user,
        get_user,
        update_user,
        delete_user,
        disable_user,
        enable_user,
        unlock_user,
        revoke_user_sessions,
        user_sessions,
        delete_session,
        audit_log,
    ]
}

/// A user as admins see them.
#[derive(Debug, Serialize)]
pub struct UserView {
    id: i32,
    email: String,
    name: String,
    role: String,
    disabled: bool,
    locked: bool,
    google_linked: bool,
    created_at: i64,
    last_sign_in_at: Option<i64>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        UserView {
            locked: u.is_locked(now()),
            google_linked: u.google_sub.is_some(),
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role,
            disabled: u.disabled,
            created_at: u.created_at,
            last_sign_in_at: u.last_sign_in_at,
        }
    }
}

type ApiResult<T> = Result<T, ApiFailure>;

/// An admin request's failure: bad input (422/409/404 with a reason) or a
/// server error.
pub enum ApiFailure {
    Refused(JsonError),
    Server(Error),
}

impl From<Error> for ApiFailure {
    fn from(e: Error) -> Self {
        let (status, error) = match &e {
            Error::NotFound => (Status::NotFound, "Not Found"),
            Error::EmailTaken => (Status::Conflict, "Conflict"),
            Error::Invalid(_) => (Status::UnprocessableEntity, "Unprocessable Entity"),
            _ => return ApiFailure::Server(e),
        };
        ApiFailure::Refused(JsonError {
            status,
            error,
            description: e.to_string(),
            code: None,
        })
    }
}

impl<'r> rocket::response::Responder<'r, 'static> for ApiFailure {
    fn respond_to(self, req: &'r rocket::Request<'_>) -> rocket::response::Result<'static> {
        match self {
            ApiFailure::Refused(e) => e.respond_to(req),
            ApiFailure::Server(e) => e.respond_to(req),
        }
    }
}

/// Runs an admin write and its audit event in one transaction.
async fn write<R: Send + 'static>(
    app: &Gatehouse,
    admin: &FreshAdmin,
    device: Device,
    kind: EventKind,
    f: impl FnOnce(&mut DbConn) -> Result<(R, Option<i32>, String), Error> + Send + 'static,
) -> Result<R, Error> {
    let actor = admin.user.id;
    app.db
        .run(move |conn| {
            use diesel::Connection;
            conn.transaction(|conn| {
                let (result, user_id, detail) = f(conn)?;
                audit::record(
                    conn,
                    NewEvent {
                        user_id,
                        actor_id: Some(actor),
                        device: Some(&device),
                        detail: &detail,
                        ..NewEvent::new(kind)
                    },
                )?;
                Ok(result)
            })
        })
        .await
}

fn bad(message: impl Into<String>) -> ApiFailure {
    Error::Invalid(message.into()).into()
}

#[get("/admin/users?<q>&<role>&<disabled>&<page>&<per_page>")]
async fn list_users(
    q: Option<String>,
    role: Option<&str>,
    disabled: Option<bool>,
    page: Option<i64>,
    per_page: Option<i64>,
    _admin: AdminUser,
    app: &State<Gatehouse>,
) -> ApiResult<Json<Value>> {
    let role = role.map(str::parse::<Role>).transpose().map_err(bad)?;
    let (page, per_page) = (page.unwrap_or(1).max(1), per_page.unwrap_or(25).clamp(1, 100));
    let filter = UserFilter { q, role, disabled };
    let (users, total) = app
        .db
        .run(move |conn| User::search(conn, &filter, page, per_page))
        .await?;
    let users: Vec<UserView> = users.into_iter().map(UserView::from).collect();
    Ok(Json(
        json!({ "users": users, "total": total, "page": page, "per_page": per_page }),
    ))
}

#[derive(Debug, Deserialize)]
pub struct NewUserBody {
    email: String,
    #[serde(default)]
    name: String,
    password: String,
    #[serde(default = "user_role")]
    role: String,
}

fn user_role() -> String {
    "user".into()
}

#[post("/admin/users", data = "<body>")]
async fn create_user(
    body: Json<NewUserBody>,
    admin: FreshAdmin,
    app: &State<Gatehouse>,
    device: Device,
) -> ApiResult<(Status, Json<UserView>)> {
    let body = body.into_inner();
    let email = Email::parse(&body.email).map_err(bad)?;
    let role: Role = body.role.parse().map_err(bad)?;
    check_policy(&body.password, app.config.password.min_length).map_err(bad)?;
    let hash = app.passwords.hash(body.password).await?;
    let name = body.name;
    let user = write(app, &admin, device, EventKind::UserCreated, move |conn| {
        let user = User::create(
            conn,
            NewUser {
                email,
                name,
                password_hash: Some(hash),
                role,
            },
        )?;
        let id = user.id;
        Ok((user, Some(id), format!("created by an admin as {role}")))
    })
    .await?;
    Ok((Status::Created, Json(user.into())))
}

#[get("/admin/users/<id>")]
async fn get_user(id: i32, _admin: AdminUser, app: &State<Gatehouse>) -> ApiResult<Json<UserView>> {
    let user = app.db.run(move |conn| User::find(conn, id)).await?;
    Ok(Json(user.ok_or(Error::NotFound)?.into()))
}

#[derive(Debug, Deserialize)]
pub struct UserPatch {
    name: Option<String>,
    email: Option<String>,
    role: Option<String>,
}

#[patch("/admin/users/<id>", data = "<body>")]
async fn update_user(
    id: i32,
    body: Json<UserPatch>,
    admin: FreshAdmin,
    app: &State<Gatehouse>,
    device: Device,
) -> ApiResult<Json<UserView>> {
    let body = body.into_inner();
    let email = body.email.as_deref().map(Email::parse).transpose().map_err(bad)?;
    let role = body
        .role
        .as_deref()
        .map(str::parse::<Role>)
        .transpose()
        .map_err(bad)?;
    let name = body.name;
    let user = write(app, &admin, device, EventKind::UserUpdated, move |conn| {
        let mut user = User::update_profile(conn, id, name.as_deref(), email.as_ref())?;
        if let Some(role) = role {
            user = User::set_role(conn, id, role)?;
        }
        Ok((user, Some(id), "edited by an admin".to_owned()))
    })
    .await?;
    Ok(Json(user.into()))
}

#[delete("/admin/users/<id>")]
async fn delete_user(
    id: i32,
    admin: FreshAdmin,
    app: &State<Gatehouse>,
    device: Device,
) -> ApiResult<Status> {
    write(app, &admin, device, EventKind::UserDeleted, move |conn| {
        let user = User::find(conn, id)?.ok_or(Error::NotFound)?;
        User::delete(conn, id)?;
        Ok(((), None, format!("deleted {}", user.email)))
    })
    .await?;
    Ok(Status::NoContent)
}

async fn set_disabled(
    id: i32,
    disabled: bool,
    admin: FreshAdmin,
    app: &Gatehouse,
    device: Device,
) -> ApiResult<Json<UserView>> {
    let kind = if disabled {
        EventKind::UserDisabled
    } else {
        EventKind::UserEnabled
    };
    let user = write(app, &admin, device, kind, move |conn| {
        let user = User::set_disabled(conn, id, disabled)?;
        Ok((user, Some(id), "by an admin".to_owned()))
    })
    .await?;
    Ok(Json(user.into()))
}

#[post("/admin/users/<id>/disable")]
async fn disable_user(
    id: i32,
    admin: FreshAdmin,
    app: &State<Gatehouse>,
    device: Device,
) -> ApiResult<Json<UserView>> {
    set_disabled(id, true, admin, app, device).await
}

#[post("/admin/users/<id>/enable")]
async fn enable_user(
    id: i32,
    admin: FreshAdmin,
    app: &State<Gatehouse>,
    device: Device,
) -> ApiResult<Json<UserView>> {
    set_disabled(id, false, admin, app, device).await
}

#[post("/admin/users/<id>/unlock")]
async fn unlock_user(
    id: i32,
    admin: FreshAdmin,
    app: &State<Gatehouse>,
    device: Device,
) -> ApiResult<Json<UserView>> {
    let user = write(app, &admin, device, EventKind::AccountUnlocked, move |conn| {
        User::find(conn, id)?.ok_or(Error::NotFound)?;
        User::unlock(conn, id)?;
        let user = User::find(conn, id)?.ok_or(Error::NotFound)?;
        Ok((user, Some(id), "by an admin".to_owned()))
    })
    .await?;
    Ok(Json(user.into()))
}

#[post("/admin/users/<id>/revoke-sessions")]
async fn revoke_user_sessions(
    id: i32,
    admin: FreshAdmin,
    app: &State<Gatehouse>,
    device: Device,
) -> ApiResult<Json<Value>> {
    let revoked = write(app, &admin, device, EventKind::SignOut, move |conn| {
        User::find(conn, id)?.ok_or(Error::NotFound)?;
        let n = Session::revoke_all_for_user(conn, id)?;
        Ok((n, Some(id), format!("all sessions ({n}) revoked by an admin")))
    })
    .await?;
    Ok(Json(json!({ "sessions_revoked": revoked })))
}

#[get("/admin/users/<id>/sessions")]
async fn user_sessions(id: i32, _admin: AdminUser, app: &State<Gatehouse>) -> ApiResult<Json<Value>> {
    let idle = app.config.jwt.session_idle_timeout;
    let sessions = app
        .db
        .run(move |conn| {
            User::find(conn, id)?.ok_or(Error::NotFound)?;
            Session::list_active(conn, id, idle)
        })
        .await?;
    Ok(Json(json!({ "sessions": sessions })))
}

#[delete("/admin/sessions/<sid>")]
async fn delete_session(
    sid: &str,
    admin: FreshAdmin,
    app: &State<Gatehouse>,
    device: Device,
) -> ApiResult<Status> {
    let sid = sid.to_owned();
    write(app, &admin, device, EventKind::SignOut, move |conn| {
        let session = Session::find(conn, &sid)?.ok_or(Error::NotFound)?;
        Session::revoke(conn, &sid)?;
        Ok((
            (),
            Some(session.user_id),
            "one session revoked by an admin".to_owned(),
        ))
    })
    .await?;
    Ok(Status::NoContent)
}

#[get("/admin/audit?<user>&<type>&<page>")]
async fn audit_log(
    user: Option<i32>,
    r#type: Option<String>,
    page: Option<i64>,
    _admin: AdminUser,
    app: &State<Gatehouse>,
) -> ApiResult<Json<Value>> {
    let page = page.unwrap_or(1).max(1);
    let events: Vec<AuditEvent> = app
        .db
        .run(move |conn| audit::page(conn, user, r#type.as_deref(), page, 50))
        .await?;
    Ok(Json(json!({ "events": events, "page": page, "per_page": 50 })))
}
