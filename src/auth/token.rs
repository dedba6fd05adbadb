//! JSON Web Tokens: what they claim, how they are signed, and how a
//! presented one is checked (each refusal is an [`AuthFailure`]).

use jsonwebtoken::errors::ErrorKind;
use std::sync::Arc;

use jsonwebtoken::{decode, decode_header, encode, Header, Validation};
use serde::Serialize;

pub use super::claims::{Claims, TokenType, RESERVED_CLAIMS};
pub use super::failure::AuthFailure;
use crate::config::keys::KeyRing;
use crate::config::JwtConfig;
use crate::domain::now;
use crate::error::Result;

/// A token that passed every check but, possibly, its expiry.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub claims: Claims,
    /// Past `exp` (and the leeway). Cookie sessions may renew such a token
    /// while the session row is still good; everyone else refuses it.
    pub expired: bool,
}

/// Signs and checks tokens with the configured keys. The algorithm comes
/// from configuration (each key has one), never from a token's header; a
/// token's `kid` only selects among the keys loaded.
pub struct Tokens {
    keys: Arc<KeyRing>,
    header: Header,
    /// One per verification key (same index), each allowing only its
    /// key's algorithm.
    validations: Vec<Validation>,
    issuer: String,
    audience: String,
    lifetime: i64,
    not_before_delta: i64,
    leeway: i64,
    max_size: usize,
    required_claims: Vec<String>,
}

impl Tokens {
    pub fn new(config: &JwtConfig) -> Self {
        let mut validation = Validation::new(config.algorithm);
        validation.set_required_spec_claims(&["exp", "iat", "nbf", "iss", "aud", "sub"]);
        validation.set_issuer(&[&config.decode_issuer]);
        validation.set_audience(&[&config.decode_audience]);
        validation.validate_nbf = true;
        // Expiry is checked below, so an expired cookie can still name the
        // session that may renew it.
        validation.validate_exp = false;
        validation.leeway = config.decode_leeway;
        let keys = config.keys.clone();
        let validations = keys
            .verifying
            .iter()
            .map(|key| {
                let mut v = validation.clone();
                v.algorithms = vec![key.alg];
                v
            })
            .collect();
        let mut header = Header::new(keys.signing.alg);
        header.typ = Some("JWT".into());
        header.kid = Some(keys.signing.kid.clone());
        Self {
            keys,
            header,
            validations,
            issuer: config.encode_issuer.clone(),
            audience: config.encode_audience.clone(),
            lifetime: config.access_token_expires,
            not_before_delta: config.not_before_delta,
            leeway: config.decode_leeway as i64,
            max_size: config.max_token_size,
            required_claims: config.required_claims.clone(),
        }
    }

    /// The public keys, for `/.well-known/jwks.json`.
    pub fn jwks(&self) -> jsonwebtoken::jwk::JwkSet {
        self.keys.jwks()
    }

    /// The `kid` new tokens are signed with.
    pub fn signing_kid(&self) -> &str {
        &self.keys.signing.kid
    }

    /// Mints an access token for a session, with the app's additional
    /// claims (reserved names are dropped from them).
    pub fn issue_access(
        &self,
        user_id: i32,
        session_id: &str,
        csrf: &str,
        fresh: bool,
        extra: serde_json::Map<String, serde_json::Value>,
    ) -> Result<(String, Claims)> {
        let exp = now() + self.lifetime;
        let mut claims = self.claims(TokenType::Access, user_id, session_id, csrf, fresh, exp);
        claims.extra = extra;
        claims.extra.retain(|k, _| !RESERVED_CLAIMS.contains(&k.as_str()));
        Ok((self.sign(&claims)?, claims))
    }

    /// Seconds an access token lives.
    pub fn access_lifetime(&self) -> i64 {
        self.lifetime
    }

    /// Mints a refresh token for a session; it lives as long as the session.
    pub fn issue_refresh(
        &self,
        user_id: i32,
        session_id: &str,
        csrf: &str,
        jti: &str,
        expires_at: i64,
    ) -> Result<String> {
        let mut claims = self.claims(TokenType::Access, user_id, session_id, csrf, false, expires_at);
        claims.token_type = TokenType::Refresh;
        claims.jti = jti.to_owned();
        self.sign(&claims)
    }

    fn claims(
        &self,
        token_type: TokenType,
        user_id: i32,
        session_id: &str,
        csrf: &str,
        fresh: bool,
        exp: i64,
    ) -> Claims {
        let now = now();
        Claims {
            sub: user_id.to_string(),
            sid: session_id.to_owned(),
            token_type,
            jti: uuid::Uuid::new_v4().to_string(),
            iat: now,
            nbf: now + self.not_before_delta,
            exp,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            csrf: csrf.to_owned(),
            fresh,
            extra: serde_json::Map::new(),
        }
    }

    /// Signs any claims with this key (the testing helpers use it too).
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String> {
        Ok(encode(&self.header, claims, &self.keys.signing.key)?)
    }

    /// Checks a presented token: size, header, signature, claims and type.
    pub fn decode(&self, token: &str, expected: TokenType) -> Result<Decoded, AuthFailure> {
        if token.is_empty() {
            return Err(AuthFailure::Missing);
        }
        if token.len() > self.max_size {
            return Err(AuthFailure::Malformed);
        }
        let header = decode_header(token).map_err(|_| AuthFailure::Malformed)?;
        // We understand no critical header extension, so any is refused
        // (RFC 7515 §4.1.11). `jku`, `x5u`, `jwk` and `x5c` are never read.
        if header.crit.is_some() {
            return Err(AuthFailure::Malformed);
        }
        // Every token Gatehouse signs names its key; an unknown `kid`, or an
        // algorithm other than that key's, can't be verified.
        let index = header
            .kid
            .as_deref()
            .and_then(|kid| self.keys.verifying.iter().position(|k| k.kid == kid))
            .filter(|&i| self.keys.verifying[i].alg == header.alg)
            .ok_or(AuthFailure::BadSignature)?;
        let key = &self.keys.verifying[index].key;
        let data = decode::<Claims>(token, key, &self.validations[index]).map_err(|e| match e.kind() {
            ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                AuthFailure::BadSignature
            }
            ErrorKind::ExpiredSignature => AuthFailure::Expired,
            ErrorKind::ImmatureSignature => AuthFailure::NotYetValid,
            ErrorKind::InvalidIssuer
            | ErrorKind::InvalidAudience
            | ErrorKind::InvalidSubject
            | ErrorKind::MissingRequiredClaim(_) => AuthFailure::InvalidClaims,
            // A claim our typed claims need is absent.
            ErrorKind::Json(e) if e.to_string().starts_with("missing field") => AuthFailure::InvalidClaims,
            _ => AuthFailure::Malformed,
        })?;
        let claims = data.claims;
        let now = now();
        if claims.iat > now + self.leeway.max(60) {
            return Err(AuthFailure::NotYetValid);
        }
        if claims.token_type != expected {
            return Err(match expected {
                TokenType::Access => AuthFailure::WrongType,
                TokenType::Refresh => AuthFailure::NotRefresh,
            });
        }
        if self
            .required_claims
            .iter()
            .any(|name| !RESERVED_CLAIMS.contains(&name.as_str()) && !claims.extra.contains_key(name))
        {
            return Err(AuthFailure::InvalidClaims);
        }
        if claims.user_id().is_none() || claims.sid.is_empty() {
            return Err(AuthFailure::InvalidClaims);
        }
        let expired = claims.exp + self.leeway <= now;
        Ok(Decoded { claims, expired })
    }
}

/// A fresh random value, URL-safe: a session's CSRF value.
pub fn random_value() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    fn tokens() -> Tokens {
        let mut s = Settings::default();
        s.jwt.secret_key = Some("k3P9vQz8Lr2Xw6Yt1Nb5Mc7Hd4Jf0Gs8Ae2Ui6Oo9".into());
        Tokens::new(&s.validate(false).unwrap().jwt)
    }

    fn b64(bytes: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    #[test]
    fn round_trip() {
        let t = tokens();
        let (token, claims) = t
            .issue_access(7, "sid-1", "csrf-1", true, Default::default())
            .unwrap();
        let decoded = t.decode(&token, TokenType::Access).unwrap();
        assert_eq!(decoded.claims, claims);
        assert!(!decoded.expired);
        assert_eq!(
            t.decode(&token, TokenType::Refresh).unwrap_err(),
            AuthFailure::NotRefresh
        );
    }

    /// An access token for user 7, and its claims.
    fn issued(t: &Tokens) -> (String, Claims) {
        t.issue_access(7, "sid-1", "c", true, Default::default()).unwrap()
    }

    #[test]
    fn refuses_forged_headers() {
        let t = tokens();
        let (token, _) = issued(&t);
        let parts: Vec<&str> = token.split('.').collect();
        // alg: none, with and without a signature
        let none = b64(br#"{"alg":"none","typ":"JWT"}"#);
        for forged in [format!("{none}.{}.", parts[1]), format!("{none}.{}", parts[1])] {
            assert_eq!(
                t.decode(&forged, TokenType::Access).unwrap_err(),
                AuthFailure::Malformed
            );
        }
        // HS384 header on our HS256 key: the algorithm comes from config
        let hs384 = b64(br#"{"alg":"HS384","typ":"JWT"}"#);
        assert_eq!(
            t.decode(&format!("{hs384}.{}.{}", parts[1], parts[2]), TokenType::Access)
                .unwrap_err(),
            AuthFailure::BadSignature
        );
        // an unknown critical header
        let crit = b64(br#"{"alg":"HS256","typ":"JWT","crit":["exp-ext"]}"#);
        assert_eq!(
            t.decode(&format!("{crit}.{}.{}", parts[1], parts[2]), TokenType::Access)
                .unwrap_err(),
            AuthFailure::Malformed
        );
    }

    #[test]
    fn refuses_tampered_tokens() {
        let t = tokens();
        let (token, claims) = issued(&t);
        let parts: Vec<&str> = token.split('.').collect();
        // stripped signature
        assert!(t
            .decode(&format!("{}.{}.", parts[0], parts[1]), TokenType::Access)
            .is_err());
        // tampered payload
        let mut tampered = claims.clone();
        tampered.sub = "1".into();
        let body = b64(serde_json::to_string(&tampered).unwrap().as_bytes());
        assert_eq!(
            t.decode(&format!("{}.{body}.{}", parts[0], parts[2]), TokenType::Access)
                .unwrap_err(),
            AuthFailure::BadSignature
        );
        // too large
        assert_eq!(
            t.decode(&"a".repeat(100_000), TokenType::Access).unwrap_err(),
            AuthFailure::Malformed
        );
    }

    #[test]
    fn checks_time_and_audience() {
        let t = tokens();
        let now = now();
        let base = t.issue_access(1, "s", "c", false, Default::default()).unwrap().1;
        let expired = Claims {
            exp: now - 10,
            ..base.clone()
        };
        assert!(
            t.decode(&t.sign(&expired).unwrap(), TokenType::Access)
                .unwrap()
                .expired
        );
        let future = Claims {
            nbf: now + 3600,
            ..base.clone()
        };
        assert_eq!(
            t.decode(&t.sign(&future).unwrap(), TokenType::Access)
                .unwrap_err(),
            AuthFailure::NotYetValid
        );
        let aud = Claims {
            aud: "someone-else".into(),
            ..base.clone()
        };
        assert_eq!(
            t.decode(&t.sign(&aud).unwrap(), TokenType::Access).unwrap_err(),
            AuthFailure::InvalidClaims
        );
        let iss = Claims {
            iss: "evil".into(),
            ..base.clone()
        };
        assert_eq!(
            t.decode(&t.sign(&iss).unwrap(), TokenType::Access).unwrap_err(),
            AuthFailure::InvalidClaims
        );
        // a required claim missing
        let mut value = serde_json::to_value(&base).unwrap();
        value.as_object_mut().unwrap().remove("jti");
        assert!(t.decode(&t.sign(&value).unwrap(), TokenType::Access).is_err());
        value = serde_json::to_value(&base).unwrap();
        value.as_object_mut().unwrap().remove("exp");
        assert!(t.decode(&t.sign(&value).unwrap(), TokenType::Access).is_err());
        for claim in ["iss", "aud"] {
            value = serde_json::to_value(&base).unwrap();
            value.as_object_mut().unwrap().remove(claim);
            assert_eq!(
                t.decode(&t.sign(&value).unwrap(), TokenType::Access).unwrap_err(),
                AuthFailure::InvalidClaims,
                "missing {claim}"
            );
        }
    }

    #[test]
    fn refuses_a_duplicated_claim() {
        let t = tokens();
        let (_, claims) = issued(&t);
        // a duplicated claim, correctly signed, is refused rather than
        // resolved either way
        let json = serde_json::to_string(&claims).unwrap();
        let dup = serde_json::value::RawValue::from_string(json.replacen('{', "{\"sub\":\"1\",", 1)).unwrap();
        let signed_dup = t.sign(&dup).unwrap();
        assert_eq!(
            t.decode(&signed_dup, TokenType::Access).unwrap_err(),
            AuthFailure::Malformed
        );
    }
}
