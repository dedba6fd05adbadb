//! A person's display name, however it comes in: a form, the JSON API, the
//! command line or an identity provider's `name` claim.

use std::fmt;

use serde::Serialize;

use super::text::{bounded, check_line, is_invisible};

/// A display name: trimmed, at most [`DisplayName::MAX`] characters, no
/// control or invisible character. May be empty (the email is shown then).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    /// The most characters a name may have.
    pub const MAX: usize = 100;

    /// A name as a person typed it; the message is fit to show beside the
    /// field.
    pub fn parse(input: &str) -> Result<Self, String> {
        let name = input.trim();
        check_line(name)?;
        if name.chars().any(is_invisible) {
            return Err(INVISIBLE.into());
        }
        if name.chars().count() > Self::MAX {
            return Err(format!("Use at most {} characters.", Self::MAX));
        }
        Ok(Self(name.to_owned()))
    }

    /// A name from an identity provider, made fit rather than refused (the
    /// person can't correct it, and their sign-in should still work):
    /// control and invisible characters dropped, then trimmed and cut to
    /// [`DisplayName::MAX`] characters.
    pub fn from_provider(input: &str) -> Self {
        let clean: String = input
            .chars()
            .filter(|&c| !c.is_control() && !is_invisible(c))
            .collect();
        Self(bounded(clean.trim(), Self::MAX).trim().to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// The message for a name holding an invisible character.
const INVISIBLE: &str = "Remove the invisible characters (such as a zero-width space or a direction mark).";

impl std::str::FromStr for DisplayName {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::DisplayName;

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(
            DisplayName::parse("  Ada Lovelace ").unwrap().as_str(),
            "Ada Lovelace"
        );
        assert_eq!(DisplayName::parse("").unwrap().as_str(), "");
        assert!(DisplayName::parse(&"é".repeat(100)).is_ok());
        for bad in [
            "x".repeat(101),
            "Ada\0".into(),
            "Ada\nLovelace".into(),
            "Ad\u{200B}a".into(),
            "\u{202E}adA".into(),
        ] {
            assert!(DisplayName::parse(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn provider_names_are_cleaned_and_cut() {
        let long = DisplayName::from_provider(&"Ada ".repeat(75));
        assert!(long.as_str().chars().count() <= DisplayName::MAX, "{long}");
        assert!(long.as_str().ends_with('…'));
        assert_eq!(DisplayName::from_provider(" A\0d\u{200B}a\n ").as_str(), "Ada");
    }
}
