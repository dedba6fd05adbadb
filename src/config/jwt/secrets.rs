//! `[jwt]`'s keys as configured: the signing secret (checked, or generated
//! in debug) or private key file, and the older keys that still verify.

use std::fmt;

use jsonwebtoken::Algorithm;
use serde::{Deserialize, Serialize};

use super::JwtSettings;
use crate::config::error::{bad, ConfigError};
use crate::config::keys::{is_hmac, parse_algorithm, KeyRing};

/// The value in the sample Rocket.toml and README; never accepted in release.
pub const SAMPLE_SECRET: &str = "sample-secret-CHANGE-ME-run-openssl-rand-base64-48";

/// How to make a good signing secret, quoted in every error about one.
pub const SECRET_HINT: &str =
    "generate one with `openssl rand -base64 48` and set it as JWT_SECRET_KEY (or `secret_key` under [release.jwt] in Rocket.toml)";

/// An older verification key: a public key file for asymmetric algorithms,
/// or a secret for HMAC.
#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyKeySettings {
    pub algorithm: String,
    pub public_key_file: Option<String>,
    pub secret_key: Option<String>,
    pub kid: Option<String>,
}

impl fmt::Debug for VerifyKeySettings {
    /// Never prints `secret_key` (only whether it is set).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyKeySettings")
            .field("algorithm", &self.algorithm)
            .field("public_key_file", &self.public_key_file)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "[redacted]"))
            .field("kid", &self.kid)
            .finish()
    }
}

impl JwtSettings {
    /// The signing key (an HMAC secret, generated in debug when missing, or
    /// a private key file) and whether it was generated.
    pub(super) fn signing_keys(
        &self,
        algorithm: Algorithm,
        release: bool,
    ) -> Result<(KeyRing, bool), ConfigError> {
        if !is_hmac(algorithm) {
            let Some(path) = self.private_key_file.as_deref() else {
                return Err(bad(
                    "jwt.private_key_file",
                    format!(
                        "is not set; {:?} signs with a private key (e.g. `openssl genpkey -algorithm RSA -out jwt-key.pem`)",
                        algorithm
                    ),
                ));
            };
            let pem = read_file("jwt.private_key_file", path)?;
            let keys = KeyRing::private_pem(algorithm, &pem, self.kid.clone())
                .map_err(|m| bad("jwt.private_key_file", m))?;
            return Ok((keys, false));
        }
        let (secret, generated) = match self.secret_key.as_deref() {
            Some(secret) => {
                check_secret(secret, release)?;
                (secret.as_bytes().to_vec(), false)
            }
            None if release => {
                return Err(bad(
                    "jwt.secret_key",
                    format!("is not set; the release profile needs a signing secret: {SECRET_HINT}"),
                ))
            }
            None => {
                let mut bytes = vec![0u8; 48];
                rand::fill(&mut bytes[..]);
                (bytes, true)
            }
        };
        let keys =
            KeyRing::hmac(algorithm, &secret, self.kid.clone()).map_err(|m| bad("jwt.secret_key", m))?;
        Ok((keys, generated))
    }
}

impl VerifyKeySettings {
    /// Adds this older key to the ring (`key` names it in errors).
    pub(super) fn add_to(&self, keys: &mut KeyRing, key: &str, release: bool) -> Result<(), ConfigError> {
        let alg = parse_algorithm(&self.algorithm).map_err(|m| bad(&format!("{key}.algorithm"), m))?;
        let added = match (&self.public_key_file, &self.secret_key) {
            (Some(path), None) if !is_hmac(alg) => {
                let pem = read_file(&format!("{key}.public_key_file"), path)?;
                keys.add_public_pem(alg, &pem, self.kid.clone())
            }
            (None, Some(secret)) if is_hmac(alg) => {
                check_secret(secret, release).map_err(|e| bad(&format!("{key}.secret_key"), e.message))?;
                keys.add_secret(alg, secret.as_bytes(), self.kid.clone())
            }
            _ => Err("give `public_key_file` for RS/PS/ES/EdDSA keys or `secret_key` for HS keys".into()),
        };
        added.map_err(|m| bad(key, m))
    }
}

fn read_file(key: &str, path: &str) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|e| bad(key, format!("cannot read `{path}`: {e}")))
}

/// Refuses secrets that are short, the published sample, or plainly not
/// random. In debug the sample is allowed (with a warning at launch).
fn check_secret(secret: &str, release: bool) -> Result<(), ConfigError> {
    let key = "jwt.secret_key";
    if secret == SAMPLE_SECRET || secret.to_ascii_lowercase().contains("change-me") {
        if release {
            return Err(bad(
                key,
                format!("is the sample value from the docs; {SECRET_HINT}"),
            ));
        }
        return Ok(());
    }
    if secret.len() < 32 {
        return Err(bad(
            key,
            format!(
                "is {} bytes; at least 32 random bytes are needed: {SECRET_HINT}",
                secret.len()
            ),
        ));
    }
    let mut distinct: Vec<char> = secret.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 12 {
        return Err(bad(key, format!("does not look random; {SECRET_HINT}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::SAMPLE_SECRET;
    use crate::config::Settings;

    const GOOD: &str = "k3P9vQz8Lr2Xw6Yt1Nb5Mc7Hd4Jf0Gs8Ae2Ui6Oo9";

    fn with_secret(secret: Option<&str>) -> Settings {
        let mut s = Settings::default();
        s.jwt.secret_key = secret.map(str::to_owned);
        s
    }

    #[test]
    fn release_needs_a_real_secret() {
        let missing = with_secret(None).validate(true).unwrap_err();
        assert_eq!(missing.key, "jwt.secret_key");
        assert!(missing.message.contains("openssl rand"));
        let sample = with_secret(Some(SAMPLE_SECRET)).validate(true).unwrap_err();
        assert!(sample.message.contains("sample"));
        let short = with_secret(Some("tooshort")).validate(true).unwrap_err();
        assert!(short.message.contains("at least 32"));
        let boring = with_secret(Some(&"ab".repeat(20))).validate(true).unwrap_err();
        assert!(boring.message.contains("random"));
        assert!(with_secret(Some(GOOD)).validate(true).unwrap().jwt.cookie_secure);
    }

    #[test]
    fn debug_generates_a_secret() {
        let config = with_secret(None).validate(false).unwrap();
        assert!(config.generated_secret);
        assert_eq!(config.jwt.keys.verifying.len(), 1);
        assert!(!config.jwt.cookie_secure);
    }
}
