//! Two-factor sign-in's primitives: TOTP (RFC 6238 with the parameters every
//! authenticator app understands: HMAC-SHA-1, 6 digits, 30-second steps, one
//! step of clock skew either way) and single-use recovery codes.

use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Secret, Totp};

use crate::error::{Error, Result};

/// Seconds a code lasts.
pub const STEP: u64 = 30;
/// How many recovery codes a user gets.
pub const RECOVERY_CODES: usize = 10;

/// A new random secret of 160 bits (RFC 4226's recommendation), in base32
/// as authenticator apps take it.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::fill(&mut bytes);
    Secret::new_stack(bytes).to_base32()
}

/// The TOTP for a base32 secret, named for the app's QR code.
pub fn totp(secret: &str, issuer: &str, account: &str) -> Result<Totp> {
    let secret = Secret::try_from_base32(secret)
        .map_err(|e| Error::TwoFactor(format!("a stored TOTP secret does not decode: {e}")))?;
    // `:` separates issuer and account in the otpauth label.
    let clean = |s: &str| s.replace(':', " ");
    totp_rs::Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(STEP)
        .with_secret(secret)
        .with_issuer(Some(clean(issuer)))
        .with_account_name(clean(account))
        .build()
        .map_err(|e| Error::TwoFactor(format!("TOTP parameters refused: {e}")))
}

/// The step a code is right for at `time` (this step, or one either side),
/// if it is right. Spaces in what was typed are ignored.
pub fn check(totp: &Totp, code: &str, time: u64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    totp.check(&code, time).map(|step| step as i64)
}

/// The current code (for tests and examples).
pub fn code_at(totp: &Totp, time: u64) -> String {
    totp.generate(time).to_string()
}

/// The secret grouped in fours, for typing it into an app by hand.
pub fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether what was typed looks like a TOTP code (digits, maybe spaced)
/// rather than a recovery code.
pub fn looks_like_totp(code: &str) -> bool {
    let digits: Vec<char> = code.chars().filter(|c| !c.is_whitespace()).collect();
    digits.len() == 6 && digits.iter().all(char::is_ascii_digit)
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// New recovery codes: 16 random base32 characters each (80 bits), shown as
/// `xxxx-xxxx-xxxx-xxxx`.
pub fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; 16];
            rand::fill(&mut bytes);
            let chars: String = bytes
                .iter()
                .map(|b| BASE32[(b & 31) as usize].to_ascii_lowercase() as char)
                .collect();
            grouped(&chars).replace(' ', "-")
        })
        .collect()
}

/// A recovery code as stored: the SHA-256 of its characters, upper-cased
/// without dashes or spaces (so `abcd-efgh...` and `ABCDEFGH...` match). A
/// fast hash is enough here: the codes are random with 80 bits, far too
/// many to guess offline, unlike passwords.
pub fn recovery_hash(code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    format!("{:x}", Sha256::digest(normal.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_works_within_one_step_either_way_and_not_beyond() {
        let secret = new_secret();
        assert_eq!(secret.len(), 32);
        let t = totp(&secret, "Gatehouse", "ada@example.com").unwrap();
        let now = 1_800_000_000;
        let code = code_at(&t, now);
        assert_eq!(check(&t, &code, now), Some((now / STEP) as i64));
        assert!(check(&t, &code, now + STEP).is_some());
        assert!(check(&t, &code, now - STEP).is_some());
        assert!(check(&t, &code, now + 3 * STEP).is_none());
        assert!(check(&t, "12345", now).is_none());
        assert!(check(&t, "abcdef", now).is_none());
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert!(check(&t, &spaced, now).is_some());
    }

    #[test]
    fn recovery_codes_are_random_and_compare_loosely() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert_eq!(codes[0].len(), 19);
        assert_ne!(codes[0], codes[1]);
        let loose = codes[0].replace('-', "").to_uppercase();
        assert_eq!(recovery_hash(&codes[0]), recovery_hash(&loose));
        assert_ne!(recovery_hash(&codes[0]), recovery_hash(&codes[1]));
        assert!(!looks_like_totp(&codes[0]));
        assert!(looks_like_totp("123 456"));
    }
}
