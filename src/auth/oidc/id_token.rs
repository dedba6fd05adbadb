//! The ID token: what it must be before anyone is signed in by it (RS256
//! only, signed by one of the provider's keys, `iss` exact, `aud` our client
//! and nobody else, `azp`, `exp`, `iat`, `nonce`), and the claims we read.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;
use subtle::ConstantTimeEq;

use super::OidcError;
use crate::config::OidcConfig;
use crate::domain::now;

/// ID tokens larger than this are refused before decoding.
const MAX_SIZE: usize = 16 * 1024;

/// Seconds after its `iat` an ID token is still taken.
const MAX_AGE: i64 = 600;

/// The claims Gatehouse reads from an ID token.
#[derive(Debug, Clone, Deserialize)]
pub struct IdClaims {
    pub iss: String,
    pub sub: String,
    pub aud: Value,
    #[serde(default)]
    pub azp: Option<String>,
    pub exp: i64,
    pub iat: i64,
    #[serde(default)]
    pub nonce: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// A boolean, or (as some providers send it) the string "true".
    #[serde(default)]
    pub email_verified: Option<Value>,
    #[serde(default)]
    pub name: Option<String>,
    /// The Google Workspace domain of the account, if any.
    #[serde(default)]
    pub hd: Option<String>,
}

impl IdClaims {
    pub fn email_verified(&self) -> bool {
        match &self.email_verified {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
            _ => false,
        }
    }
}

/// The token's `kid`, after the checks that need no key: size, `alg`
/// (RS256, whatever the header claims otherwise), no critical extensions.
pub fn key_id(token: &str) -> Result<String, OidcError> {
    if token.len() > MAX_SIZE {
        return Err(OidcError::InvalidToken("the ID token is too large"));
    }
    let header = decode_header(token).map_err(|_| OidcError::InvalidToken("the ID token is malformed"))?;
    if header.alg != Algorithm::RS256 {
        return Err(OidcError::InvalidToken("the ID token is not signed with RS256"));
    }
    if header.crit.is_some() {
        return Err(OidcError::InvalidToken(
            "the ID token has a critical header we don't understand",
        ));
    }
    header
        .kid
        .ok_or(OidcError::InvalidToken("the ID token names no signing key"))
}

/// Verifies the signature with `key` and checks every claim. `nonce` is the
/// one this sign-in started with (or the single-page app sent).
pub fn verify(
    token: &str,
    key: &DecodingKey,
    config: &OidcConfig,
    nonce: &str,
) -> Result<IdClaims, OidcError> {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    validation.set_issuer(&[&config.issuer]);
    validation.set_audience(&[&config.client_id]);
    validation.leeway = config.leeway;
    validation.validate_nbf = true;
    let claims = decode::<IdClaims>(token, key, &validation)
        .map_err(|e| {
            OidcError::InvalidToken(match e.kind() {
                ErrorKind::InvalidSignature => "the ID token's signature is not the provider's",
                ErrorKind::InvalidAlgorithm => "the ID token is not signed with RS256",
                ErrorKind::ExpiredSignature => "the ID token has expired",
                ErrorKind::ImmatureSignature => "the ID token is not valid yet",
                ErrorKind::InvalidIssuer => "the ID token was issued by someone else",
                ErrorKind::InvalidAudience => "the ID token is for another application",
                ErrorKind::MissingRequiredClaim(_) => "the ID token lacks a required claim",
                _ => "the ID token is malformed",
            })
        })?
        .claims;
    // jsonwebtoken accepts a token when any audience matches; we accept
    // only tokens for us alone.
    let audiences: Vec<&str> = match &claims.aud {
        Value::String(a) => vec![a.as_str()],
        Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let listed = match &claims.aud {
        Value::Array(list) => list.len(),
        _ => 1,
    };
    if audiences != [config.client_id.as_str()] || listed != 1 {
        return Err(OidcError::InvalidToken(
            "the ID token is also for another application",
        ));
    }
    if claims.azp.as_deref().is_some_and(|azp| azp != config.client_id) {
        return Err(OidcError::InvalidToken(
            "the ID token was requested by another application",
        ));
    }
    // The token comes straight from the token endpoint: one issued long
    // ago is a replayed one.
    let leeway = config.leeway as i64;
    if claims.iat > now() + leeway {
        return Err(OidcError::InvalidToken("the ID token is not valid yet"));
    }
    if claims.iat < now() - MAX_AGE - leeway {
        return Err(OidcError::InvalidToken("the ID token was issued too long ago"));
    }
    if claims.sub.is_empty() || claims.sub.len() > 255 {
        return Err(OidcError::InvalidToken("the ID token has no usable subject"));
    }
    let same = claims
        .nonce
        .as_deref()
        .is_some_and(|got| bool::from(got.as_bytes().ct_eq(nonce.as_bytes())));
    if !same {
        return Err(OidcError::InvalidToken(
            "the ID token's nonce does not match this sign-in",
        ));
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn token(header: &str) -> String {
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!("{}.{}.c2ln", b64(header), b64(r#"{"sub":"x"}"#))
    }

    #[test]
    fn only_rs256_with_a_kid_and_no_crit() {
        assert_eq!(key_id(&token(r#"{"alg":"RS256","kid":"k1"}"#)).unwrap(), "k1");
        for header in [
            r#"{"alg":"none","kid":"k1"}"#,
            r#"{"alg":"HS256","kid":"k1"}"#,
            r#"{"alg":"RS512","kid":"k1"}"#,
            r#"{"alg":"ES256","kid":"k1"}"#,
            r#"{"alg":"RS256"}"#,
            r#"{"alg":"RS256","kid":"k1","crit":["exp-ext"]}"#,
        ] {
            assert!(key_id(&token(header)).is_err(), "{header}");
        }
        assert!(key_id("not a token").is_err());
        let huge = format!(
            "{}{}",
            token(r#"{"alg":"RS256","kid":"k1"}"#),
            "A".repeat(MAX_SIZE)
        );
        assert!(key_id(&huge).is_err(), "oversized");
    }
}
