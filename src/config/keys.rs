//! Signing and verification keys: an HMAC secret, or an RSA, RSA-PSS, ECDSA
//! or Ed25519 private key from a PEM file, plus older public keys still
//! accepted while their tokens live out (key rotation). Every key has a
//! `kid`; a token's `kid` only ever selects among these loaded keys.

use std::fmt;

use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

/// The algorithms Gatehouse signs and verifies with.
pub fn parse_algorithm(name: &str) -> Result<Algorithm, String> {
    use Algorithm::*;
    Ok(match name.trim().to_ascii_uppercase().as_str() {
        "HS256" => HS256,
        "HS384" => HS384,
        "HS512" => HS512,
        "RS256" => RS256,
        "RS384" => RS384,
        "RS512" => RS512,
        "PS256" => PS256,
        "PS384" => PS384,
        "PS512" => PS512,
        "ES256" => ES256,
        "ES384" => ES384,
        "EDDSA" => EdDSA,
        other => {
            return Err(format!(
                "`{other}` is not supported (HS256/384/512, RS256/384/512, PS256/384/512, ES256/384, EdDSA)"
            ))
        }
    })
}

pub fn is_hmac(alg: Algorithm) -> bool {
    matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
}

pub struct SigningKey {
    pub alg: Algorithm,
    pub kid: String,
    pub key: EncodingKey,
}

pub struct VerifyKey {
    pub alg: Algorithm,
    pub kid: String,
    pub key: DecodingKey,
    /// The public key as a JWK; `None` for HMAC secrets, never published.
    pub public: Option<Jwk>,
}

/// The signing key and every key tokens are verified with (the signing
/// key's own first).
pub struct KeyRing {
    pub signing: SigningKey,
    pub verifying: Vec<VerifyKey>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kids: Vec<_> = self.verifying.iter().map(|k| (&k.kid, k.alg)).collect();
        f.debug_struct("KeyRing")
            .field("signing", &(&self.signing.kid, self.signing.alg))
            .field("verifying", &kids)
            .finish()
    }
}

fn thumbprint(jwk: &Jwk) -> Result<String, String> {
    jwk.thumbprint(ThumbprintHash::SHA256)
        .map_err(|e| format!("could not compute the key id: {e}"))
}

fn decoding_from_pem(alg: Algorithm, pem: &[u8]) -> Result<DecodingKey, String> {
    let key = match alg {
        Algorithm::RS256
        | Algorithm::RS384
        | Algorithm::RS512
        | Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512 => DecodingKey::from_rsa_pem(pem),
        Algorithm::ES256 | Algorithm::ES384 => DecodingKey::from_ec_pem(pem),
        Algorithm::EdDSA => DecodingKey::from_ed_pem(pem),
        _ => return Err("HMAC keys are secrets, not PEM files".into()),
    };
    key.map_err(|e| format!("not a PEM public key for {alg:?}: {e}"))
}

impl KeyRing {
    /// An HMAC secret. Its `kid` is the thumbprint of the secret (a hash:
    /// it reveals nothing of it).
    pub fn hmac(alg: Algorithm, secret: &[u8], kid: Option<String>) -> Result<Self, String> {
        let key = EncodingKey::from_secret(secret);
        let kid = match kid {
            Some(kid) => kid,
            None => thumbprint(&Jwk::from_encoding_key(&key, alg).map_err(|e| e.to_string())?)?,
        };
        Ok(Self {
            signing: SigningKey {
                alg,
                kid: kid.clone(),
                key,
            },
            verifying: vec![VerifyKey {
                alg,
                kid,
                key: DecodingKey::from_secret(secret),
                public: None,
            }],
        })
    }

    /// A private key in PEM (PKCS#8, or PKCS#1 for RSA). Its public half,
    /// derived from it, verifies and is published; its `kid` is the public
    /// key's RFC 7638 thumbprint unless given.
    pub fn private_pem(alg: Algorithm, pem: &[u8], kid: Option<String>) -> Result<Self, String> {
        let key = match alg {
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => EncodingKey::from_rsa_pem(pem),
            Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem),
            Algorithm::EdDSA => EncodingKey::from_ed_pem(pem),
            _ => return Err("HMAC algorithms take `secret_key`, not a key file".into()),
        }
        .map_err(|e| format!("not a PEM private key for {alg:?}: {e}"))?;
        let mut public = Jwk::from_encoding_key(&key, alg).map_err(|e| format!("unusable key: {e}"))?;
        let kid = match kid {
            Some(kid) => kid,
            None => thumbprint(&public)?,
        };
        public.common.key_id = Some(kid.clone());
        public.common.public_key_use = Some(PublicKeyUse::Signature);
        let decoding = DecodingKey::from_jwk(&public).map_err(|e| format!("unusable key: {e}"))?;
        Ok(Self {
            signing: SigningKey {
                alg,
                kid: kid.clone(),
                key,
            },
            verifying: vec![VerifyKey {
                alg,
                kid,
                key: decoding,
                public: Some(public),
            }],
        })
    }

    /// Adds an older public key (PEM) that still verifies.
    pub fn add_public_pem(&mut self, alg: Algorithm, pem: &[u8], kid: Option<String>) -> Result<(), String> {
        let key = decoding_from_pem(alg, pem)?;
        let mut public = Jwk::from_decoding_key(&key, Some(alg)).map_err(|e| format!("unusable key: {e}"))?;
        let kid = match kid {
            Some(kid) => kid,
            None => thumbprint(&public)?,
        };
        public.common.key_id = Some(kid.clone());
        public.common.public_key_use = Some(PublicKeyUse::Signature);
        self.push(VerifyKey {
            alg,
            kid,
            key,
            public: Some(public),
        })
    }

    /// Adds an older HMAC secret that still verifies.
    pub fn add_secret(&mut self, alg: Algorithm, secret: &[u8], kid: Option<String>) -> Result<(), String> {
        let ring = KeyRing::hmac(alg, secret, kid)?;
        ring.verifying.into_iter().try_for_each(|k| self.push(k))
    }

    fn push(&mut self, key: VerifyKey) -> Result<(), String> {
        if self.verifying.iter().any(|k| k.kid == key.kid) {
            return Err(format!("two keys have the kid `{}`", key.kid));
        }
        self.verifying.push(key);
        Ok(())
    }

    /// The public keys, for `/.well-known/jwks.json`.
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: self.verifying.iter().filter_map(|k| k.public.clone()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithms_parse() {
        for name in ["HS256", "hs512", "RS384", "PS256", "ES384", "EdDSA"] {
            assert!(parse_algorithm(name).is_ok(), "{name}");
        }
        assert!(parse_algorithm("none").is_err());
        assert!(parse_algorithm("ES512").is_err());
    }

    #[test]
    fn hmac_keys_have_a_stable_kid_and_are_never_published() {
        let a = KeyRing::hmac(Algorithm::HS256, b"0123456789abcdef0123456789abcdef", None).unwrap();
        let b = KeyRing::hmac(Algorithm::HS256, b"0123456789abcdef0123456789abcdef", None).unwrap();
        assert_eq!(a.signing.kid, b.signing.kid);
        assert!(a.jwks().keys.is_empty());
        let mut a = a;
        assert!(
            a.add_secret(Algorithm::HS256, b"0123456789abcdef0123456789abcdef", None)
                .is_err(),
            "duplicate kid"
        );
    }
}
