//! The audit log: who did what, when, from where.

use diesel::prelude::*;
use serde::Serialize;

use super::schema::audit_events;
use super::session::Device;
use super::{now, DbConn};
use crate::error::Result;

/// What happened. Stored as the snake-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    SignIn,
    SignInFailed,
    AccountLocked,
    AccountUnlocked,
    RateLimited,
    SignOut,
    Refresh,
    RefreshReused,
    UserCreated,
    UserDeleted,
    UserUpdated,
    PasswordChanged,
    RoleChanged,
    UserDisabled,
    UserEnabled,
    GoogleLinked,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::SignIn => "sign_in",
            EventKind::SignInFailed => "sign_in_failed",
            EventKind::AccountLocked => "account_locked",
            EventKind::AccountUnlocked => "account_unlocked",
            EventKind::RateLimited => "rate_limited",
            EventKind::SignOut => "sign_out",
            EventKind::Refresh => "refresh",
            EventKind::RefreshReused => "refresh_reused",
            EventKind::UserCreated => "user_created",
            EventKind::UserDeleted => "user_deleted",
            EventKind::UserUpdated => "user_updated",
            EventKind::PasswordChanged => "password_changed",
            EventKind::RoleChanged => "role_changed",
            EventKind::UserDisabled => "user_disabled",
            EventKind::UserEnabled => "user_enabled",
            EventKind::GoogleLinked => "google_linked",
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    pub id: i32,
    pub at: i64,
    pub kind: String,
    pub user_id: Option<i32>,
    pub actor_id: Option<i32>,
    pub email: Option<String>,
    pub ip: String,
    pub user_agent: String,
    pub detail: String,
}

/// One event to record. `actor_id` is who acted when that is not the user
/// themself (an admin, say); `email` is what was typed when no user matched.
pub struct NewEvent<'a> {
    pub kind: EventKind,
    pub user_id: Option<i32>,
    pub actor_id: Option<i32>,
    pub email: Option<&'a str>,
    pub device: Option<&'a Device>,
    pub detail: &'a str,
}

impl<'a> NewEvent<'a> {
    pub fn new(kind: EventKind) -> Self {
        Self {
            kind,
            user_id: None,
            actor_id: None,
            email: None,
            device: None,
            detail: "",
        }
    }
}

pub fn record(conn: &mut DbConn, event: NewEvent<'_>) -> Result<()> {
    let (ip, user_agent) = event
        .device
        .map(|d| (d.ip.as_str(), d.user_agent.as_str()))
        .unwrap_or(("", ""));
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::at.eq(now()),
            audit_events::kind.eq(event.kind.as_str()),
            audit_events::user_id.eq(event.user_id),
            audit_events::actor_id.eq(event.actor_id),
            audit_events::email.eq(event.email),
            audit_events::ip.eq(ip),
            audit_events::user_agent.eq(user_agent),
            audit_events::detail.eq(event.detail),
        ))
        .execute(conn)?;
    Ok(())
}

/// One page of events, newest first, filtered by user and kind.
pub fn page(
    conn: &mut DbConn,
    user_id: Option<i32>,
    kind: Option<&str>,
    page: i64,
    per_page: i64,
) -> Result<Vec<AuditEvent>> {
    let mut query = audit_events::table
        .select(AuditEvent::as_select())
        .order((audit_events::at.desc(), audit_events::id.desc()))
        .limit(per_page)
        .offset((page - 1).max(0) * per_page)
        .into_boxed();
    if let Some(id) = user_id {
        query = query.filter(audit_events::user_id.eq(id));
    }
    if let Some(kind) = kind {
        query = query.filter(audit_events::kind.eq(kind.to_owned()));
    }
    Ok(query.load(conn)?)
}

/// The most recent events, newest first (optionally of one user).
pub fn recent(conn: &mut DbConn, user_id: Option<i32>, limit: i64) -> Result<Vec<AuditEvent>> {
    let mut query = audit_events::table
        .select(AuditEvent::as_select())
        .order((audit_events::at.desc(), audit_events::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some(id) = user_id {
        query = query.filter(audit_events::user_id.eq(id));
    }
    Ok(query.load(conn)?)
}

/// How many events of a kind happened since `since`.
pub fn count_since(conn: &mut DbConn, kind: EventKind, since: i64) -> Result<i64> {
    Ok(audit_events::table
        .filter(audit_events::kind.eq(kind.as_str()))
        .filter(audit_events::at.ge(since))
        .count()
        .get_result(conn)?)
}
