//! `[jwt]`: signing keys, token lifetimes, where tokens are read from, and
//! the token cookies. Named after Flask-JWT-Extended's options.

mod errors;
mod secrets; // the signing secret or key file, older keys, the checks on secrets
mod transport; // token locations, the cookies' attributes, CSRF methods // error_format: Flask-JWT's or Flask-JWT-Extended's JSON errors

use std::fmt;
use std::sync::Arc;

use rocket::http::{Method, SameSite};
use serde::{Deserialize, Serialize};

use super::error::{bad, ConfigError};
use super::keys::{parse_algorithm, KeyRing};
pub use errors::ErrorFormat;
pub use secrets::{VerifyKeySettings, SAMPLE_SECRET, SECRET_HINT};
pub use transport::Location;

/// Token and cookie settings, named after Flask-JWT-Extended's options (lower
/// case, no `JWT_` prefix). Durations are in seconds. An unknown key is an
/// error (a misspelt or unsupported option must not pass silently).
#[derive(Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct JwtSettings {
    /// The HMAC signing secret, at least 32 bytes (HS algorithms).
    pub secret_key: Option<String>,
    /// The PEM private key file (RS, PS, ES and EdDSA algorithms).
    pub private_key_file: Option<String>,
    /// The signing key's `kid`; by default its RFC 7638 thumbprint.
    pub kid: Option<String>,
    /// Older keys that still verify (key rotation), until their tokens expire.
    pub verify_keys: Vec<VerifyKeySettings>,
    /// HS256 (default), HS384, HS512, RS256/384/512, PS256/384/512,
    /// ES256/384 or EdDSA.
    pub algorithm: String,
    /// Lifetime of an access token. A browser's token is renewed while its
    /// session lasts, so this bounds how stale a token can get, not how long
    /// people stay signed in.
    #[serde(alias = "expiration_delta")]
    pub access_token_expires: u64,
    /// How long a sign-in without "remember me" lasts (the cookie itself ends
    /// with the browser session).
    pub session_expires: u64,
    /// How long a "remember me" sign-in (and an API sign-in) lasts: the
    /// refresh token's lifetime.
    #[serde(alias = "refresh_token_expires")]
    pub remember_expires: u64,
    /// A session unused for this long ends (its refresh token stops working).
    pub session_idle_timeout: u64,
    pub encode_issuer: String,
    /// Defaults to `encode_issuer`.
    pub decode_issuer: Option<String>,
    pub encode_audience: String,
    /// Defaults to `encode_audience`.
    pub decode_audience: Option<String>,
    /// Seconds of clock skew allowed on `exp`, `nbf` and `iat`.
    #[serde(alias = "leeway")]
    pub decode_leeway: u64,
    /// Tokens longer than this are refused before any decoding.
    pub max_token_size: usize,
    pub access_cookie_name: String,
    pub access_cookie_path: String,
    pub refresh_cookie_name: String,
    pub refresh_cookie_path: String,
    /// Seconds during which a just-replaced refresh token is still honoured
    /// (two tabs renewing at once), instead of counting as reuse.
    pub refresh_reuse_grace: u64,
    /// Browsers renew the access cookie this many seconds before it expires.
    pub renew_before_expiry: u64,
    pub access_csrf_cookie_name: String,
    pub access_csrf_header_name: String,
    /// Where tokens are looked for, in order: `cookies`, `headers`,
    /// `query_string`, `json`. The first location holding a token decides:
    /// a bad token there is reported as such, not as "missing".
    pub token_location: Vec<String>,
    pub header_name: String,
    /// The header's token type (`Bearer`).
    pub header_type: String,
    /// Flask-JWT's prefix, accepted as well as `header_type`.
    pub auth_header_prefix: String,
    pub query_string_name: String,
    pub json_key: String,
    pub refresh_json_key: String,
    /// Seconds after `iat` before a token is valid (Flask-JWT).
    pub not_before_delta: u64,
    /// Methods that need the CSRF value when authenticated by cookie.
    pub csrf_methods: Vec<String>,
    /// Claims (beyond Gatehouse's own, always required) a token must carry,
    /// e.g. ones an `AdditionalClaims` hook adds (Flask-JWT's
    /// `required_claims`).
    pub required_claims: Vec<String>,
    /// Also set the CSRF value in a cookie JavaScript can read.
    pub csrf_in_cookies: bool,
    /// Check the CSRF value on cookie-authenticated writes.
    pub cookie_csrf_protect: bool,
    /// `Secure` on token cookies; defaults to on in release, off in debug.
    pub cookie_secure: Option<bool>,
    /// `Lax` (default), `Strict` or `None` (which requires `cookie_secure`).
    pub cookie_samesite: String,
    /// Prefix token cookie names with `__Host-` (requires `cookie_secure`).
    pub cookie_host_prefix: bool,
    /// JSON errors: `flask-jwt` (default) or `flask-jwt-extended` (`{"msg"}`).
    pub error_format: String,
}

impl Default for JwtSettings {
    fn default() -> Self {
        Self {
            secret_key: None,
            private_key_file: None,
            kid: None,
            verify_keys: Vec::new(),
            algorithm: "HS256".into(),
            access_token_expires: 15 * 60,
            session_expires: 12 * 60 * 60,
            remember_expires: 30 * 24 * 60 * 60,
            session_idle_timeout: 7 * 24 * 60 * 60,
            encode_issuer: "gatehouse".into(),
            decode_issuer: None,
            encode_audience: "gatehouse".into(),
            decode_audience: None,
            decode_leeway: 0,
            max_token_size: 8 * 1024,
            access_cookie_name: "access_token_cookie".into(),
            access_cookie_path: "/".into(),
            refresh_cookie_name: "refresh_token_cookie".into(),
            refresh_cookie_path: "/".into(),
            refresh_reuse_grace: 10,
            renew_before_expiry: 60,
            access_csrf_cookie_name: "csrf_access_token".into(),
            access_csrf_header_name: "X-CSRF-TOKEN".into(),
            token_location: vec!["cookies".into(), "headers".into()],
            header_name: "Authorization".into(),
            header_type: "Bearer".into(),
            auth_header_prefix: "JWT".into(),
            query_string_name: "auth".into(),
            json_key: "access_token".into(),
            refresh_json_key: "refresh_token".into(),
            not_before_delta: 0,
            csrf_methods: ["POST", "PUT", "PATCH", "DELETE"].map(String::from).to_vec(),
            required_claims: Vec::new(),
            csrf_in_cookies: true,
            cookie_csrf_protect: true,
            cookie_secure: None,
            cookie_samesite: "Lax".into(),
            cookie_host_prefix: false,
            error_format: ErrorFormat::default().name().into(),
        }
    }
}

impl fmt::Debug for JwtSettings {
    /// Never prints `secret_key` (only whether it is set).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtSettings")
            .field("secret_key", &self.secret_key.as_ref().map(|_| "[redacted]"))
            .field("private_key_file", &self.private_key_file)
            .field("kid", &self.kid)
            .field("verify_keys", &self.verify_keys)
            .field("algorithm", &self.algorithm)
            .field("access_token_expires", &self.access_token_expires)
            .field("session_expires", &self.session_expires)
            .field("remember_expires", &self.remember_expires)
            .field("session_idle_timeout", &self.session_idle_timeout)
            .field("encode_issuer", &self.encode_issuer)
            .field("decode_issuer", &self.decode_issuer)
            .field("encode_audience", &self.encode_audience)
            .field("decode_audience", &self.decode_audience)
            .field("decode_leeway", &self.decode_leeway)
            .field("max_token_size", &self.max_token_size)
            .field("access_cookie_name", &self.access_cookie_name)
            .field("access_cookie_path", &self.access_cookie_path)
            .field("refresh_cookie_name", &self.refresh_cookie_name)
            .field("refresh_cookie_path", &self.refresh_cookie_path)
            .field("refresh_reuse_grace", &self.refresh_reuse_grace)
            .field("renew_before_expiry", &self.renew_before_expiry)
            .field("access_csrf_cookie_name", &self.access_csrf_cookie_name)
            .field("access_csrf_header_name", &self.access_csrf_header_name)
            .field("token_location", &self.token_location)
            .field("header_name", &self.header_name)
            .field("header_type", &self.header_type)
            .field("auth_header_prefix", &self.auth_header_prefix)
            .field("query_string_name", &self.query_string_name)
            .field("json_key", &self.json_key)
            .field("refresh_json_key", &self.refresh_json_key)
            .field("not_before_delta", &self.not_before_delta)
            .field("csrf_methods", &self.csrf_methods)
            .field("required_claims", &self.required_claims)
            .field("csrf_in_cookies", &self.csrf_in_cookies)
            .field("cookie_csrf_protect", &self.cookie_csrf_protect)
            .field("cookie_secure", &self.cookie_secure)
            .field("cookie_samesite", &self.cookie_samesite)
            .field("cookie_host_prefix", &self.cookie_host_prefix)
            .field("error_format", &self.error_format)
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct JwtConfig {
    pub algorithm: jsonwebtoken::Algorithm,
    /// The signing key and every verification key.
    pub keys: Arc<KeyRing>,
    pub access_token_expires: i64,
    pub session_expires: i64,
    pub remember_expires: i64,
    pub session_idle_timeout: i64,
    pub encode_issuer: String,
    pub decode_issuer: String,
    pub encode_audience: String,
    pub decode_audience: String,
    pub decode_leeway: u64,
    pub max_token_size: usize,
    pub access_cookie_name: String,
    pub access_cookie_path: String,
    pub refresh_cookie_name: String,
    pub refresh_cookie_path: String,
    pub refresh_reuse_grace: i64,
    pub renew_before_expiry: i64,
    pub access_csrf_cookie_name: String,
    pub access_csrf_header_name: String,
    pub token_location: Vec<Location>,
    pub header_name: String,
    /// Accepted header types: `header_type` and `auth_header_prefix`.
    pub header_types: Vec<String>,
    pub query_string_name: String,
    pub json_key: String,
    pub refresh_json_key: String,
    pub not_before_delta: i64,
    pub csrf_methods: Vec<Method>,
    pub required_claims: Vec<String>,
    pub csrf_in_cookies: bool,
    pub cookie_csrf_protect: bool,
    pub cookie_secure: bool,
    pub cookie_samesite: SameSite,
    pub error_format: ErrorFormat,
}

impl JwtSettings {
    /// Checks `[jwt]`. Also says whether the signing secret was generated
    /// for this run (debug without `secret_key`).
    pub fn validate(self, release: bool) -> Result<(JwtConfig, bool), ConfigError> {
        let algorithm = parse_algorithm(&self.algorithm).map_err(|m| bad("jwt.algorithm", m))?;
        let (mut keys, generated_secret) = self.signing_keys(algorithm, release)?;
        for (i, old) in self.verify_keys.iter().enumerate() {
            old.add_to(&mut keys, &format!("jwt.verify_keys[{i}]"), release)?;
        }
        let lifetimes = self.lifetimes()?;
        if self.max_token_size < 512 {
            return Err(bad("jwt.max_token_size", "must be at least 512 bytes"));
        }
        if self.not_before_delta > 3600 {
            return Err(bad("jwt.not_before_delta", "must be at most 3600 seconds"));
        }
        self.check_names()?;
        let (cookie_secure, cookie_samesite) = self.cookie_policy(release)?;
        let token_location = self.token_locations()?;
        let csrf_methods = self.csrf_methods()?;
        let error_format = ErrorFormat::parse(&self.error_format)?;
        let prefix = |name: String| {
            if self.cookie_host_prefix {
                format!("__Host-{name}")
            } else {
                name
            }
        };
        let config = JwtConfig {
            algorithm,
            keys: Arc::new(keys),
            access_token_expires: lifetimes.access,
            session_expires: lifetimes.session,
            remember_expires: lifetimes.remember,
            session_idle_timeout: lifetimes.idle,
            decode_issuer: self.decode_issuer.unwrap_or_else(|| self.encode_issuer.clone()),
            encode_issuer: self.encode_issuer,
            decode_audience: self
                .decode_audience
                .unwrap_or_else(|| self.encode_audience.clone()),
            encode_audience: self.encode_audience,
            decode_leeway: self.decode_leeway,
            max_token_size: self.max_token_size,
            access_cookie_name: prefix(self.access_cookie_name),
            access_cookie_path: self.access_cookie_path,
            refresh_cookie_name: prefix(self.refresh_cookie_name),
            refresh_cookie_path: self.refresh_cookie_path,
            refresh_reuse_grace: self.refresh_reuse_grace as i64,
            renew_before_expiry: self.renew_before_expiry as i64,
            access_csrf_cookie_name: prefix(self.access_csrf_cookie_name),
            access_csrf_header_name: self.access_csrf_header_name,
            token_location,
            header_types: [self.header_type, self.auth_header_prefix]
                .into_iter()
                .filter(|t| !t.trim().is_empty())
                .collect(),
            header_name: self.header_name,
            query_string_name: self.query_string_name,
            json_key: self.json_key,
            refresh_json_key: self.refresh_json_key,
            not_before_delta: self.not_before_delta as i64,
            csrf_methods,
            required_claims: self.required_claims,
            csrf_in_cookies: self.csrf_in_cookies,
            cookie_csrf_protect: self.cookie_csrf_protect,
            cookie_secure,
            cookie_samesite,
            error_format,
        };
        Ok((config, generated_secret))
    }

    /// The lifetimes, each between a second and ten years, and in the
    /// order renewal needs.
    fn lifetimes(&self) -> Result<Lifetimes, ConfigError> {
        let access_token_expires = seconds("jwt.access_token_expires", self.access_token_expires)?;
        let session_expires = seconds("jwt.session_expires", self.session_expires)?;
        let remember_expires = seconds("jwt.remember_expires", self.remember_expires)?;
        let session_idle_timeout = seconds("jwt.session_idle_timeout", self.session_idle_timeout)?;
        if session_idle_timeout < access_token_expires {
            return Err(bad(
                "jwt.session_idle_timeout",
                "must be at least `access_token_expires` (activity is noted when tokens renew)",
            ));
        }
        if self.renew_before_expiry as i64 >= access_token_expires {
            return Err(bad(
                "jwt.renew_before_expiry",
                "must be shorter than `access_token_expires` (or every request would renew)",
            ));
        }
        Ok(Lifetimes {
            access: access_token_expires,
            session: session_expires,
            remember: remember_expires,
            idle: session_idle_timeout,
        })
    }

    /// Names that must not be empty.
    fn check_names(&self) -> Result<(), ConfigError> {
        for (key, value) in [
            ("jwt.encode_issuer", &self.encode_issuer),
            ("jwt.encode_audience", &self.encode_audience),
            ("jwt.access_cookie_name", &self.access_cookie_name),
            ("jwt.refresh_cookie_name", &self.refresh_cookie_name),
            ("jwt.access_csrf_cookie_name", &self.access_csrf_cookie_name),
            ("jwt.access_csrf_header_name", &self.access_csrf_header_name),
            ("jwt.header_name", &self.header_name),
            ("jwt.query_string_name", &self.query_string_name),
            ("jwt.json_key", &self.json_key),
            ("jwt.refresh_json_key", &self.refresh_json_key),
        ] {
            if value.trim().is_empty() {
                return Err(bad(key, "must not be empty"));
            }
        }
        Ok(())
    }
}

/// A number of seconds between one and ten years.
pub(crate) fn seconds(key: &str, v: u64) -> Result<i64, ConfigError> {
    if v == 0 || v > 10 * 365 * 24 * 3600 {
        Err(bad(key, "must be a number of seconds between 1 and ten years"))
    } else {
        Ok(v as i64)
    }
}

/// The checked lifetimes, in seconds.
struct Lifetimes {
    access: i64,
    session: i64,
    remember: i64,
    idle: i64,
}
