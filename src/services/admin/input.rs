//! What an admin types: a new account, an edit, a first password, and the
//! checks on each field (the form shows them beside their fields).

use std::fmt;

use rand::Rng;

use crate::domain::{DisplayName, Email, Role};
use crate::error::{Error, FieldErrors, Result};

/// Display names are at most this many characters.
pub const MAX_NAME: usize = DisplayName::MAX;

/// How a new account gets its first password.
#[derive(Clone)]
pub enum InitialPassword {
    /// Chosen by the admin.
    Given(String),
    /// Generated, shown to the admin once; the user must change it at their
    /// next sign-in (an invitation).
    Temporary,
}

impl fmt::Debug for InitialPassword {
    /// Never prints a given password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InitialPassword::Given(_) => f.debug_tuple("Given").field(&"[redacted]").finish(),
            InitialPassword::Temporary => f.write_str("Temporary"),
        }
    }
}

/// A new account as an admin typed it.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub email: String,
    pub name: String,
    pub role: String,
    pub password: InitialPassword,
}

/// An admin's edit; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub name: Option<String>,
    pub email: Option<String>,
    pub role: Option<String>,
}

/// A random password to hand over once: 16 characters from an alphabet
/// without look-alikes (about 92 bits), in groups of four for reading out.
pub fn temporary_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    let chars: Vec<char> = (0..16)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// A display name as typed ([`DisplayName::parse`]), or its message
/// beside the `name` field.
pub(crate) fn parse_name(name: &str, errors: &mut FieldErrors) -> Option<DisplayName> {
    match DisplayName::parse(name) {
        Ok(name) => Some(name),
        Err(message) => {
            errors.add("name", message);
            None
        }
    }
}

pub(super) fn parse_role(role: &str, errors: &mut FieldErrors) -> Option<Role> {
    match role.parse::<Role>() {
        Ok(role) => Some(role),
        Err(_) => {
            errors.add("role", "Choose user or admin.");
            None
        }
    }
}

pub(super) fn parse_email(email: &str, errors: &mut FieldErrors) -> Option<Email> {
    match Email::parse(email) {
        Ok(email) => Some(email),
        Err(message) => {
            errors.add("email", message);
            None
        }
    }
}

/// What a form shows for a refused input: field errors as they are, a
/// taken email as the email's error; `Err` for anything else.
pub fn form_errors(e: Error) -> Result<FieldErrors> {
    match e {
        Error::Fields(errors) => Ok(errors),
        Error::EmailTaken => {
            let mut errors = FieldErrors::new();
            errors.add("email", "An account with that email already exists.");
            Ok(errors)
        }
        other => Err(other),
    }
}

#[cfg(test)]
mod tests {
    use super::{temporary_password, InitialPassword, NewAccount};
    use crate::auth::password::check_policy;

    #[test]
    fn temporary_passwords_pass_the_policy_and_differ() {
        let a = temporary_password();
        let b = temporary_password();
        assert_eq!(a.len(), 19);
        assert_ne!(a, b);
        assert!(check_policy(&a, 8).is_ok());
        assert!(!a.contains(['0', 'O', 'l', '1', 'I']));
    }

    #[test]
    fn debug_never_prints_a_given_password() {
        let new = NewAccount {
            email: "ada@example.com".into(),
            name: "Ada".into(),
            role: "user".into(),
            password: InitialPassword::Given("given-pass-5d1e".into()),
        };
        let debug = format!("{new:?}");
        assert!(
            !debug.contains("given-pass-5d1e") && debug.contains("[redacted]"),
            "{debug}"
        );
    }
}
