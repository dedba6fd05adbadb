//! Email addresses and the one rule that normalises them.

use std::fmt;

use serde::Serialize;

use super::text::{check_line, is_invisible};

/// An email address, normalised by [`Email::normalise`]: once you hold
/// one, it is valid.
///
/// The rule: surrounding whitespace trimmed, ASCII letters lower-cased,
/// every other character kept exactly as typed (no Unicode case folding or
/// normalisation, which would turn the KELVIN SIGN into `k` and let
/// `\u{212A}ate@example.com` pass for `kate@example.com`). Control and
/// invisible characters are refused. Lookups compare normalised addresses
/// exactly.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, String> {
        let email = Self::normalise(input);
        if email.is_empty() {
            return Err("Enter an email address.".into());
        }
        check_line(&email)?;
        if email.chars().any(is_invisible) {
            return Err(
                "Remove the invisible characters (such as a zero-width space or a direction mark).".into(),
            );
        }
        if email.len() > 254 {
            return Err("That email address is too long.".into());
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err("Enter an email address like name@example.com.".into());
        };
        let valid = !local.is_empty()
            && local.len() <= 64
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && email.chars().all(|c| !c.is_whitespace())
            && !email.contains(['<', '>', '(', ')', '[', ']', ',', ';', ':', '"', '\\']);
        if !valid {
            return Err("Enter an email address like name@example.com.".into());
        }
        Ok(Self(email))
    }

    /// The rule, for text that may not be an address at all (what someone
    /// typed into a sign-in form, an audit filter): trimmed, ASCII letters
    /// lower-cased, nothing else changed.
    pub fn normalise(input: &str) -> String {
        input.trim().to_ascii_lowercase()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Email;

    #[test]
    fn emails_are_normalised() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
    }

    #[test]
    fn non_ascii_is_never_folded_into_ascii() {
        let kelvin = Email::parse("\u{212A}ate@example.com").unwrap();
        assert_eq!(kelvin.as_str(), "\u{212A}ate@example.com");
        assert_ne!(kelvin, Email::parse("kate@example.com").unwrap());
        // Nor into other non-ASCII: what was typed is kept.
        assert_eq!(
            Email::parse("ÉLODIE@Example.com").unwrap().as_str(),
            "Élodie@example.com"
        );
    }

    #[test]
    fn bad_emails_are_refused() {
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "ada@example",
            "ada@@example.com",
            "a da@example.com",
            "ada@example..com",
            "ada@.example.com",
            "<ada>@example.com",
            "ada\0@example.com",
            "ada\u{1}@example.com",
            "ad\u{200B}a@example.com",
            "ada\u{AD}@example.com",
            "\u{202E}ada@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
