//! Registration (`/register`, when `registration` is on): a new account and
//! its first session.
//!
//! Nobody may learn from it whether an email already has an account without
//! that account's password: an email that has one is taken as a sign-in
//! with the password given. The right password signs its owner in, with
//! exactly the answer a new registration gets; any other gets the sign-in
//! form's generic refusal, after the same bcrypt work, counted towards the
//! account's lockout. Both paths are counted by the per-IP sign-in limit
//! and do one bcrypt computation (a hash for a new account, a check for an
//! existing one), so they take about the same time.

use diesel::Connection;

use super::password::check_policy;
use super::signin::{self, SignInError, SignedIn};
use crate::admin::MAX_NAME;
use crate::app::Gatehouse;
use crate::db::audit::{self, EventKind, NewEvent};
use crate::db::session::Device;
use crate::db::user::{NewUser, User};
use crate::domain::{Email, Role};
use crate::error::{Error, FieldErrors};

/// A registration form as typed.
#[derive(Debug, Clone)]
pub struct Registration {
    pub email: String,
    pub name: String,
    pub password: String,
    pub confirm_password: String,
}

/// A registration whose fields are all good.
#[derive(Debug, Clone)]
pub struct ValidRegistration {
    email: Email,
    name: String,
    password: String,
}

impl Registration {
    /// Checks every field, the same way for a new email and a known one.
    pub fn validate(self, min_length: usize) -> Result<ValidRegistration, FieldErrors> {
        let mut errors = FieldErrors::new();
        let email = Email::parse(&self.email).map_err(|m| errors.add("email", m)).ok();
        let name = self.name.trim().to_owned();
        if name.chars().count() > MAX_NAME {
            errors.add("name", format!("Use at most {MAX_NAME} characters."));
        }
        if let Err(message) = check_policy(&self.password, min_length) {
            errors.add("password", message);
        } else if self.password != self.confirm_password {
            errors.add("confirm_password", "The passwords do not match.");
        }
        match email {
            Some(email) if errors.is_empty() => Ok(ValidRegistration {
                email,
                name,
                password: self.password,
            }),
            _ => Err(errors),
        }
    }
}

/// Creates the account and starts a session, or, for an email that has an
/// account, signs in with the password given (see the module's comment).
pub async fn register(
    app: &Gatehouse,
    new: ValidRegistration,
    device: Device,
) -> Result<SignedIn, SignInError> {
    let email = new.email.clone();
    let existing = app.db.run(move |conn| User::find_by_email(conn, &email)).await?;
    if existing.is_some() {
        // Limited, checked against a dummy hash if need be, counted towards
        // the lockout, audited: exactly what the sign-in form does.
        return signin::sign_in_with_password(app, new.email.as_str(), new.password, device, false).await;
    }
    signin::check_ip_limit(
        app,
        &device,
        Some(new.email.as_str()),
        "per-IP sign-in limit (registration)",
    )
    .await?;
    let hash = app.passwords.hash(new.password).await?;
    let (email, name, event_device) = (new.email, new.name, device.clone());
    let created = app
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                let user = User::create(
                    conn,
                    NewUser {
                        email,
                        name,
                        password_hash: Some(hash),
                        role: Role::User,
                    },
                )?;
                audit::record(
                    conn,
                    NewEvent {
                        user_id: Some(user.id),
                        device: Some(&event_device),
                        detail: "self-registration",
                        ..NewEvent::new(EventKind::Registered)
                    },
                )?;
                Ok(user)
            })
        })
        .await;
    let user = match created {
        Ok(user) => user,
        // Registered a moment ago by a concurrent request: the generic
        // answer, as for a known email with another password.
        Err(Error::EmailTaken) => return Err(SignInError::InvalidCredentials),
        Err(e) => return Err(e.into()),
    };
    Ok(signin::start_session(app, user, device, false, "password").await?)
}

#[cfg(test)]
mod tests {
    use super::Registration;

    fn form(password: &str, confirm: &str) -> Registration {
        Registration {
            email: "Ada@Example.com".into(),
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
        assert_eq!((ok.email.as_str(), ok.name.as_str()), ("ada@example.com", "Ada"));
        let e = form("short", "short").validate(8).unwrap_err();
        assert!(e.get("password").unwrap().contains("at least 8"));
        let e = form("a long passphrase", "a long passphrasE")
            .validate(8)
            .unwrap_err();
        assert_eq!(e.get("confirm_password"), Some("The passwords do not match."));
        let mut bad = form("a long passphrase", "a long passphrase");
        bad.email = "nope".into();
        bad.name = "x".repeat(101);
        let e = bad.validate(8).unwrap_err();
        assert!(e.get("email").is_some() && e.get("name").is_some());
    }
}
