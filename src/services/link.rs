//! A mailed link's token (registration, password reset): 256 random bits
//! for the mail, and its SHA-256, the only form stored.

use base64::Engine;
use sha2::{Digest, Sha256};

/// The stored hash to look a link's token up by, for a token that could be
/// one (anything else is refused before the database).
pub(crate) fn lookup_hash(token: &str) -> Option<String> {
    (!token.is_empty() && token.len() <= 100).then(|| token_hash(token))
}

/// 32 random bytes, URL-safe base64.
pub(crate) fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn token_hash(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::{new_token, token_hash};

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "256 bits");
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
        assert_eq!(token_hash(&a), token_hash(&a));
    }
}
