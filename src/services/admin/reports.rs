//! What admins read: the dashboard's counts, a user with their sessions and
//! recent events, a page of the users list, a page of the audit log. Shared
//! by the admin pages and the admin API.

use std::collections::HashMap;

use serde::Serialize;

use crate::db::audit::{self, AuditEvent, AuditFilter, EventKind};
use crate::db::session::Session;
use crate::db::user::{User, UserFilter};
use crate::domain::now;
use crate::error::Result;
use crate::state::Gatehouse;

/// Audit events on a page.
pub const AUDIT_PER_PAGE: i64 = 50;

/// The dashboard's figures (sign-ins and failures over the last day).
#[derive(Debug, Serialize)]
pub struct Counts {
    pub users: i64,
    pub admins: i64,
    pub disabled: i64,
    pub sessions: i64,
    pub sign_ins: i64,
    pub failures: i64,
}

pub async fn counts(app: &Gatehouse) -> Result<Counts> {
    let since = now() - 24 * 3600;
    app.db
        .run(move |conn| {
            let (users, admins, disabled) = User::counts(conn)?;
            Ok(Counts {
                users,
                admins,
                disabled,
                sessions: Session::count_active(conn)?,
                sign_ins: audit::count_since(conn, EventKind::SignIn, since)?,
                failures: audit::count_since(conn, EventKind::SignInFailed, since)?,
            })
        })
        .await
}

/// A user, their live sessions and their latest events.
pub async fn user_details(app: &Gatehouse, id: i32) -> Result<(User, Vec<Session>, Vec<AuditEvent>)> {
    let idle = app.config.jwt.session_idle_timeout;
    app.db
        .run(move |conn| {
            let user = User::get(conn, id)?;
            let sessions = Session::list_active(conn, id, idle)?;
            let events = audit::recent(conn, Some(id), 20)?;
            Ok((user, sessions, events))
        })
        .await
}

/// A user's live sessions (`NotFound` for an unknown user).
pub async fn user_sessions(app: &Gatehouse, id: i32) -> Result<Vec<Session>> {
    let idle = app.config.jwt.session_idle_timeout;
    app.db
        .run(move |conn| {
            User::get(conn, id)?;
            Session::list_active(conn, id, idle)
        })
        .await
}

/// A page of the users list, and how many users match in all.
pub async fn search_users(
    app: &Gatehouse,
    filter: UserFilter,
    page: i64,
    per_page: i64,
) -> Result<(Vec<User>, i64)> {
    app.db
        .run(move |conn| User::search(conn, &filter, page, per_page))
        .await
}

/// A page of the audit log, newest first.
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    /// Whether a next page has events.
    pub has_more: bool,
    /// The emails of the users and actors the events name, by id.
    pub emails: HashMap<i32, String>,
}

impl AuditPage {
    /// The email of a user an event names, or `user <id>` once deleted.
    pub fn email_of(&self, id: i32) -> String {
        self.emails
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("user {id}"))
    }
}

pub async fn audit_page(app: &Gatehouse, filter: AuditFilter, page: i64) -> Result<AuditPage> {
    let offset = (page - 1) * AUDIT_PER_PAGE;
    app.db
        .run(move |conn| {
            let mut events = audit::page(conn, &filter, offset, AUDIT_PER_PAGE + 1)?;
            let has_more = events.len() as i64 > AUDIT_PER_PAGE;
            events.truncate(AUDIT_PER_PAGE as usize);
            let mut ids: Vec<i32> = events
                .iter()
                .flat_map(|e| [e.user_id, e.actor_id])
                .flatten()
                .collect();
            ids.sort_unstable();
            ids.dedup();
            let emails = User::emails_by_ids(conn, &ids)?.into_iter().collect();
            Ok(AuditPage {
                events,
                has_more,
                emails,
            })
        })
        .await
}
