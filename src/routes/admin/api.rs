//! The admin JSON API (under the API prefix): users, their sessions, the
//! audit log. The role is checked on every request; writes need a fresh
//! token ([`Actor`]) and, when authenticated by cookie, the CSRF value
//! (checked centrally). Every write is audited with the admin as actor and
//! takes effect on the user's open sessions at once.

use super::answers::{AuditLogPage, CreatedUser, PasswordReset, RevokedCount, SessionList, UsersPage};
use super::views::{AuditQuery, Unknown, UserQuery, UserView};
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{delete, get, patch, post, routes, Route, State};
use serde::Deserialize;

use crate::db::user::User;
use crate::error::Error;
use crate::routes::passkeys::PasskeyView;
use crate::services::admin::reports::{self, AUDIT_PER_PAGE};
use crate::services::admin::{self, Actor, Changes, InitialPassword, NewAccount};
use crate::services::passkey;
use crate::state::Gatehouse;
use crate::web::json::ApiResult;
use crate::web::json_body::JsonBody;
use crate::web::AdminUser;

pub fn routes() -> Vec<Route> {
    routes![
        list_users,
        create_user,
        get_user,
        remove_passkey,
        update_user,
        delete_user,
        disable_user,
        enable_user,
        unlock_user,
        revoke_user_sessions,
        reset_password,
        unlink_google,
        reset_two_factor,
        user_sessions,
        delete_session,
        audit_log,
    ]
}

/// The users list: `q`, `role`, `disabled`, `google`, `sort`, `dir`,
/// `page`, `per_page`; an unknown value is refused, naming the parameter.
#[utoipa::path(tag = "admin", responses((status = 200, description = "A page of users", body = UsersPage)), security(("bearer" = []), ("access_cookie" = [], "csrf_header" = [])))]
#[get("/admin/users?<query..>")]
async fn list_users(
    query: UserQuery,
    _admin: AdminUser,
    app: &State<Gatehouse>,
) -> ApiResult<Json<UsersPage>> {
    let filter = query.filter(Unknown::Refuse)?;
    let (page, per_page) = (query.page(), query.per_page());
    let (users, total) = reports::search_users(app, filter, page, per_page).await?;
    let users: Vec<UserView> = users.iter().map(UserView::from).collect();
    Ok(Json(UsersPage {
        users,
        total,
        page,
        per_page,
    }))
}

/// Without `password`, the account gets a temporary password (returned once
/// as `temporary_password`) that must be changed at the next sign-in.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewUserBody {
    email: String,
    #[serde(default)]
    name: String,
    password: Option<String>,
    #[serde(default = "user_role")]
    role: String,
}

fn user_role() -> String {
    "user".into()
}

#[utoipa::path(tag = "admin", request_body = NewUserBody, responses((status = 201, description = "The new user (with temporary_password when none was given)", body = CreatedUser)), security(("bearer" = []), ("access_cookie" = [], "csrf_header" = [])))]
#[post("/admin/users", data = "<body>")]
async fn create_user(
    body: JsonBody<NewUserBody>,
    actor: Actor,
    app: &State<Gatehouse>,
) -> ApiResult<(Status, Json<CreatedUser>)> {
    let body = body.into_inner();
    let new = NewAccount {
        email: body.email,
        name: body.name,
        role: body.role,
        password: body
            .password
            .map_or(InitialPassword::Temporary, InitialPassword::Given),
    };
    let created = admin::create_user(app, &actor, new).await?;
    let user = CreatedUser {
        user: UserView::from(&created.user),
        temporary_password: created.temporary_password,
    };
    Ok((Status::Created, Json(user)))
}

/// A user, with their passkeys.
#[utoipa::path(tag = "admin", responses((status = 200, description = "The user, with their passkeys", body = UserView)), security(("bearer" = []), ("access_cookie" = [], "csrf_header" = [])))]
#[get("/admin/users/<id>")]
async fn get_user(id: i32, _admin: AdminUser, app: &State<Gatehouse>) -> ApiResult<Json<UserView>> {
    let user = app.db.run(move |conn| User::find(conn, id)).await?;
    let mut view = UserView::from(user.ok_or(Error::NotFound)?);
    view.passkeys = Some(PasskeyView::list(passkey::list(app, id).await?));
    Ok(Json(view))
}

/// Removes one of a user's passkeys (a fresh admin; audited with the admin
/// as actor): 204.
#[utoipa::path(tag = "admin", responses((status = 204, description = "Removed")), security(("bearer" = []), ("access_cookie" = [], "csrf_header" = [])))]
#[delete("/admin/users/<id>/passkeys/<passkey_id>")]
async fn remove_passkey(id: i32, passkey_id: i32, actor: Actor, app: &State<Gatehouse>) -> ApiResult<Status> {
    passkey::remove(app, id, passkey_id, Some(actor.id), Some(actor.device), None).await?;
    Ok(Status::NoContent)
}

/// The fields to change; those left out (or `null`) stay as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct UserPatch {
    name: Option<String>,
    email: Option<String>,
    role: Option<String>,
}

#[utoipa::path(tag = "admin", request_body = UserPatch, responses((status = 200, description = "The user", body = UserView)), security(("bearer" = []), ("access_cookie" = [], "csrf_header" = [])))]
#[patch("/admin/users/<id>", data = "<body>")]
async fn update_user(
    id: i32,
    body: JsonBody<UserPatch>,
    actor: Actor,
    app: &State<Gatehouse>,
) -> ApiResult<Json<UserView>> {
    let body = body.into_inner();
    let changes = Changes {
        name: body.name,
        email: body.email,
        role: body.role,
    };
    let user = admin::edit_user(app, &actor, id, changes).await?;
    Ok(Json(user.into()))
}

#[utoipa::path(tag = "admin", responses((status = 204, description = "Deleted")), security(("bearer" = []), ("access_cookie" = [], "csrf_header" = [])))]
#[delete("/admin/users/<id>")]
async fn delete_user(id: i32, actor: Actor, app: &State<Gatehouse>) -> ApiResult<Status> {
    admin::delete_user(app, &actor, id).await?;
    Ok(Status::NoContent)
}

#[utoipa::path(tag = "admin", responses((status = 200, description = "The user", body = UserView)), security(("bearer" = []), ("access_cookie" = [], "csrf_header" = [])))]
#[post("/admin/users/<id>/disable")]
async fn disable_user(id: i32, actor: Actor, app: &State<Gatehouse>) -> ApiResult<Json<UserView>> {
    let user = admin::set_disabled(app, &actor, id, true).await?;
    Ok(Json(user.into()))
}

#[utoipa::path(tag = "admin", responses((status = 200, description = "The user", body = UserView)), security(("bearer" = []), ("access_cookie" = [], "csrf_header" = [])))]
#[post("/admin/users/<id>/enable")]
async fn enable_user(id: i32, actor: Actor, app: &State<Gatehouse>) -> ApiResult<Json<UserView>> {
    let user = admin::set_disabled(app, &actor, id, false).await?;
    Ok(Json(user.into()))
}

#[utoipa::path(tag = "admin", responses((status = 200, description = "The user", body = UserView)), security(("bearer" = []), ("access_cookie" = [], "csrf_header" = [])))]
#[post("/admin/users/<id>/unlock")]
async fn unlock_user(id: i32, actor: Actor, app: &State<Gatehouse>) -> ApiResult<Json<UserView>> {
    let user = admin::unlock(app, &actor, id).await?;
    Ok(Json(user.into()))
}

#[utoipa::path(tag = "admin", responses((status = 200, description = "How many sessions were revoked", body = RevokedCount)), security(("bearer" = []), ("access_cookie" = [], "csrf_header" = [])))]
#[post("/admin/users/<id>/revoke-sessions")]
async fn revoke_user_sessions(
    id: i32,
    actor: Actor,
    app: &State<Gatehouse>,
) -> ApiResult<Json<RevokedCount>> {
    let revoked = admin::revoke_all_sessions(app, &actor, id).await?;
    Ok(Json(RevokedCount {
        sessions_revoked: revoked,
    }))
}

/// A temporary password (returned once) that must be changed at the next
/// sign-in; the user's sessions are revoked.
#[utoipa::path(tag = "admin", responses((status = 200, description = "The temporary password, returned once", body = PasswordReset)), security(("bearer" = []), ("access_cookie" = [], "csrf_header" = [])))]
#[post("/admin/users/<id>/reset-password")]
async fn reset_password(id: i32, actor: Actor, app: &State<Gatehouse>) -> ApiResult<Json<PasswordReset>> {
    let reset = admin::reset_password(app, &actor, id).await?;
    Ok(Json(PasswordReset {
        user: UserView::from(reset.user),
        temporary_password: reset.temporary_password,
        sessions_revoked: reset.sessions_revoked,
    }))
}

#[utoipa::path(tag = "admin", responses((status = 200, description = "The user", body = UserView)), security(("bearer" = []), ("access_cookie" = [], "csrf_header" = [])))]
#[post("/admin/users/<id>/unlink-google")]
async fn unlink_google(id: i32, actor: Actor, app: &State<Gatehouse>) -> ApiResult<Json<UserView>> {
    let user = admin::unlink_google(app, &actor, id).await?;
    Ok(Json(user.into()))
}

/// Turns the user's two-factor sign-in off (fresh sign-in needed; audited).
#[utoipa::path(tag = "admin", responses((status = 200, description = "The user", body = UserView)), security(("bearer" = []), ("access_cookie" = [], "csrf_header" = [])))]
#[post("/admin/users/<id>/reset-two-factor")]
async fn reset_two_factor(id: i32, actor: Actor, app: &State<Gatehouse>) -> ApiResult<Json<UserView>> {
    let user = admin::reset_two_factor(app, &actor, id).await?;
    Ok(Json(user.into()))
}

#[utoipa::path(tag = "admin", responses((status = 200, description = "The user's sessions", body = SessionList)), security(("bearer" = []), ("access_cookie" = [], "csrf_header" = [])))]
#[get("/admin/users/<id>/sessions")]
async fn user_sessions(id: i32, _admin: AdminUser, app: &State<Gatehouse>) -> ApiResult<Json<SessionList>> {
    let sessions = reports::user_sessions(app, id).await?;
    Ok(Json(SessionList { sessions }))
}

#[utoipa::path(tag = "admin", responses((status = 204, description = "Revoked")), security(("bearer" = []), ("access_cookie" = [], "csrf_header" = [])))]
#[delete("/admin/sessions/<sid>")]
async fn delete_session(sid: &str, actor: Actor, app: &State<Gatehouse>) -> ApiResult<Status> {
    admin::revoke_session(app, &actor, sid, None).await?;
    Ok(Status::NoContent)
}

/// The audit log, newest first (see [`AuditQuery`]).
#[utoipa::path(tag = "admin", responses((status = 200, description = "A page of the audit log, newest first", body = AuditLogPage)), security(("bearer" = []), ("access_cookie" = [], "csrf_header" = [])))]
#[get("/admin/audit?<query..>")]
async fn audit_log(
    query: AuditQuery,
    _admin: AdminUser,
    app: &State<Gatehouse>,
) -> ApiResult<Json<AuditLogPage>> {
    let page = query.page();
    let filter = query.filter().map_err(Error::Fields)?;
    let found = reports::audit_page(app, filter, page).await?;
    Ok(Json(AuditLogPage {
        events: found.events,
        page,
        per_page: AUDIT_PER_PAGE,
        has_more: found.has_more,
    }))
}
