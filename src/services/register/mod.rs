//! Registration (`/register`, when `registration` is on), in two steps, so
//! that nobody learns from it whether an email already has an account:
//!
//! 1. [`request`]: an email address. Whether it has an account or not, the
//!    answer is the same ("check your mail") after the same work: one row in
//!    `registrations`, one audit event and one mail. A new address gets a
//!    link to finish; an address with an account gets a note saying so.
//! 2. [`confirm`]: whoever holds the link (and so reads that mailbox) picks
//!    a name and a password, and the account is made and signed in, in one
//!    transaction.
//!
//! The link's token is 256 random bits; only its SHA-256 is stored. A link
//! works once, until `registration_link_expires`; using one spends every
//! other link sent to the same address.

mod mail; // the text of the two mails

pub use mail::lifetime_words;
use mail::{account_exists_mail, link_mail};

use crate::auth::password::check_policy;
use crate::db::audit::{self, EventKind, NewEvent};
use crate::db::registration::RegistrationMail;
use crate::db::session::Device;
use crate::db::user::{NewUser, User};
use crate::domain::{DisplayName, Email, Role};
use crate::error::{Error, FieldErrors};
use crate::services::admin::parse_name;
use crate::services::link::{lookup_hash, new_token, token_hash};
use crate::services::signin::{self, SignInError, SignedIn};
use crate::state::Gatehouse;

/// Mails one address can be sent per hour; beyond, requests are answered
/// as usual but send nothing (no mail-bombing through the form).
pub const MAILS_PER_ADDRESS_PER_HOUR: i64 = 3;

/// Where a registration link points.
pub const CONFIRM_PATH: &str = "/register/confirm";

/// Step 1: mails `email` a link to finish registering, or, if it has an
/// account, a note saying so. Refused only by the per-IP limit or a failed
/// mail, the same way for both.
pub async fn request(
    app: &Gatehouse,
    email: Email,
    next: Option<String>,
    device: Device,
) -> Result<(), SignInError> {
    signin::check_ip_limit(
        app,
        &device,
        Some(email.as_str()),
        "per-IP sign-in limit (registration)",
    )
    .await?;
    let token = new_token();
    let hash = token_hash(&token);
    let lifetime = app.config.registration_link_expires;
    let address = email.clone();
    let (user_id, row) = app
        .db
        .run(move |conn| {
            conn.write(|conn| {
                RegistrationMail::lock_address(conn, &address)?;
                let user_id = User::find_by_email(conn, &address)?.map(|u| u.id);
                if RegistrationMail::recent_mails(conn, &address)? >= MAILS_PER_ADDRESS_PER_HOUR {
                    return Ok((user_id, None));
                }
                let hash = user_id.is_none().then_some(hash.as_str());
                let row = RegistrationMail::record(conn, &address, hash, next.as_deref(), lifetime)?;
                Ok((user_id, Some(row)))
            })
        })
        .await?;
    let mailed = match row {
        None => Mailed::Limited,
        Some(row) => {
            let (subject, body) = match user_id {
                Some(_) => account_exists_mail(app, &email),
                None => link_mail(app, &email, &token),
            };
            match app.mailer.send(&email, &subject, body).await {
                Ok(()) if user_id.is_some() => Mailed::Note,
                Ok(()) => Mailed::Link,
                Err(e) => {
                    // Not sent: it doesn't count towards the limit.
                    app.db
                        .run(move |conn| RegistrationMail::forget(conn, row))
                        .await?;
                    Mailed::Failed(e)
                }
            }
        }
    };
    // Written once the mail's fate is known, the same way for both.
    let detail = mailed.detail();
    signin::record_event(
        app,
        user_id,
        Some(email.as_str().to_owned()),
        device,
        EventKind::RegistrationRequested,
        detail,
    )
    .await?;
    match mailed {
        Mailed::Failed(e) => Err(e.into()),
        _ => Ok(()),
    }
}

/// What became of a request's mail.
enum Mailed {
    Link,
    Note,
    Limited,
    Failed(Error),
}

impl Mailed {
    /// For the audit log.
    fn detail(&self) -> &'static str {
        match self {
            Mailed::Link => "link sent",
            Mailed::Note => "account exists, note sent",
            Mailed::Limited => "mail limit reached, none sent",
            Mailed::Failed(_) => "mail not sent",
        }
    }
}

/// The address a link was sent to, while the link is valid. `EmailTaken`
/// if the address got an account since. Reads only (it serves a GET).
pub async fn pending(app: &Gatehouse, token: &str) -> Result<Option<RegistrationMail>, Error> {
    let Some(hash) = lookup_hash(token) else {
        return Ok(None);
    };
    app.db
        .run(move |conn| {
            let Some(pending) = RegistrationMail::find_valid(conn, &hash)? else {
                return Ok(None);
            };
            let email = Email::parse(&pending.email).map_err(|_| Error::NotFound)?;
            if User::find_by_email(conn, &email)?.is_some() {
                return Err(Error::EmailTaken);
            }
            Ok(Some(pending))
        })
        .await
}

/// What the link's holder types to finish.
#[derive(Clone)]
pub struct Registration {
    pub name: String,
    pub password: String,
    pub confirm_password: String,
}

/// A registration whose fields are all good.
#[derive(Clone)]
pub struct ValidRegistration {
    name: DisplayName,
    password: String,
}

impl std::fmt::Debug for ValidRegistration {
    /// Never prints the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValidRegistration")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Registration {
    /// Checks every field: the password rules used everywhere.
    pub fn validate(self, min_length: usize) -> Result<ValidRegistration, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = parse_name(&self.name, &mut errors);
        if let Err(message) = check_policy(&self.password, min_length) {
            errors.add("password", message);
        } else if self.password != self.confirm_password {
            errors.add("confirm_password", "The passwords do not match.");
        }
        match name {
            Some(name) if errors.is_empty() => Ok(ValidRegistration {
                name,
                password: self.password,
            }),
            _ => Err(errors),
        }
    }
}

/// A finished registration: the new account's session, and where to go.
pub struct Registered {
    pub signed_in: SignedIn,
    pub next: Option<String>,
}

/// Why a link's form was refused.
#[derive(Debug)]
pub enum ConfirmError {
    /// The link is unknown, used or expired.
    LinkInvalid,
    /// The address got an account after the mail was sent (told only to
    /// the link's holder, who reads that mailbox).
    EmailTaken,
    /// Fields to correct; the form is shown again for `email`.
    Fields {
        email: String,
        errors: FieldErrors,
    },
    /// Past the per-IP sign-in limit.
    RateLimited,
    Other(Error),
}

impl From<Error> for ConfirmError {
    fn from(e: Error) -> Self {
        ConfirmError::Other(e)
    }
}

/// Step 2: makes the account for a valid link and signs it in: the per-IP
/// limit, then the link, then the fields, then the bcrypt work, then one
/// transaction that spends the address's links and makes the account, its
/// `registered` event and its first session.
pub async fn confirm(
    app: &Gatehouse,
    token: &str,
    form: Registration,
    device: Device,
) -> Result<Registered, ConfirmError> {
    let (hash, email, new) = check_link_and_form(app, token, form, &device).await?;
    let password_hash = app.passwords.hash(new.password).await?;
    let lifetime = app.session_lifetime(false);
    let refresh_jti = signin::new_refresh_jti();
    let jti = refresh_jti.clone();
    let made = app
        .db
        .run(move |conn| {
            conn.write(|conn| {
                // One address's links are spent one transaction at a time;
                // of two submissions of one link, one gets it.
                RegistrationMail::lock_address(conn, &email)?;
                let Some(claimed) = RegistrationMail::claim(conn, &hash)? else {
                    return Ok(Made::LinkSpent);
                };
                // In a savepoint: if the address got an account meanwhile
                // (an admin, a Google sign-in), its links are still spent.
                let created = conn.write(|conn| {
                    User::create(
                        conn,
                        NewUser {
                            email,
                            name: new.name,
                            password_hash: Some(password_hash),
                            role: Role::User,
                        },
                    )
                });
                RegistrationMail::spend_all(conn, &claimed.email)?;
                let user = match created {
                    Ok(user) => user,
                    Err(Error::EmailTaken) => return Ok(Made::EmailTaken),
                    Err(e) => return Err(e),
                };
                audit::record(
                    conn,
                    NewEvent {
                        user_id: Some(user.id),
                        device: Some(&device),
                        detail: "self-registration, email confirmed",
                        ..NewEvent::new(EventKind::Registered)
                    },
                )?;
                let session =
                    signin::open_session(conn, user.id, &device, false, "password", lifetime, &jti)?;
                Ok(Made::Account(Box::new((user, session)), claimed.next))
            })
        })
        .await?;
    match made {
        Made::Account(account, next) => {
            let (user, session) = *account;
            Ok(Registered {
                signed_in: signin::issue_tokens(app, user, session, &refresh_jti)?,
                next,
            })
        }
        Made::LinkSpent => Err(ConfirmError::LinkInvalid),
        Made::EmailTaken => Err(ConfirmError::EmailTaken),
    }
}

/// Step 2's checks before any work: the per-IP limit, then the link, then
/// the fields. Returns the link's hash, its address and the checked form.
async fn check_link_and_form(
    app: &Gatehouse,
    token: &str,
    form: Registration,
    device: &Device,
) -> Result<(String, Email, ValidRegistration), ConfirmError> {
    match signin::check_ip_limit(app, device, None, "per-IP sign-in limit (registration link)").await {
        Ok(()) => {}
        Err(SignInError::Other(e)) => return Err(e.into()),
        Err(_) => return Err(ConfirmError::RateLimited),
    }
    let Some(hash) = lookup_hash(token) else {
        return Err(ConfirmError::LinkInvalid);
    };
    let check = hash.clone();
    let Some(pending) = app
        .db
        .run(move |conn| RegistrationMail::find_valid(conn, &check))
        .await?
    else {
        return Err(ConfirmError::LinkInvalid);
    };
    let new = form
        .validate(app.config.password.min_length)
        .map_err(|errors| ConfirmError::Fields {
            email: pending.email.clone(),
            errors,
        })?;
    let email = Email::parse(&pending.email).map_err(|_| ConfirmError::LinkInvalid)?;
    Ok((hash, email, new))
}

/// What step 2's transaction did.
enum Made {
    Account(Box<(User, crate::db::session::Session)>, Option<String>),
    LinkSpent,
    EmailTaken,
}

#[cfg(test)]
mod tests {
    use super::Registration;

    fn form(password: &str, confirm: &str) -> Registration {
        Registration {
            name: " Ada ".into(),
            password: password.into(),
            confirm_password: confirm.into(),
        }
    }

    #[test]
    fn validates_every_field() {
        let ok = form("a long passphrase", "a long passphrase")
            .validate(8)
            .unwrap();
        assert_eq!(ok.name.as_str(), "Ada");
        let e = form("short", "short").validate(8).unwrap_err();
        assert!(e.get("password").unwrap().contains("at least 8"));
        let e = form("a long passphrase", "a long passphrasE")
            .validate(8)
            .unwrap_err();
        assert_eq!(e.get("confirm_password"), Some("The passwords do not match."));
        let mut bad = form("a long passphrase", "a long passphrase");
        bad.name = "x".repeat(101);
        assert!(bad.validate(8).unwrap_err().get("name").is_some());
        let mut bad = form("a long passphrase", "a long passphrase");
        bad.name = "Ada\0".into();
        assert!(bad.validate(8).unwrap_err().get("name").is_some());
    }
}
