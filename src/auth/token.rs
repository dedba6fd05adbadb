//! JSON Web Tokens: what they claim, how they are signed, and how a
//! presented one is checked (each refusal is an [`AuthFailure`]).

use jsonwebtoken::errors::ErrorKind;
use std::sync::Arc;

use jsonwebtoken::{decode, decode_header, encode, Header, Validation};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use super::claims::{Claims, MfaClaims, TokenType, RESERVED_CLAIMS};
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

    /// Mints an access token for a session, with how it was signed in
    /// (`amr`) and the app's additional claims (reserved names are dropped
    /// from them).
    pub fn issue_access(
        &self,
        user_id: i32,
        session_id: &str,
        csrf: &str,
        fresh: bool,
        amr: Vec<String>,
        extra: serde_json::Map<String, serde_json::Value>,
    ) -> Result<(String, Claims)> {
        let exp = now() + self.lifetime;
        let mut claims = self.claims(TokenType::Access, user_id, session_id, csrf, fresh, exp);
        claims.amr = amr;
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
            amr: Vec::new(),
            extra: serde_json::Map::new(),
        }
    }

    /// Mints the token of a sign-in waiting for its second factor, good for
    /// `lifetime` seconds.
    pub fn issue_mfa(
        &self,
        user_id: i32,
        remember: bool,
        next: Option<String>,
        bind: Option<String>,
        lifetime: i64,
    ) -> Result<String> {
        let now = now();
        self.sign(&MfaClaims {
            sub: user_id.to_string(),
            token_type: TokenType::Mfa,
            jti: uuid::Uuid::new_v4().to_string(),
            iat: now,
            nbf: now + self.not_before_delta,
            exp: now + lifetime,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            remember,
            next,
            bind,
        })
    }

    /// Checks a pending sign-in's token: everything [`Self::decode`] checks,
    /// its type, and its expiry (no renewal for these).
    pub fn decode_mfa(&self, token: &str) -> Result<MfaClaims, AuthFailure> {
        let claims: MfaClaims = self.verify(token)?;
        let now = now();
        if claims.iat > now + self.leeway.max(60) {
            return Err(AuthFailure::NotYetValid);
        }
        if claims.token_type != TokenType::Mfa {
            return Err(AuthFailure::WrongType);
        }
        if claims.user_id().is_none() {
            return Err(AuthFailure::InvalidClaims);
        }
        if claims.exp + self.leeway <= now {
            return Err(AuthFailure::Expired);
        }
        Ok(claims)
    }

    /// Signs any claims with this key (the testing helpers use it too).
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String> {
        Ok(encode(&self.header, claims, &self.keys.signing.key)?)
    }

    /// Checks a presented token: size, header, signature, claims and type.
    pub fn decode(&self, token: &str, expected: TokenType) -> Result<Decoded, AuthFailure> {
        let wrong_type = || match expected {
            TokenType::Refresh => AuthFailure::NotRefresh,
            TokenType::Access | TokenType::Mfa => AuthFailure::WrongType,
        };
        let claims: Claims = match self.verify(token) {
            // A token of another type (a pending sign-in's) lacks claims an
            // access token has: say it is the wrong type when it is.
            Err(AuthFailure::InvalidClaims) => {
                #[derive(Deserialize)]
                struct TypeOnly {
                    #[serde(rename = "type")]
                    token_type: TokenType,
                }
                return Err(match self.verify::<TypeOnly>(token) {
                    Ok(t) if t.token_type != expected => wrong_type(),
                    _ => AuthFailure::InvalidClaims,
                });
            }
            other => other?,
        };
        let now = now();
        if claims.iat > now + self.leeway.max(60) {
            return Err(AuthFailure::NotYetValid);
        }
        if claims.token_type != expected {
            return Err(wrong_type());
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

    /// Size, header, signature and the registered claims, into `T`.
    fn verify<T: DeserializeOwned>(&self, token: &str) -> Result<T, AuthFailure> {
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
        let data = decode::<T>(token, key, &self.validations[index]).map_err(|e| match e.kind() {
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
        Ok(data.claims)
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
mod tests;
