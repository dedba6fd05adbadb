//! The admin JSON API's typed answers, so the OpenAPI document describes
//! each one's fields exactly (the user itself is [`UserView`]).

use serde::Serialize;

use super::views::UserView;
use crate::db::audit::AuditEvent;
use crate::db::session::Session;

/// A page of the users list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UsersPage {
    pub users: Vec<UserView>,
    /// How many users match, over every page.
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// A new user; `temporary_password` (returned once) when none was given.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedUser {
    #[serde(flatten)]
    pub user: UserView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temporary_password: Option<String>,
}

/// How many sessions were revoked.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RevokedCount {
    pub sessions_revoked: usize,
}

/// A password reset: the user, the temporary password (returned once) and
/// how many sessions were revoked.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PasswordReset {
    pub user: UserView,
    pub temporary_password: String,
    pub sessions_revoked: usize,
}

/// A user's open sessions.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionList {
    pub sessions: Vec<Session>,
}

/// A page of the audit log, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditLogPage {
    pub events: Vec<AuditEvent>,
    pub page: i64,
    pub per_page: i64,
    /// Whether a next page has events.
    pub has_more: bool,
}
