//! Two-factor sign-in: turning it on (a secret confirmed by a code, then
//! recovery codes), off, new recovery codes, and the sign-in's second step.
//! Every code is checked here, once: a TOTP step is accepted at most once
//! per user, and a recovery code is spent.

mod signin; // the second step of a sign-in: the pending token and the code

use std::fmt;

pub use signin::{check_pending, finish_sign_in, pending_token};

use crate::auth::limit::Attempt;
use crate::auth::totp;
use crate::db::audit::{self, EventKind, NewEvent};
use crate::db::session::Device;
use crate::db::two_factor::{RecoveryCodes, TotpSecret};
use crate::db::user::User;
use crate::domain::now;
use crate::error::{Error, Result};
use crate::services::signin::{count_failure, record_event};
use crate::state::Gatehouse;

#[derive(Debug, thiserror::Error)]
pub enum TwoFactorError {
    #[error("That code is not right, or was already used. Enter the code your app shows now.")]
    WrongCode,
    #[error("Too many attempts. Wait a few minutes and try again.")]
    TooManyAttempts,
    #[error(transparent)]
    Other(#[from] Error),
}

/// A secret waiting to be confirmed, to show once as a QR code and as text.
pub struct Enrollment {
    /// Base32.
    pub secret: String,
    /// The `otpauth://totp/...` URI the QR code holds.
    pub uri: String,
}

impl fmt::Debug for Enrollment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Enrollment([redacted])")
    }
}

/// Which second factor a code was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factor {
    Totp,
    Recovery,
}

/// How many unused recovery codes a user has left.
pub async fn recovery_codes_left(app: &Gatehouse, user_id: i32) -> Result<i64> {
    app.db
        .run(move |conn| RecoveryCodes::remaining(conn, user_id))
        .await
}

/// Starts (or resumes) turning two-factor sign-in on: the pending secret,
/// made now if there is none. Refused when it is already on.
pub async fn begin(app: &Gatehouse, user: &User) -> Result<Enrollment> {
    if user.two_factor_on() {
        return Err(Error::Invalid("Two-factor sign-in is already on.".into()));
    }
    let user_id = user.id;
    let secret = app
        .db
        .run(move |conn| {
            conn.write(|conn| match TotpSecret::find(conn, user_id)? {
                Some(pending) => Ok(pending.secret),
                None => {
                    let secret = totp::new_secret();
                    TotpSecret::replace(conn, user_id, &secret)?;
                    Ok(secret)
                }
            })
        })
        .await?;
    let uri = totp::totp(&secret, &app.config.site_name, &user.email)?
        .to_url()
        .map_err(|e| Error::TwoFactor(format!("otpauth URL: {e}")))?;
    Ok(Enrollment { secret, uri })
}

/// Turns two-factor sign-in on when `code` is right for the pending
/// secret; returns the new recovery codes (shown once, stored hashed).
pub async fn confirm(
    app: &Gatehouse,
    user: &User,
    code: &str,
    device: Device,
) -> std::result::Result<Vec<String>, TwoFactorError> {
    if user.two_factor_on() {
        return Err(Error::Invalid("Two-factor sign-in is already on.".into()).into());
    }
    if let Attempt::Limited { .. } = app.limiter.check(device.ip.parse().ok()).await? {
        return Err(TwoFactorError::TooManyAttempts);
    }
    let user_id = user.id;
    let pending = app.db.run(move |conn| TotpSecret::find(conn, user_id)).await?;
    let Some(pending) = pending else {
        return Err(Error::Invalid("Start again: there is no secret waiting to be confirmed.".into()).into());
    };
    let t = totp::totp(&pending.secret, &app.config.site_name, &user.email)?;
    let Some(step) = totp::check(&t, code, now() as u64) else {
        return Err(TwoFactorError::WrongCode);
    };
    let codes = totp::new_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| totp::recovery_hash(c)).collect();
    let enabled = app
        .db
        .run(move |conn| {
            conn.write(|conn| {
                if !TotpSecret::use_step(conn, user_id, step)? {
                    return Ok(false);
                }
                TotpSecret::enable(conn, user_id)?;
                RecoveryCodes::replace(conn, user_id, &hashes)?;
                audit::record(
                    conn,
                    NewEvent {
                        user_id: Some(user_id),
                        device: Some(&device),
                        ..NewEvent::new(EventKind::TwoFactorEnabled)
                    },
                )?;
                Ok(true)
            })
        })
        .await?;
    if !enabled {
        return Err(TwoFactorError::WrongCode);
    }
    Ok(codes)
}

/// Checks a second factor for a user with two-factor sign-in on: a current
/// TOTP code (each step accepted once) or an unused recovery code (spent).
/// `None` when it is neither. Records nothing else.
pub(crate) async fn check_code(app: &Gatehouse, user: &User, code: &str) -> Result<Option<Factor>> {
    let user_id = user.id;
    if totp::looks_like_totp(code) {
        // One round trip: the secret, the code's step (an HMAC), and the
        // step spent.
        let (issuer, email, code) = (app.config.site_name.clone(), user.email.clone(), code.to_owned());
        let fresh = app
            .db
            .run(move |conn| {
                let Some(secret) = TotpSecret::find(conn, user_id)? else {
                    return Ok(false);
                };
                let t = totp::totp(&secret.secret, &issuer, &email)?;
                match totp::check(&t, &code, now() as u64) {
                    Some(step) => TotpSecret::use_step(conn, user_id, step),
                    None => Ok(false),
                }
            })
            .await?;
        return Ok(fresh.then_some(Factor::Totp));
    }
    let hash = totp::recovery_hash(code);
    let spent = app
        .db
        .run(move |conn| RecoveryCodes::spend(conn, user_id, &hash))
        .await?;
    Ok(spent.then_some(Factor::Recovery))
}

/// A refused code: counted towards the account's lockout and audited.
pub(crate) async fn record_wrong_code(
    app: &Gatehouse,
    user_id: i32,
    device: Device,
    detail: &'static str,
) -> Result<()> {
    count_failure(app, user_id, &device, "too many wrong two-factor codes").await?;
    if let Some(m) = &app.metrics {
        m.sign_in_failed("two-factor");
    }
    record_event(
        app,
        Some(user_id),
        None,
        device,
        EventKind::TwoFactorFailed,
        detail,
    )
    .await
}

/// Checks a code given to confirm an action (turning two-factor off): the
/// per-IP limit, the lockout, then the code; wrong ones count and are
/// audited, a recovery code used is audited.
async fn confirm_with_code(
    app: &Gatehouse,
    user: &User,
    code: &str,
    device: &Device,
    wrong: &'static str,
) -> std::result::Result<Factor, TwoFactorError> {
    if let Attempt::Limited { .. } = app.limiter.check(device.ip.parse().ok()).await? {
        return Err(TwoFactorError::TooManyAttempts);
    }
    if user.is_locked(now()) {
        return Err(TwoFactorError::TooManyAttempts);
    }
    match check_code(app, user, code).await? {
        Some(factor) => Ok(factor),
        None => {
            record_wrong_code(app, user.id, device.clone(), wrong).await?;
            Err(TwoFactorError::WrongCode)
        }
    }
}

/// Turns two-factor sign-in off, given a current code or a recovery code:
/// the secret and recovery codes are deleted.
pub async fn disable(
    app: &Gatehouse,
    user: &User,
    code: &str,
    device: Device,
) -> std::result::Result<(), TwoFactorError> {
    if !user.two_factor_on() {
        return Err(Error::Invalid("Two-factor sign-in is not on.".into()).into());
    }
    let factor = confirm_with_code(app, user, code, &device, "wrong code to turn two-factor off").await?;
    let user_id = user.id;
    app.db
        .run(move |conn| {
            conn.write(|conn| {
                TotpSecret::disable(conn, user_id)?;
                let detail = match factor {
                    Factor::Totp => "with a code",
                    Factor::Recovery => "with a recovery code",
                };
                audit::record(
                    conn,
                    NewEvent {
                        user_id: Some(user_id),
                        device: Some(&device),
                        detail,
                        ..NewEvent::new(EventKind::TwoFactorDisabled)
                    },
                )
            })
        })
        .await?;
    Ok(())
}

/// New recovery codes in place of the old ones (all of which stop
/// working), given a current code or a recovery code.
pub async fn regenerate(
    app: &Gatehouse,
    user: &User,
    code: &str,
    device: Device,
) -> std::result::Result<Vec<String>, TwoFactorError> {
    if !user.two_factor_on() {
        return Err(Error::Invalid("Two-factor sign-in is not on.".into()).into());
    }
    confirm_with_code(app, user, code, &device, "wrong code for new recovery codes").await?;
    let codes = totp::new_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| totp::recovery_hash(c)).collect();
    let user_id = user.id;
    app.db
        .run(move |conn| {
            conn.write(|conn| {
                RecoveryCodes::replace(conn, user_id, &hashes)?;
                audit::record(
                    conn,
                    NewEvent {
                        user_id: Some(user_id),
                        device: Some(&device),
                        ..NewEvent::new(EventKind::RecoveryCodesRegenerated)
                    },
                )
            })
        })
        .await?;
    Ok(codes)
}
