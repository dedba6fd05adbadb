//! The audit log: who did what, when, from where.

use diesel::prelude::*;
use serde::Serialize;

use super::schema::audit_events;
use super::session::{Device, MAX_USER_AGENT};
use super::user::User;
use super::DbConn;
use crate::domain::now;
use crate::domain::text::{check_line, escaped, CONTROL_MESSAGE};
use crate::domain::Email;
use crate::error::{FieldErrors, Result};

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
    PasswordReset,
    GoogleUnlinked,
    Registered,
    GoogleLinked,
    RegistrationRequested,
    TwoFactorEnabled,
    TwoFactorDisabled,
    TwoFactorFailed,
    TwoFactorReset,
    RecoveryCodeUsed,
    RecoveryCodesRegenerated,
    PasswordResetRequested,
    PasskeyAdded,
    PasskeyRenamed,
    PasskeyRemoved,
    PasskeySignInFailed,
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
            EventKind::PasswordReset => "password_reset",
            EventKind::GoogleUnlinked => "google_unlinked",
            EventKind::Registered => "registered",
            EventKind::GoogleLinked => "google_linked",
            EventKind::RegistrationRequested => "registration_requested",
            EventKind::TwoFactorEnabled => "two_factor_enabled",
            EventKind::TwoFactorDisabled => "two_factor_disabled",
            EventKind::TwoFactorFailed => "two_factor_failed",
            EventKind::TwoFactorReset => "two_factor_reset",
            EventKind::RecoveryCodeUsed => "recovery_code_used",
            EventKind::RecoveryCodesRegenerated => "recovery_codes_regenerated",
            EventKind::PasswordResetRequested => "password_reset_requested",
            EventKind::PasskeyAdded => "passkey_added",
            EventKind::PasskeyRenamed => "passkey_renamed",
            EventKind::PasskeyRemoved => "passkey_removed",
            EventKind::PasskeySignInFailed => "passkey_sign_in_failed",
        }
    }

    /// Every kind, for the audit log's filter.
    pub const ALL: [EventKind; 31] = [
        EventKind::SignIn,
        EventKind::SignInFailed,
        EventKind::AccountLocked,
        EventKind::AccountUnlocked,
        EventKind::RateLimited,
        EventKind::SignOut,
        EventKind::Refresh,
        EventKind::RefreshReused,
        EventKind::UserCreated,
        EventKind::UserDeleted,
        EventKind::UserUpdated,
        EventKind::PasswordChanged,
        EventKind::PasswordResetRequested,
        EventKind::PasswordReset,
        EventKind::RoleChanged,
        EventKind::UserDisabled,
        EventKind::UserEnabled,
        EventKind::GoogleLinked,
        EventKind::GoogleUnlinked,
        EventKind::RegistrationRequested,
        EventKind::Registered,
        EventKind::TwoFactorEnabled,
        EventKind::TwoFactorDisabled,
        EventKind::TwoFactorFailed,
        EventKind::TwoFactorReset,
        EventKind::RecoveryCodeUsed,
        EventKind::RecoveryCodesRegenerated,
        EventKind::PasskeyAdded,
        EventKind::PasskeyRenamed,
        EventKind::PasskeyRemoved,
        EventKind::PasskeySignInFailed,
    ];
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
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

/// The most characters an event keeps of what was typed as an email (the
/// longest address there is).
pub const MAX_EMAIL: usize = 254;
/// The most characters an event keeps of its detail.
pub const MAX_DETAIL: usize = 500;
/// The most characters an event keeps of an address.
const MAX_IP: usize = 64;

/// Writes an event. Every text field is bounded here, and its control and
/// invisible characters escaped, whoever calls: an anonymous sign-in can
/// carry a 900 KB email or User-Agent, or a NUL (which PostgreSQL refuses).
pub fn record(conn: &mut DbConn, event: NewEvent<'_>) -> Result<()> {
    let (ip, user_agent) = event
        .device
        .map(|d| (d.ip.as_str(), d.user_agent.as_str()))
        .unwrap_or(("", ""));
    let email = event.email.map(|e| escaped(e, MAX_EMAIL));
    let (ip, user_agent) = (escaped(ip, MAX_IP), escaped(user_agent, MAX_USER_AGENT));
    let detail = escaped(event.detail, MAX_DETAIL);
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::at.eq(now()),
            audit_events::kind.eq(event.kind.as_str()),
            audit_events::user_id.eq(event.user_id),
            audit_events::actor_id.eq(event.actor_id),
            audit_events::email.eq(email),
            audit_events::ip.eq(ip),
            audit_events::user_agent.eq(user_agent),
            audit_events::detail.eq(detail),
        ))
        .execute(conn)?;
    Ok(())
}

/// Which events to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Events about this user.
    pub user_id: Option<i32>,
    /// Or events that name this email (sign-in attempts for an unknown
    /// address, say); with `user_id`, either matches.
    pub email: Option<String>,
    pub kind: Option<String>,
    /// From this time on (Unix seconds, inclusive).
    pub from: Option<i64>,
    /// Before this time (Unix seconds, exclusive).
    pub until: Option<i64>,
}

impl AuditFilter {
    /// Reads a filter as typed: `user` an id or an email; `kind` one of
    /// [`EventKind::ALL`]; `from` and `to` dates (`YYYY-MM-DD`, UTC, both
    /// days included) or Unix seconds (`to` then excluded). Empty means any.
    pub fn parse(
        user: Option<&str>,
        kind: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
    ) -> std::result::Result<AuditFilter, FieldErrors> {
        fn given(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|v| !v.is_empty())
        }
        let mut errors = FieldErrors::new();
        let mut filter = AuditFilter::default();
        if let Some(user) = given(user) {
            match user.parse::<i32>() {
                Ok(id) => filter.user_id = Some(id),
                Err(_) if check_line(user).is_err() => errors.add("user", CONTROL_MESSAGE),
                // As an event stores it: an email that was never an address
                // (escaped, bounded) is found by what was typed.
                Err(_) => filter.email = Some(escaped(&Email::normalise(user), MAX_EMAIL)),
            }
        }
        if let Some(kind) = given(kind) {
            match EventKind::ALL.iter().find(|k| k.as_str() == kind) {
                Some(k) => filter.kind = Some(k.as_str().to_owned()),
                None => errors.add("type", "Choose an event type from the list."),
            }
        }
        let mut time = |field: &'static str, value: Option<&str>, end_of_day: bool| {
            let value = given(value)?;
            if let Ok(seconds) = value.parse::<i64>() {
                return Some(seconds);
            }
            match parse_date(value) {
                Some(start) => Some(if end_of_day { start + 86_400 } else { start }),
                None => {
                    errors.add(field, "Use a date like 2026-11-22.");
                    None
                }
            }
        };
        filter.from = time("from", from, false);
        filter.until = time("to", to, true);
        if let (Some(from), Some(until)) = (filter.from, filter.until) {
            if until <= from {
                errors.add("to", "The end must be after the start.");
            }
        }
        if errors.is_empty() {
            Ok(filter)
        } else {
            Err(errors)
        }
    }
}

/// The start of a day (`YYYY-MM-DD`, UTC) in Unix seconds.
fn parse_date(value: &str) -> Option<i64> {
    let mut parts = value.splitn(3, '-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day: u8 = parts.next()?.parse().ok()?;
    let date = time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp())
}

/// Up to `limit` events matching a filter, newest first, skipping `offset`.
/// An email filter also finds the events of the user with that email. Every
/// filter is served by an index (`user_id, at`, `kind, at`, `at`, `email`).
pub fn page(conn: &mut DbConn, filter: &AuditFilter, offset: i64, limit: i64) -> Result<Vec<AuditEvent>> {
    let mut filter = filter.clone();
    if let (None, Some(email)) = (filter.user_id, filter.email.as_deref()) {
        if let Ok(email) = Email::parse(email) {
            filter.user_id = User::find_by_email(conn, &email)?.map(|u| u.id);
        }
    }
    let mut query = audit_events::table
        .select(AuditEvent::as_select())
        .order((audit_events::at.desc(), audit_events::id.desc()))
        .limit(limit)
        .offset(offset.max(0))
        .into_boxed();
    match (filter.user_id, filter.email.clone()) {
        (Some(id), Some(email)) => {
            query = query.filter(audit_events::user_id.eq(id).or(audit_events::email.eq(email)))
        }
        (Some(id), None) => query = query.filter(audit_events::user_id.eq(id)),
        (None, Some(email)) => query = query.filter(audit_events::email.eq(email)),
        (None, None) => {}
    }
    if let Some(kind) = filter.kind.clone() {
        query = query.filter(audit_events::kind.eq(kind));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_events::at.ge(from));
    }
    if let Some(until) = filter.until {
        query = query.filter(audit_events::at.lt(until));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse() {
        let f = AuditFilter::parse(
            Some(" 12 "),
            Some("sign_in"),
            Some("2026-11-22"),
            Some("2026-11-22"),
        )
        .unwrap();
        assert_eq!(f.user_id, Some(12));
        assert_eq!(f.kind.as_deref(), Some("sign_in"));
        assert_eq!(f.from, Some(1_795_305_600));
        assert_eq!(f.until, Some(1_795_305_600 + 86_400), "the end day is included");
        let f = AuditFilter::parse(Some("Ada@Example.com"), Some(""), None, Some("")).unwrap();
        assert_eq!(f.email.as_deref(), Some("ada@example.com"));
        assert_eq!((f.kind, f.from, f.until), (None, None, None));
        let e =
            AuditFilter::parse(None, Some("drop table"), Some("2026-13-01"), Some("yesterday")).unwrap_err();
        assert!(e.get("type").is_some() && e.get("from").is_some() && e.get("to").is_some());
        let e = AuditFilter::parse(Some("ada\0@example.com"), None, None, None).unwrap_err();
        assert!(e.get("user").unwrap().contains("control"));
        let e = AuditFilter::parse(None, None, Some("2026-11-23"), Some("2026-11-22")).unwrap_err();
        assert!(e.get("to").unwrap().contains("after"));
    }
}
