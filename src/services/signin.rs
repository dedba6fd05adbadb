//! Signing in and out: the library calls behind the login form, the JSON
//! API and Google sign-in.

pub use super::session::{issue_tokens, new_refresh_jti, open_session, start_session, SignedIn};
use crate::auth::limit::Attempt;
use crate::auth::password::check_policy;
use crate::db::audit::{self, EventKind, NewEvent};
use crate::db::session::{Device, Session};
use crate::db::user::User;
use crate::domain::now;
use crate::domain::Email;
use crate::error::Error;
use crate::state::Gatehouse;

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown email, wrong password, or a locked account: the same answer
    /// for all, so it tells nobody whether an account exists.
    #[error("Incorrect email or password. After repeated failures, sign-in pauses for a few minutes.")]
    InvalidCredentials,
    /// Too many attempts from this address.
    #[error("Too many sign-in attempts from your network. Wait a minute and try again.")]
    RateLimited,
    /// The right password for a disabled account.
    #[error("This account is disabled. Contact an administrator.")]
    Disabled,
    /// A wrong, already used or expired two-factor code (or a locked
    /// account at the second step: the same answer).
    #[error("That code is not right, or was already used. After repeated failures, sign-in pauses for a few minutes.")]
    WrongCode,
    /// A passkey's answer that was refused: an unknown credential, a bad
    /// signature, origin or relying party, a counter that went backwards,
    /// a locked account. Audited with the reason; the same answer for all.
    #[error("That passkey was not accepted. Try again, or sign in with your password.")]
    PasskeyRefused,
    #[error(transparent)]
    Other(#[from] Error),
}

/// What the right password leads to.
#[derive(Debug)]
pub enum PasswordSignIn {
    /// A session: the account has no second factor.
    SignedIn(Box<SignedIn>),
    /// Two-factor sign-in is on: no session yet, a code is asked for next
    /// (see [`crate::services::two_factor::pending_token`]).
    CodeRequired { user_id: i32, remember: bool },
}

/// Checks an email and password and starts a session, or, when the account
/// has two-factor sign-in on, says a code is needed. Unknown emails are
/// checked against a dummy hash, so they take as long as wrong passwords.
pub async fn sign_in_with_password(
    app: &Gatehouse,
    email: &str,
    password: String,
    device: Device,
    remember: bool,
) -> Result<PasswordSignIn, SignInError> {
    check_ip_limit(app, &device, Some(email), "per-IP sign-in limit").await?;
    let typed = Email::normalise(email);
    let user = match Email::parse(email) {
        Ok(email) => app.db.run(move |conn| User::find_by_email(conn, &email)).await?,
        Err(_) => None,
    };
    // The password is always checked (against a dummy hash if need be), so
    // every refusal takes the same time.
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let checked = app.passwords.check(password.clone(), hash.clone()).await?;
    let ok = checked.ok;
    let user = match user {
        Some(user) if user.is_locked(now()) => {
            record_refusal(app, user.id, device, "account locked").await?;
            return Err(SignInError::InvalidCredentials);
        }
        Some(user) if ok => user,
        other => {
            record_wrong_password(app, other.map(|u| u.id), typed, device).await?;
            return Err(SignInError::InvalidCredentials);
        }
    };
    if user.disabled {
        record_refusal(app, user.id, device, "account disabled").await?;
        return Err(SignInError::Disabled);
    }
    // Guesses in flight when the account locked were checked against the
    // row read before bcrypt: look again before starting a session.
    let id = user.id;
    let now_locked = app
        .db
        .run(move |conn| Ok(User::find(conn, id)?.is_some_and(|u| u.is_locked(now()))))
        .await?;
    if now_locked {
        record_refusal(app, user.id, device, "account locked").await?;
        return Err(SignInError::InvalidCredentials);
    }
    // Only now, for a usable account: hashing before the lock check would
    // make a right guess on a locked account slower than a wrong one.
    if let (true, Some(old)) = (checked.needs_rehash, hash) {
        rehash(app, user.id, old, password).await;
    }
    if user.two_factor_on() {
        return Ok(PasswordSignIn::CodeRequired {
            user_id: user.id,
            remember,
        });
    }
    let signed_in = start_session(app, user, device, remember, "password").await?;
    Ok(PasswordSignIn::SignedIn(Box::new(signed_in)))
}

/// Hashes the right password at the configured cost (after a cost change)
/// and stores it, off the async workers. A failure (say the password
/// threads are busy) is logged, not the sign-in's: the old hash still
/// works, and the next sign-in tries again.
async fn rehash(app: &Gatehouse, id: i32, old: String, password: String) {
    let stored = match app.passwords.hash(password).await {
        Ok(new) => {
            app.db
                .run(move |conn| User::rehash_password(conn, id, &old, &new))
                .await
        }
        Err(e) => Err(e),
    };
    if let Err(e) = stored {
        log::warn!(
            "could not store user {id}'s password hash at the new bcrypt cost: {}",
            e.chain()
        );
    }
}

/// A wrong email or password: counts the failure towards the account's
/// lockout (when there is an account) and writes it to the audit log.
async fn record_wrong_password(
    app: &Gatehouse,
    user_id: Option<i32>,
    typed: String,
    device: Device,
) -> Result<(), Error> {
    if let Some(id) = user_id {
        count_failure(app, id, &device, "too many failed sign-ins").await?;
    }
    if let Some(m) = &app.metrics {
        m.sign_in_failed("password");
    }
    record_event(
        app,
        user_id,
        Some(typed),
        device,
        EventKind::SignInFailed,
        "wrong email or password",
    )
    .await
}

/// Counts a failed guess (a password, a code) against the account's
/// lockout (`[login]`); when this one locks it, writes `account_locked`
/// with `locked_detail` to the audit log.
pub(crate) async fn count_failure(
    app: &Gatehouse,
    id: i32,
    device: &Device,
    locked_detail: &'static str,
) -> Result<(), Error> {
    let login = &app.config.login;
    let (max, window, lockout) = (
        login.max_failures as i32,
        login.failure_window as i64,
        login.lockout as i64,
    );
    let locked = app
        .db
        .run(move |conn| User::record_failure(conn, id, max, window, lockout))
        .await?;
    if locked {
        if let Some(m) = &app.metrics {
            m.lockout();
        }
        let kind = EventKind::AccountLocked;
        record_event(app, Some(id), None, device.clone(), kind, locked_detail).await?;
    }
    Ok(())
}

/// A refused sign-in of a known account, to the audit log.
async fn record_refusal(app: &Gatehouse, id: i32, device: Device, detail: &'static str) -> Result<(), Error> {
    if let Some(m) = &app.metrics {
        m.sign_in_failed("password");
    }
    record_event(app, Some(id), None, device, EventKind::SignInFailed, detail).await
}

/// Counts an attempt against the per-IP limit shared by every way of
/// signing in. A refused one is written to the audit log (`rate_limited`,
/// with `detail`) at most once a minute per address, so a flood can't fill
/// the log.
pub async fn check_ip_limit(
    app: &Gatehouse,
    device: &Device,
    email: Option<&str>,
    detail: &'static str,
) -> Result<(), SignInError> {
    match app.limiter.check(device.ip.parse().ok()).await? {
        Attempt::Allowed => Ok(()),
        Attempt::Limited { record } => {
            if let Some(m) = &app.metrics {
                m.rate_limited();
            }
            if record {
                let email = email.map(Email::normalise);
                record_event(app, None, email, device.clone(), EventKind::RateLimited, detail).await?;
            }
            Err(SignInError::RateLimited)
        }
    }
}

/// Writes an event about a sign-in (or registration) to the audit log, off
/// the async workers.
pub async fn record_event(
    app: &Gatehouse,
    user_id: Option<i32>,
    email: Option<String>,
    device: Device,
    kind: EventKind,
    detail: &'static str,
) -> Result<(), Error> {
    app.db
        .run(move |conn| {
            audit::record(
                conn,
                NewEvent {
                    user_id,
                    email: email.as_deref(),
                    device: Some(&device),
                    detail,
                    ..NewEvent::new(kind)
                },
            )
        })
        .await
}

/// Ends a session: its tokens stop working at once. The caller removes the
/// browser's cookies.
pub async fn sign_out(app: &Gatehouse, session: &Session, device: Device) -> Result<(), Error> {
    let (sid, user_id) = (session.id.clone(), session.user_id);
    app.db
        .run(move |conn| {
            conn.write(|conn| {
                Session::revoke(conn, &sid)?;
                audit::record(
                    conn,
                    NewEvent {
                        user_id: Some(user_id),
                        device: Some(&device),
                        ..NewEvent::new(EventKind::SignOut)
                    },
                )
            })
        })
        .await?;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum ChangePasswordError {
    #[error("The current password is incorrect.")]
    WrongPassword,
    /// Too many attempts (the per-IP limit, or the account's lockout, which
    /// wrong current passwords count towards too).
    #[error("Too many attempts. Wait a few minutes and try again.")]
    TooManyAttempts,
    #[error("{0}")]
    Policy(String),
    #[error(transparent)]
    Other(#[from] Error),
}

/// Changes the signed-in user's password (the current one must be given)
/// and, if asked, signs out every other session at once.
pub async fn change_password(
    app: &Gatehouse,
    user: &User,
    session_id: &str,
    current_password: String,
    new_password: String,
    sign_out_others: bool,
    device: Device,
) -> Result<usize, ChangePasswordError> {
    // The current password is a guess like any sign-in: limited per IP,
    // and wrong ones count towards the account's lockout.
    if let Attempt::Limited { .. } = app.limiter.check(device.ip.parse().ok()).await? {
        return Err(ChangePasswordError::TooManyAttempts);
    }
    if user.is_locked(now()) {
        return Err(ChangePasswordError::TooManyAttempts);
    }
    let ok = app
        .passwords
        .verify(current_password, user.password_hash.clone())
        .await?;
    if !ok {
        count_failure(app, user.id, &device, "too many wrong current passwords").await?;
        return Err(ChangePasswordError::WrongPassword);
    }
    check_policy(&new_password, app.config.password.min_length).map_err(ChangePasswordError::Policy)?;
    let hash = app.passwords.hash(new_password).await?;
    let (user_id, sid) = (user.id, session_id.to_owned());
    let revoked = app
        .db
        .run(move |conn| {
            conn.write(|conn| {
                User::set_password_hash(conn, user_id, &hash)?;
                let revoked = if sign_out_others {
                    Session::revoke_others(conn, user_id, &sid)?
                } else {
                    0
                };
                audit::record(
                    conn,
                    NewEvent {
                        user_id: Some(user_id),
                        device: Some(&device),
                        detail: if sign_out_others {
                            "other sessions signed out"
                        } else {
                            ""
                        },
                        ..NewEvent::new(EventKind::PasswordChanged)
                    },
                )?;
                Ok(revoked)
            })
        })
        .await?;
    Ok(revoked)
}
