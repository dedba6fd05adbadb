//! What every passkey ceremony shares: the relying party (or a 404 when
//! passkeys are off), a challenge stored and taken back once, bound to one
//! browser (or, for the JSON API, to none), names, and reading the
//! client's credential.

use serde::de::DeserializeOwned;
use serde::Serialize;
use subtle::ConstantTimeEq;
use webauthn_rs::Webauthn;

use crate::auth::passkey::{hash, new_challenge_id, CHALLENGE_LIFETIME};
use crate::db::passkey_challenge::{Challenge, NewChallenge, Purpose};
use crate::error::{Error, Result};
use crate::state::Gatehouse;

/// A started ceremony: the id to send back with the answer, and the options
/// for `navigator.credentials.create()` or `.get()`.
#[derive(Debug, Serialize)]
pub struct Started<T> {
    pub challenge_id: String,
    pub options: T,
}

pub(crate) const UNKNOWN: &str = "This passkey request is unknown or was already used. Try again.";
pub(crate) const EXPIRED: &str = "This passkey request has expired (they last 5 minutes). Try again.";
pub(crate) const OTHER_BROWSER: &str = "This passkey request was started in another browser. Try again.";

/// The relying party, or `NotFound` when passkeys are off.
pub(crate) fn relying_party(app: &Gatehouse) -> Result<&Webauthn> {
    app.webauthn.as_ref().ok_or(Error::NotFound)
}

/// Stores a ceremony's state; returns the id the client will send back.
pub(crate) async fn store<S: Serialize>(
    app: &Gatehouse,
    purpose: Purpose,
    user_id: Option<i32>,
    bind: Option<&str>,
    state: &S,
) -> Result<String> {
    let id = new_challenge_id();
    let id_hash = hash(&id);
    let bind = bind.map(hash);
    let state = serde_json::to_string(state).map_err(|e| Error::Config(format!("passkey state: {e}")))?;
    app.db
        .run(move |conn| {
            Challenge::insert(
                conn,
                NewChallenge {
                    id_hash: &id_hash,
                    purpose,
                    user_id,
                    bind: bind.as_deref(),
                    state: &state,
                    lifetime: CHALLENGE_LIFETIME,
                },
            )
        })
        .await?;
    Ok(id)
}

/// Takes a ceremony back (it is spent, whatever happens next) and checks
/// it: known, of this purpose, unexpired, started by this browser (`bind`:
/// its CSRF value; `None` for the JSON API) and, when `user_id` is given,
/// by this user. Returns its owner and its state.
pub(crate) async fn take<S: DeserializeOwned>(
    app: &Gatehouse,
    challenge_id: &str,
    purpose: Purpose,
    bind: Option<&str>,
    user_id: Option<i32>,
) -> Result<(Option<i32>, S)> {
    let id_hash = hash(challenge_id.trim());
    let taken = app.db.run(move |conn| Challenge::take(conn, &id_hash)).await?;
    let Some(challenge) = taken else {
        return Err(Error::Invalid(UNKNOWN.into()));
    };
    if challenge.purpose != purpose.as_str() || (user_id.is_some() && challenge.user_id != user_id) {
        return Err(Error::Invalid(UNKNOWN.into()));
    }
    if challenge.expired() {
        return Err(Error::Invalid(EXPIRED.into()));
    }
    let expected = bind.map(hash);
    let same_browser = match (&challenge.bind, &expected) {
        (None, None) => true,
        (Some(a), Some(b)) => a.as_bytes().ct_eq(b.as_bytes()).into(),
        _ => false,
    };
    if !same_browser {
        return Err(Error::Invalid(OTHER_BROWSER.into()));
    }
    let state = serde_json::from_str(&challenge.state)
        .map_err(|e| Error::Config(format!("stored passkey state: {e}")))?;
    Ok((challenge.user_id, state))
}

/// Reads the client's credential (`PublicKeyCredential` JSON, base64url
/// fields); a malformed one is bad input, named.
pub(crate) fn credential<T: DeserializeOwned>(value: serde_json::Value) -> Result<T> {
    serde_json::from_value(value).map_err(|e| {
        Error::Invalid(format!(
            "The passkey's answer could not be read ({e}). Try again."
        ))
    })
}

/// A passkey's name: trimmed, 1 to 64 characters, no control characters.
pub fn check_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::Invalid("Give the passkey a name.".into()));
    }
    if name.chars().count() > 64 {
        return Err(Error::Invalid(
            "A passkey's name can be at most 64 characters.".into(),
        ));
    }
    if name
        .chars()
        .any(|c| c.is_control() || crate::domain::is_invisible(c))
    {
        return Err(Error::Invalid(
            "A passkey's name can't hold control or invisible characters.".into(),
        ));
    }
    Ok(name.to_owned())
}

/// A credential id as stored: base64url without padding.
pub(crate) fn credential_id(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::check_name;

    #[test]
    fn names() {
        assert_eq!(check_name("  Phone ").unwrap(), "Phone");
        assert!(check_name(" ").is_err());
        assert!(check_name(&"x".repeat(65)).is_err());
        assert_eq!(check_name(&"é".repeat(64)).unwrap().chars().count(), 64);
        assert!(check_name("a\u{7}b").is_err());
        // Bidi overrides and zero-width characters could spoof a name.
        assert!(check_name("Phone\u{202E}txt").is_err());
        assert!(check_name("Pho\u{200B}ne").is_err());
        assert!(check_name("Téléphone").is_ok());
    }
}
