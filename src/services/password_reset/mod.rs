//! A forgotten password, reset by a mailed link (`/password/forgot`, when
//! `password_reset` is on), in two steps, so that nobody learns from it
//! whether an email has an account:
//!
//! 1. [`request`]: an email address. Whatever it is, the answer is the same
//!    ("check your mail") after the same work: one row in
//!    `password_resets`, one `password_reset_requested` audit event and one
//!    mail. An account gets a link; an address without one gets a note
//!    saying so (and how to register, when `registration` is on); a
//!    disabled account gets a note saying it is disabled, and no link.
//!    A Google-only account (no password) gets a link too, which sets its
//!    first password: whoever reads the mailbox controls the account anyway
//!    (Google sign-in keys on the same address), and the mail says that the
//!    account signs in with Google.
//! 2. [`reset`]: whoever holds the link picks a new password; in one
//!    transaction it is set, every session of the account is revoked, a
//!    lockout and `must_change_password` are cleared, `password_reset` is
//!    written to the audit log and a new session starts
//!    ([`sign_in_after_reset`]).
//!
//! The link's token is 256 random bits; only its SHA-256 is stored. A link
//! works once, until `password_reset_expires`; using one spends every other
//! link of the account. A disabled account's link never signs in, and a
//! link works only while the account has the address it was mailed to.

mod mail; // the text of the three mails

use mail::{disabled_mail, link_mail, no_account_mail};

use crate::auth::password::check_policy;
use crate::db::audit::{self, EventKind, NewEvent};
use crate::db::password_reset::ResetMail;
use crate::db::session::{Device, Session};
use crate::db::user::User;
use crate::db::DbConn;
use crate::domain::Email;
use crate::error::{Error, FieldErrors};
use crate::services::link::{lookup_hash, new_token, token_hash};
use crate::services::signin::{self, PasswordSignIn, SignInError};
use crate::state::Gatehouse;

/// Mails one address can be sent per hour; beyond, requests are answered
/// as usual but send nothing (no mail-bombing through the form).
pub const MAILS_PER_ADDRESS_PER_HOUR: i64 = 3;

/// Where a reset link points.
pub const RESET_PATH: &str = "/password/reset";

/// Step 1: mails `email` a reset link, or a note. Refused only by the
/// per-IP limit or a failed mail, the same way for every address.
pub async fn request(
    app: &Gatehouse,
    email: Email,
    next: Option<String>,
    device: Device,
) -> Result<(), SignInError> {
    let detail = "per-IP sign-in limit (password reset)";
    signin::check_ip_limit(app, &device, Some(email.as_str()), detail).await?;
    let token = new_token();
    let hash = token_hash(&token);
    let lifetime = app.config.password_reset_expires;
    let address = email.clone();
    let (user, row) = app
        .db
        .run(move |conn| {
            conn.write(|conn| {
                ResetMail::lock_address(conn, address.as_str())?;
                let user = User::find_by_email(conn, &address)?;
                if ResetMail::recent_mails(conn, &address)? >= MAILS_PER_ADDRESS_PER_HOUR {
                    return Ok((user, None));
                }
                let link = user
                    .as_ref()
                    .filter(|u| !u.disabled)
                    .map(|u| (u.id, hash.as_str()));
                let row = ResetMail::record(conn, &address, link, next.as_deref(), lifetime)?;
                Ok((user, Some(row)))
            })
        })
        .await?;
    let mailed = match row {
        None => Mailed::Limited,
        Some(row) => {
            let (sent, (subject, body)) = match &user {
                None => (Mailed::NoAccount, no_account_mail(app, &email)),
                Some(u) if u.disabled => (Mailed::Disabled, disabled_mail(app, &email)),
                Some(u) => {
                    let google_only = u.password_hash.is_none();
                    (Mailed::Link, link_mail(app, &email, &token, google_only))
                }
            };
            match app.mailer.send(&email, &subject, body).await {
                Ok(()) => sent,
                Err(e) => {
                    // Not sent: it doesn't count towards the limit.
                    app.db.run(move |conn| ResetMail::forget(conn, row)).await?;
                    Mailed::Failed(e)
                }
            }
        }
    };
    // Written once the mail's fate is known, the same way for all.
    let user_id = user.map(|u| u.id);
    let kind = EventKind::PasswordResetRequested;
    let typed = Some(email.as_str().to_owned());
    signin::record_event(app, user_id, typed, device, kind, mailed.detail()).await?;
    match mailed {
        Mailed::Failed(e) => Err(e.into()),
        _ => Ok(()),
    }
}

/// What became of a request's mail.
enum Mailed {
    Link,
    NoAccount,
    Disabled,
    Limited,
    Failed(Error),
}

impl Mailed {
    /// For the audit log.
    fn detail(&self) -> &'static str {
        match self {
            Mailed::Link => "link sent",
            Mailed::NoAccount => "no account, note sent",
            Mailed::Disabled => "account disabled, note sent",
            Mailed::Limited => "mail limit reached, none sent",
            Mailed::Failed(_) => "mail not sent",
        }
    }
}

/// Why a link or its form was refused.
#[derive(Debug)]
pub enum ResetError {
    /// The link is unknown, used or expired.
    LinkInvalid,
    /// The account was disabled after the link was sent: it is not signed
    /// in, and nothing is changed.
    Disabled,
    /// Fields to correct (`password`, `confirm_password`); the form is shown
    /// again for `email`.
    Fields {
        email: String,
        errors: FieldErrors,
    },
    /// Past the per-IP sign-in limit.
    RateLimited,
    Other(Error),
}

impl From<Error> for ResetError {
    fn from(e: Error) -> Self {
        ResetError::Other(e)
    }
}

/// The link's row and account, while the link is valid and the account
/// not disabled. Reads only (it serves a GET).
pub async fn pending(app: &Gatehouse, token: &str) -> Result<ResetMail, ResetError> {
    let Some(hash) = lookup_hash(token) else {
        return Err(ResetError::LinkInvalid);
    };
    let (row, user) = app
        .db
        .run(move |conn| {
            let Some(row) = ResetMail::find_valid(conn, &hash)? else {
                return Ok((None, None));
            };
            let user = match row.user_id {
                Some(id) => User::find(conn, id)?,
                None => None,
            };
            Ok((Some(row), user))
        })
        .await?;
    match (row, user) {
        // A link works only for the address it was mailed to: not once an
        // admin has given the account another.
        (Some(row), Some(user)) if user.email != row.email => Err(ResetError::LinkInvalid),
        (Some(_), Some(user)) if user.disabled => Err(ResetError::Disabled),
        (Some(row), Some(_)) => Ok(row),
        _ => Err(ResetError::LinkInvalid),
    }
}

/// What the link's holder types.
#[derive(Clone)]
pub struct NewPassword {
    pub password: String,
    pub confirm_password: String,
}

impl std::fmt::Debug for NewPassword {
    /// Never prints the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewPassword").finish_non_exhaustive()
    }
}

impl NewPassword {
    /// The password rules used everywhere, and the two must match.
    pub fn validate(self, min_length: usize) -> Result<String, FieldErrors> {
        let mut errors = FieldErrors::new();
        if let Err(message) = check_policy(&self.password, min_length) {
            errors.add("password", message);
        } else if self.password != self.confirm_password {
            errors.add("confirm_password", "The passwords do not match.");
        }
        errors.is_empty().then_some(self.password).ok_or(errors)
    }
}

/// A finished reset: what the new password leads to, and where to go.
pub struct ResetDone {
    /// A new session, or, for an account with two-factor sign-in on, the
    /// code step (no session yet).
    pub signed_in: PasswordSignIn,
    pub next: Option<String>,
    /// Sessions the reset signed out.
    pub sessions_revoked: usize,
}

/// Step 2: sets a new password for a valid link and signs in: the per-IP
/// limit, then the link, then the fields, then the bcrypt work, then one
/// transaction. `remember`: a long session (the API's, as its sign-in).
pub async fn reset(
    app: &Gatehouse,
    token: &str,
    form: NewPassword,
    device: Device,
    remember: bool,
) -> Result<ResetDone, ResetError> {
    let (hash, row, password) = check_link_and_form(app, token, form, &device).await?;
    let password_hash = app.passwords.hash(password).await?;
    let lifetime = app.session_lifetime(remember);
    let refresh_jti = signin::new_refresh_jti();
    let jti = refresh_jti.clone();
    let done = app
        .db
        .run(move |conn| {
            conn.write(|conn| {
                // Of two submissions of one link, one gets it.
                ResetMail::lock_address(conn, &row.email)?;
                let Some(claimed) = ResetMail::claim(conn, &hash)? else {
                    return Ok(Done::LinkSpent);
                };
                let Some(user) = claimed
                    .user_id
                    .map(|id| User::find(conn, id))
                    .transpose()?
                    .flatten()
                    .filter(|u| u.email == claimed.email)
                else {
                    return Ok(Done::LinkSpent);
                };
                if user.disabled {
                    // Disabled since the check above: the link is spent,
                    // nothing else changes.
                    return Ok(Done::Disabled);
                }
                User::set_password_hash(conn, user.id, &password_hash)?;
                User::unlock(conn, user.id)?;
                let revoked = Session::revoke_all_for_user(conn, user.id)?;
                ResetMail::spend_all(conn, user.id)?;
                let detail = format!("by mailed link; {revoked} session(s) signed out");
                audit::record(
                    conn,
                    NewEvent {
                        user_id: Some(user.id),
                        device: Some(&device),
                        detail: &detail,
                        ..NewEvent::new(EventKind::PasswordReset)
                    },
                )?;
                let session = sign_in_after_reset(conn, &user, &device, remember, lifetime, &jti)?;
                let user = User::get(conn, user.id)?;
                Ok(Done::Reset(Box::new((user, session)), claimed.next, revoked))
            })
        })
        .await?;
    match done {
        Done::Reset(account, next, sessions_revoked) => {
            let signed_in = match *account {
                (user, Some(session)) => PasswordSignIn::SignedIn(Box::new(signin::issue_tokens(
                    app,
                    user,
                    session,
                    &refresh_jti,
                )?)),
                (user, None) => PasswordSignIn::CodeRequired {
                    user_id: user.id,
                    remember,
                },
            };
            Ok(ResetDone {
                signed_in,
                next,
                sessions_revoked,
            })
        }
        Done::LinkSpent => Err(ResetError::LinkInvalid),
        Done::Disabled => Err(ResetError::Disabled),
    }
}

/// The sign-in that ends a reset, inside its transaction: a new session
/// (method `password`) for the account whose password was just set, or
/// none when the account has two-factor sign-in on: the link stands for
/// the password only, and the code is asked for next, as at `/login`.
pub fn sign_in_after_reset(
    conn: &mut DbConn,
    user: &User,
    device: &Device,
    remember: bool,
    lifetime: i64,
    refresh_jti: &str,
) -> Result<Option<Session>, Error> {
    if user.two_factor_on() {
        return Ok(None);
    }
    signin::open_session(conn, user.id, device, remember, "password", lifetime, refresh_jti).map(Some)
}

/// Step 2's checks before any work: the per-IP limit, then the link (and
/// its account's state), then the fields. Returns the link's hash, its row
/// and the new password.
async fn check_link_and_form(
    app: &Gatehouse,
    token: &str,
    form: NewPassword,
    device: &Device,
) -> Result<(String, ResetMail, String), ResetError> {
    let detail = "per-IP sign-in limit (password reset link)";
    match signin::check_ip_limit(app, device, None, detail).await {
        Ok(()) => {}
        Err(SignInError::Other(e)) => return Err(e.into()),
        Err(_) => return Err(ResetError::RateLimited),
    }
    let row = pending(app, token).await?;
    let password = form
        .validate(app.config.password.min_length)
        .map_err(|errors| ResetError::Fields {
            email: row.email.clone(),
            errors,
        })?;
    let hash = lookup_hash(token).ok_or(ResetError::LinkInvalid)?;
    Ok((hash, row, password))
}

/// What step 2's transaction did.
enum Done {
    Reset(Box<(User, Option<Session>)>, Option<String>, usize),
    LinkSpent,
    Disabled,
}

#[cfg(test)]
mod tests {
    use super::NewPassword;

    fn form(password: &str, confirm: &str) -> NewPassword {
        NewPassword {
            password: password.into(),
            confirm_password: confirm.into(),
        }
    }

    #[test]
    fn validates_the_password_and_its_confirmation() {
        assert_eq!(
            form("a long passphrase", "a long passphrase")
                .validate(8)
                .unwrap(),
            "a long passphrase"
        );
        let e = form("short", "short").validate(8).unwrap_err();
        assert!(e.get("password").unwrap().contains("at least 8"));
        let e = form("a long passphrase", "a long passphrasE")
            .validate(8)
            .unwrap_err();
        assert_eq!(e.get("confirm_password"), Some("The passwords do not match."));
        assert!(!format!("{:?}", form("secret words", "x")).contains("secret"));
    }
}
