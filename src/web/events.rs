//! Audit events in words a person reads: what happened (with a badge
//! colour), who did it ("command line", "the user", an admin's email) and
//! the detail ("Google sign-in refused: no account"), for the admin pages.

use serde::Serialize;

use crate::db::audit::AuditEvent;

/// One event, worded for a page.
#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    pub id: i32,
    /// Unix seconds (for the `when` filter).
    pub at: i64,
    /// The stored kind (`sign_in_failed`).
    pub kind: String,
    /// What happened: "Sign-in failed".
    pub what: String,
    /// The badge's class: `badge-good`, `badge-bad`, `badge-info` or empty.
    pub badge: &'static str,
    /// The user the event is about, if any.
    pub user_id: Option<i32>,
    /// Their email, or what was typed when no account matched; else "no account".
    pub user: String,
    /// The admin who acted, if it was one.
    pub actor_id: Option<i32>,
    /// Who acted: an admin's email, "command line", "the user", "a visitor", "automatic".
    pub by: String,
    pub detail: String,
    pub ip: String,
}

impl EventView {
    /// Words `event`; `email_of` names the users it points to.
    pub fn new(event: &AuditEvent, email_of: impl Fn(i32) -> String) -> EventView {
        let user = match (event.user_id, &event.email) {
            (Some(id), _) => email_of(id),
            (None, Some(typed)) if !typed.is_empty() => typed.clone(),
            _ => "no account".to_owned(),
        };
        EventView {
            id: event.id,
            at: event.at,
            kind: event.kind.clone(),
            what: what(&event.kind),
            badge: badge(&event.kind),
            user_id: event.user_id,
            user,
            actor_id: event.actor_id,
            by: by(event, &email_of),
            detail: detail(&event.detail),
            ip: event.ip.clone(),
        }
    }
}

/// "sign_in_failed" -> "Sign-in failed", "two_factor_reset" -> "Two-factor reset".
pub fn what(kind: &str) -> String {
    let words = kind
        .replace("sign_in", "sign-in")
        .replace("two_factor", "two-factor")
        .replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The badge colour of a kind: refusals and removals are bad news,
/// additions good news, changes by someone information.
pub fn badge(kind: &str) -> &'static str {
    match kind {
        "sign_in_failed"
        | "account_locked"
        | "rate_limited"
        | "refresh_reused"
        | "user_deleted"
        | "user_disabled"
        | "two_factor_failed"
        | "passkey_sign_in_failed"
        | "two_factor_disabled" => "badge-bad",
        "sign_in" | "user_created" | "registered" | "account_unlocked" | "user_enabled"
        | "two_factor_enabled" | "passkey_added" | "google_linked" => "badge-good",
        "sign_out" | "refresh" => "",
        _ => "badge-info",
    }
}

fn by(event: &AuditEvent, email_of: &impl Fn(i32) -> String) -> String {
    if let Some(id) = event.actor_id {
        return email_of(id);
    }
    if event.detail.contains("from the command line") {
        return "command line".to_owned();
    }
    match event.kind.as_str() {
        "account_locked" | "rate_limited" | "refresh_reused" => "automatic".to_owned(),
        _ if event.user_id.is_none() => "a visitor".to_owned(),
        _ => "the user".to_owned(),
    }
}

/// The detail, with Google's refusal codes in words.
pub fn detail(detail: &str) -> String {
    match detail.strip_prefix("google: ") {
        Some(code) => format!("Google sign-in refused: {}", google_reason(code)),
        None => detail.to_owned(),
    }
}

fn google_reason(code: &str) -> String {
    let words = match code {
        "denied" => "cancelled at Google",
        "flow_missing" => "the sign-in had expired or was never started",
        "state_mismatch" => "the answer did not match the sign-in started",
        "provider_unreachable" => "Google could not be reached",
        "provider_timeout" => "Google did not answer in time",
        "code_rejected" => "Google refused the code",
        "invalid_id_token" => "Google's answer did not verify",
        "email_not_verified" => "the Google email is not verified",
        "no_email" => "Google gave no email",
        "domain_not_allowed" => "the Google account's domain is not allowed",
        "no_account" => "no account with that email",
        "link_not_allowed" => "linking is not allowed",
        "link_needs_sign_in" => "linking needs a sign-in first",
        "subject_taken" => "that Google account is linked to another user",
        "conflict" => "another sign-in changed the account at the same time",
        "linked_elsewhere" => "the account is linked to another Google account",
        "account_disabled" => "the account is disabled",
        "rate_limited" => "too many attempts",
        "bad_request" => "a malformed answer",
        "internal_error" => "an error on our side",
        other => return other.replace('_', " "),
    };
    words.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, user_id: Option<i32>, actor_id: Option<i32>, detail: &str) -> AuditEvent {
        AuditEvent {
            id: 1,
            at: 0,
            kind: kind.to_owned(),
            user_id,
            actor_id,
            email: None,
            ip: String::new(),
            user_agent: String::new(),
            detail: detail.to_owned(),
        }
    }

    fn view(e: &AuditEvent) -> EventView {
        EventView::new(e, |id| format!("user{id}@example.com"))
    }

    #[test]
    fn who_acted_is_named() {
        let cli = view(&event(
            "user_created",
            Some(2),
            None,
            "created from the command line",
        ));
        assert_eq!(
            (cli.by.as_str(), cli.user.as_str()),
            ("command line", "user2@example.com")
        );
        let admin = view(&event("role_changed", Some(2), Some(1), "role set to admin"));
        assert_eq!(admin.by, "user1@example.com");
        assert_eq!(view(&event("sign_in", Some(2), None, "password")).by, "the user");
        assert_eq!(view(&event("account_locked", Some(2), None, "")).by, "automatic");
        let anon = view(&event("sign_in_failed", None, None, "google: no_account"));
        assert_eq!(
            (anon.by.as_str(), anon.user.as_str()),
            ("a visitor", "no account")
        );
    }

    #[test]
    fn kinds_and_google_refusals_are_words() {
        assert_eq!(what("sign_in_failed"), "Sign-in failed");
        assert_eq!(what("two_factor_reset"), "Two-factor reset");
        assert_eq!(badge("sign_in_failed"), "badge-bad");
        assert_eq!(badge("user_created"), "badge-good");
        assert_eq!(
            detail("google: domain_not_allowed"),
            "Google sign-in refused: the Google account's domain is not allowed"
        );
        assert_eq!(
            detail("google: something_new"),
            "Google sign-in refused: something new"
        );
        assert_eq!(detail("tokens renewed"), "tokens renewed");
    }
}
