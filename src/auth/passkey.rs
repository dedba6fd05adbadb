//! Passkeys' primitives, below any request: the WebAuthn relying party
//! (built once from `[webauthn]`), challenge ids and how they are stored,
//! and what a refused ceremony is called in the audit log.

use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{Url, WebauthnError};
use webauthn_rs::{Webauthn, WebauthnBuilder};

use crate::config::WebauthnConfig;
use crate::error::Error;

/// How long a ceremony may take: its challenge is refused after this.
pub const CHALLENGE_LIFETIME: i64 = 5 * 60;

/// The WebAuthn relying party of `[webauthn]`: its id, one allowed origin
/// (the port included), and the name authenticators show.
pub fn relying_party(config: &WebauthnConfig) -> Result<Webauthn, Error> {
    let origin: &Url = &config.origin;
    WebauthnBuilder::new(&config.rp_id, origin)
        .map(|b| b.rp_name(&config.rp_name))
        .and_then(|b| {
            b.timeout(std::time::Duration::from_secs(CHALLENGE_LIFETIME as u64))
                .build()
        })
        .map_err(|e| Error::Config(format!("webauthn: {e}")))
}

/// A new challenge id for a client: random, 256 bits, base64url.
pub fn new_challenge_id() -> String {
    crate::auth::token::random_value()
}

/// What the database keeps of a challenge id or a browser's CSRF value:
/// its SHA-256 (hex), so a read of the table can't answer a ceremony.
pub fn hash(value: &str) -> String {
    format!("{:x}", Sha256::digest(value.as_bytes()))
}

/// Why a ceremony's response was refused, in a few words for the audit
/// log (the crate's own words can be long or name internals).
pub fn refusal_detail(error: &WebauthnError) -> &'static str {
    match error {
        WebauthnError::CredentialPossibleCompromise => {
            "signature counter went backwards (possible cloned authenticator)"
        }
        WebauthnError::InvalidRPOrigin => "wrong origin",
        WebauthnError::InvalidRPIDHash => "wrong relying party id",
        WebauthnError::MismatchedChallenge => "wrong challenge",
        WebauthnError::UserNotVerified => "user not verified",
        WebauthnError::UserNotPresent => "user not present",
        WebauthnError::AuthenticationFailure => "bad signature",
        WebauthnError::CredentialNotFound => "unknown credential",
        WebauthnError::CredentialBackupEligibilityInconsistent
        | WebauthnError::CredentialMayNotBeHardwareBound => "backup flags changed",
        WebauthnError::InvalidClientDataType => "wrong ceremony type",
        _ => "malformed response",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_for_a_domain_and_hashes_ids() {
        let config = WebauthnConfig {
            rp_id: "localhost".into(),
            origin: Url::parse("http://localhost:8000").unwrap(),
            rp_name: "Gatehouse".into(),
        };
        relying_party(&config).unwrap();
        let id = new_challenge_id();
        assert_eq!(id.len(), 43);
        assert_eq!(hash(&id).len(), 64);
        assert_ne!(hash(&id), hash(&new_challenge_id()));
        assert!(refusal_detail(&WebauthnError::CredentialPossibleCompromise).contains("backwards"));
    }
}
