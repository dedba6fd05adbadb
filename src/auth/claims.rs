//! What a Gatehouse token claims: its type, its session, its CSRF value,
//! and the app's additional claims.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Each purpose has its own type, and a token of one type is refused where
/// another is expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    Access,
    Refresh,
}

/// The claims every Gatehouse token carries. All are required: a token
/// missing one does not decode.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// The session this token belongs to; revoking the session revokes it.
    pub sid: String,
    #[serde(rename = "type")]
    pub token_type: TokenType,
    pub jti: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    /// The double-submit value cookie-authenticated writes must echo.
    pub csrf: String,
    /// Issued by a password (or Google) sign-in rather than a renewal.
    pub fresh: bool,
    /// The app's additional claims (see [`crate::state::AdditionalClaims`]).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl fmt::Debug for Claims {
    /// Never prints the CSRF value, nor a refresh token's `jti` (its
    /// session's current one).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let jti: &dyn fmt::Debug = match self.token_type {
            TokenType::Refresh => &"[redacted]",
            TokenType::Access => &self.jti,
        };
        f.debug_struct("Claims")
            .field("sub", &self.sub)
            .field("sid", &self.sid)
            .field("token_type", &self.token_type)
            .field("jti", jti)
            .field("iat", &self.iat)
            .field("nbf", &self.nbf)
            .field("exp", &self.exp)
            .field("iss", &self.iss)
            .field("aud", &self.aud)
            .field("csrf", &"[redacted]")
            .field("fresh", &self.fresh)
            .field("extra", &self.extra)
            .finish()
    }
}

/// Claim names Gatehouse sets itself; additional claims can't replace them.
pub const RESERVED_CLAIMS: &[&str] = &[
    "sub", "sid", "type", "jti", "iat", "nbf", "exp", "iss", "aud", "csrf", "fresh",
];

impl Claims {
    pub fn user_id(&self) -> Option<i32> {
        self.sub.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_the_csrf_value_or_a_refresh_jti() {
        let (csrf, jti) = ("csrf-value-7f3a9c", "refresh-jti-5b2e81");
        let claims = Claims {
            sub: "7".into(),
            sid: "sid-1".into(),
            token_type: TokenType::Refresh,
            jti: jti.into(),
            iat: 0,
            nbf: 0,
            exp: 600,
            iss: "gatehouse".into(),
            aud: "gatehouse".into(),
            csrf: csrf.into(),
            fresh: false,
            extra: serde_json::Map::new(),
        };
        let debug = format!("{claims:?}");
        assert!(!debug.contains(csrf) && !debug.contains(jti), "{debug}");
        assert!(debug.contains("sid-1") && debug.contains("[redacted]"), "{debug}");
        let access = Claims {
            token_type: TokenType::Access,
            ..claims
        };
        assert!(
            format!("{access:?}").contains(jti),
            "an access token's jti is no secret"
        );
    }
}
