//! What a Gatehouse token claims: its type, its session, its CSRF value,
//! and the app's additional claims.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Each purpose has its own type, and a token of one type is refused where
/// another is expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    Access,
    Refresh,
    /// A sign-in waiting for its second factor ([`MfaClaims`]): good only
    /// where the code is entered, for a few minutes.
    Mfa,
}

/// The claims every Gatehouse token carries. All are required: a token
/// missing one does not decode.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
    /// How the session was signed in (RFC 8176): `["pwd"]`, `["pwd",
    /// "otp"]`, `["hwk"]` (a passkey), `["pwd", "hwk"]` or `["google"]`. Access tokens only; kept across renewals
    /// (it comes from the session). Tokens minted before it existed decode
    /// with none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// The app's additional claims (see [`crate::state::AdditionalClaims`]).
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl fmt::Debug for Claims {
    /// Never prints the CSRF value, nor a refresh token's `jti` (its
    /// session's current one).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let jti: &dyn fmt::Debug = match self.token_type {
            TokenType::Refresh => &"[redacted]",
            TokenType::Access | TokenType::Mfa => &self.jti,
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
            .field("amr", &self.amr)
            .field("extra", &self.extra)
            .finish()
    }
}

/// Claim names Gatehouse sets itself; additional claims can't replace them.
pub const RESERVED_CLAIMS: &[&str] = &[
    "sub", "sid", "type", "jti", "iat", "nbf", "exp", "iss", "aud", "csrf", "fresh", "amr",
];

/// A sign-in that passed its password and waits for the second factor: what
/// the second step needs to finish it. It starts no session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaClaims {
    /// The user id.
    pub sub: String,
    #[serde(rename = "type")]
    pub token_type: TokenType,
    pub jti: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    /// "Remember me", carried to the session.
    #[serde(default)]
    pub remember: bool,
    /// Where the browser goes after the code (a local path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// For the form: the SHA-256 of the browser's anonymous CSRF value, so
    /// the pending sign-in finishes only in the browser that started it.
    /// `None` for the JSON API's `mfa_token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
}

impl MfaClaims {
    pub fn user_id(&self) -> Option<i32> {
        self.sub.parse().ok()
    }
}

impl Claims {
    pub fn user_id(&self) -> Option<i32> {
        self.sub.parse().ok()
    }

    /// Whether the session was signed in with a second factor: a one-time
    /// code (`otp`) or a passkey (`hwk`, on its own or after a password).
    pub fn has_second_factor(&self) -> bool {
        self.amr.iter().any(|m| m == AMR_OTP || m == AMR_HWK)
    }
}

/// RFC 8176's value for a one-time code.
pub const AMR_OTP: &str = "otp";

/// RFC 8176's value for a proof of possession of a hardware-secured key: a
/// passkey (which also verified its user, by a PIN or biometrics).
pub const AMR_HWK: &str = "hwk";

/// A session's sign-in method (the `sessions.method` column) as RFC 8176
/// `amr` values: `password` -> `["pwd"]`, `password+otp` -> `["pwd",
/// "otp"]`, `passkey` -> `["hwk"]`, `password+passkey` -> `["pwd", "hwk"]`,
/// `google` -> `["google"]` (the provider's own factors are its business).
/// Any other method (the testing helpers') claims nothing.
pub fn amr_for_method(method: &str) -> Vec<String> {
    let values: &[&str] = match method {
        "password" => &["pwd"],
        "password+otp" => &["pwd", AMR_OTP],
        "passkey" => &[AMR_HWK],
        "password+passkey" => &["pwd", AMR_HWK],
        "google" => &["google"],
        _ => &[],
    };
    values.iter().map(|v| (*v).to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passkey_is_a_second_factor() {
        assert_eq!(amr_for_method("passkey"), ["hwk"]);
        assert_eq!(amr_for_method("password+passkey"), ["pwd", "hwk"]);
        let claims = |method: &str| Claims {
            sub: "1".into(),
            sid: "s".into(),
            token_type: TokenType::Access,
            jti: "j".into(),
            iat: 0,
            nbf: 0,
            exp: 1,
            iss: "i".into(),
            aud: "a".into(),
            csrf: "c".into(),
            fresh: true,
            amr: amr_for_method(method),
            extra: serde_json::Map::new(),
        };
        for (method, second) in [
            ("password", false),
            ("google", false),
            ("password+otp", true),
            ("passkey", true),
            ("password+passkey", true),
        ] {
            assert_eq!(claims(method).has_second_factor(), second, "{method}");
        }
    }

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
            amr: Vec::new(),
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
