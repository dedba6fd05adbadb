//! Mailed links (registration, password reset): how long each works, and
//! whether the forgotten-password links can be on.

use super::error::{bad, ConfigError};
use super::mail::{MailConfig, Transport};

/// The checked link settings.
pub(super) struct Links {
    pub registration_link_expires: i64,
    pub password_reset: bool,
    pub password_reset_off: Option<&'static str>,
    pub password_reset_expires: i64,
}

/// Checks the lifetimes and settles `password_reset`: unset, it is on
/// where mail can carry links and off (saying why) elsewhere; `true`
/// where it can't be on is an error; `false` is off.
pub(super) fn check(
    registration_link_expires: u64,
    password_reset: Option<bool>,
    password_reset_expires: u64,
    release: bool,
    mail: &MailConfig,
    public_url: &str,
) -> Result<Links, ConfigError> {
    if !(300..=7 * 24 * 3600).contains(&registration_link_expires) {
        return Err(bad(
            "registration_link_expires",
            "must be between 300 seconds and 7 days",
        ));
    }
    if !(300..=24 * 3600).contains(&password_reset_expires) {
        return Err(bad(
            "password_reset_expires",
            "must be between 300 seconds and 24 hours",
        ));
    }
    let off = if password_reset == Some(false) {
        None
    } else if !cfg!(feature = "mail") {
        Some("this Gatehouse was built without the `mail` feature")
    } else if release && public_url.is_empty() {
        Some("`public_url` is not set (links in mails point at it)")
    } else if release && matches!(mail.transport, Transport::Log) {
        Some("`mail.transport` is `log`, which would write working links to the server log")
    } else {
        None
    };
    if let (Some(why), Some(true)) = (off, password_reset) {
        return Err(bad("password_reset", format!("can't be on: {why}")));
    }
    Ok(Links {
        registration_link_expires: registration_link_expires as i64,
        password_reset: password_reset != Some(false) && off.is_none(),
        password_reset_off: off,
        password_reset_expires: password_reset_expires as i64,
    })
}
