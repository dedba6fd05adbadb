//! Typed configuration, read from Rocket.toml and the environment and
//! validated at ignite: a bad value stops the launch with a message naming
//! the key.

use rocket::figment::providers::{Env, Serialized};
use rocket::figment::{Figment, Profile};
use rocket::http::SameSite;
use serde::{Deserialize, Serialize};

use std::sync::Arc;

use crate::auth::keys::{is_hmac, parse_algorithm, KeyRing};
use crate::auth::oidc::{GoogleSettings, OidcConfig};
use crate::db::DatabaseUrl;
use crate::mail::{MailConfig, MailSettings};

/// The value in the sample Rocket.toml and README; never accepted in release.
pub const SAMPLE_SECRET: &str = "sample-secret-CHANGE-ME-run-openssl-rand-base64-48";

/// How to make a good signing secret, quoted in every error about one.
pub const SECRET_HINT: &str =
    "generate one with `openssl rand -base64 48` and set it as JWT_SECRET_KEY (or `secret_key` under [release.jwt] in Rocket.toml)";

/// Rocket's figment plus Gatehouse's environment variables:
/// `DATABASE_URL`, `JWT_SECRET_KEY` (Flask-JWT-Extended's name), and any
/// setting as `GATEHOUSE_<SECTION>__<KEY>` (e.g. `GATEHOUSE_JWT__ACCESS_TOKEN_EXPIRES=600`).
pub fn figment() -> Figment {
    rocket::Config::figment()
        .merge(Env::prefixed("GATEHOUSE_").split("__").global())
        .merge(Env::raw().only(&["DATABASE_URL"]).global())
        .merge(
            Env::raw()
                .only(&["JWT_SECRET_KEY"])
                .map(|_| "jwt.secret_key".into())
                .global(),
        )
}

/// A figment for tests and embedding: Rocket's defaults (no Rocket.toml, no
/// environment) with the given settings on top.
pub fn figment_with<T: Serialize>(profile: &str, settings: T) -> Figment {
    Figment::from(rocket::Config::default())
        .merge(Serialized::defaults(settings))
        .select(Profile::from(profile))
}

/// Everything Gatehouse reads from configuration, with its defaults.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct Settings {
    /// `sqlite://PATH`, a plain path, or `postgres://...`.
    pub database_url: String,
    pub database_pool_size: u32,
    /// Shown in page titles and the header.
    pub site_name: String,
    /// Where the JSON API is mounted.
    pub api_prefix: String,
    /// Flask-JWT's sign-in endpoint and its body keys.
    pub auth_url_rule: String,
    pub auth_username_key: String,
    pub auth_password_key: String,
    /// Flask-JWT-Router: every route needs a valid token unless listed.
    pub deny_by_default: bool,
    /// `[method, path]` pairs public under `deny_by_default` (a path ending
    /// in `/*` matches everything below it). Gatehouse's own public routes
    /// (sign-in, refresh, JWKS, static files...) always are.
    pub white_list_routes: Vec<(String, String)>,
    /// Paths public for every method under `deny_by_default`.
    pub ignored_routes: Vec<String>,
    /// Whether people may create their own account at `/register`.
    pub registration: bool,
    /// Seconds a registration link stays valid.
    pub registration_link_expires: u64,
    /// Where people reach this site (`https://example.com`), for the links
    /// in mails. Required in release when registration is on; in debug it
    /// defaults to `http://localhost:<port>`.
    pub public_url: Option<String>,
    /// How mail is sent (registration links).
    pub mail: MailSettings,
    pub jwt: JwtSettings,
    pub password: PasswordSettings,
    pub login: LoginSettings,
    /// Sign-in with Google (or another OpenID Connect provider).
    pub google: GoogleSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: "sqlite://gatehouse.db".into(),
            database_pool_size: 8,
            site_name: "Gatehouse".into(),
            api_prefix: "/api/v1".into(),
            auth_url_rule: "/auth".into(),
            auth_username_key: "username".into(),
            auth_password_key: "password".into(),
            deny_by_default: false,
            white_list_routes: Vec::new(),
            ignored_routes: Vec::new(),
            registration: false,
            registration_link_expires: 24 * 60 * 60,
            public_url: None,
            mail: MailSettings::default(),
            jwt: JwtSettings::default(),
            password: PasswordSettings::default(),
            login: LoginSettings::default(),
            google: GoogleSettings::default(),
        }
    }
}

/// Token and cookie settings, named after Flask-JWT-Extended's options (lower
/// case, no `JWT_` prefix). Durations are in seconds. An unknown key is an
/// error (a misspelt or unsupported option must not pass silently).
#[derive(Debug, Clone, Deserialize, Serialize)]
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
        }
    }
}

/// An older verification key: a public key file for asymmetric algorithms,
/// or a secret for HMAC.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyKeySettings {
    pub algorithm: String,
    pub public_key_file: Option<String>,
    pub secret_key: Option<String>,
    pub kid: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordSettings {
    /// bcrypt cost factor, at least 10.
    pub bcrypt_cost: u32,
    /// Minimum length in characters, at least 8.
    pub min_length: usize,
}

impl Default for PasswordSettings {
    fn default() -> Self {
        Self {
            bcrypt_cost: 12,
            min_length: 8,
        }
    }
}

/// Protection against guessing.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoginSettings {
    /// Failed sign-ins within `failure_window` that lock an account.
    pub max_failures: u32,
    /// Seconds over which failures are counted.
    pub failure_window: u64,
    /// Seconds an account stays locked.
    pub lockout: u64,
    /// Sign-in attempts allowed per IP address and minute (all sign-in
    /// endpoints together).
    pub rate_limit_per_minute: u32,
}

impl Default for LoginSettings {
    fn default() -> Self {
        Self {
            max_failures: 5,
            failure_window: 15 * 60,
            lockout: 15 * 60,
            rate_limit_per_minute: 20,
        }
    }
}

/// The checked configuration the app runs on.
#[derive(Debug, Clone)]
pub struct Config {
    pub database: DatabaseUrl,
    pub database_pool_size: u32,
    pub site_name: String,
    pub api_prefix: String,
    pub auth_url_rule: String,
    pub auth_username_key: String,
    pub auth_password_key: String,
    pub deny_by_default: bool,
    pub white_list_routes: Vec<(rocket::http::Method, String)>,
    pub ignored_routes: Vec<String>,
    pub registration: bool,
    pub registration_link_expires: i64,
    /// The site's address for links in mails, without a trailing `/`.
    pub public_url: String,
    pub mail: MailConfig,
    pub release: bool,
    pub jwt: JwtConfig,
    pub password: PasswordSettings,
    pub login: LoginSettings,
    /// The OpenID Connect provider, when one is configured.
    pub google: Option<OidcConfig>,
    /// Set when no secret was configured and a random one is in use.
    pub generated_secret: bool,
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
    pub csrf_methods: Vec<rocket::http::Method>,
    pub required_claims: Vec<String>,
    pub csrf_in_cookies: bool,
    pub cookie_csrf_protect: bool,
    pub cookie_secure: bool,
    pub cookie_samesite: SameSite,
}

/// Where a token can be read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Cookies,
    Headers,
    QueryString,
    Json,
}

/// A configuration error, naming the key.
#[derive(Debug, thiserror::Error)]
#[error("`{key}`: {message}")]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

fn bad(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.into(),
        message: message.into(),
    }
}

impl Config {
    /// Reads and checks the configuration of the figment's selected profile.
    pub fn from_figment(figment: &Figment) -> Result<Self, ConfigError> {
        let settings: Settings = figment.extract().map_err(|e| {
            let key = e.path.join(".");
            bad(if key.is_empty() { "config" } else { &key }, e.kind.to_string())
        })?;
        // Any profile but debug gets the release checks (a `production`
        // profile must not run on a generated secret).
        let release = figment.profile() != rocket::Config::DEBUG_PROFILE;
        let mut settings = settings;
        if settings.public_url.is_none() && !release {
            let port = figment.extract_inner::<u16>("port").unwrap_or(8000);
            settings.public_url = Some(format!("http://localhost:{port}"));
        }
        settings.validate(release)
    }
}

impl Settings {
    pub fn validate(self, release: bool) -> Result<Config, ConfigError> {
        let database = DatabaseUrl::parse(&self.database_url).map_err(|m| bad("database_url", m))?;
        if self.database_pool_size == 0 {
            return Err(bad("database_pool_size", "must be at least 1"));
        }
        let jwt = self.jwt;
        let algorithm = parse_algorithm(&jwt.algorithm).map_err(|m| bad("jwt.algorithm", m))?;
        let mut generated_secret = false;
        let mut keys = if is_hmac(algorithm) {
            let secret = match jwt.secret_key.as_deref() {
                Some(secret) => {
                    check_secret(secret, release)?;
                    secret.as_bytes().to_vec()
                }
                None if release => {
                    return Err(bad(
                        "jwt.secret_key",
                        format!("is not set; the release profile needs a signing secret: {SECRET_HINT}"),
                    ))
                }
                None => {
                    generated_secret = true;
                    let mut bytes = vec![0u8; 48];
                    rand::fill(&mut bytes[..]);
                    bytes
                }
            };
            KeyRing::hmac(algorithm, &secret, jwt.kid.clone()).map_err(|m| bad("jwt.secret_key", m))?
        } else {
            let Some(path) = jwt.private_key_file.as_deref() else {
                return Err(bad(
                    "jwt.private_key_file",
                    format!(
                        "is not set; {:?} signs with a private key (e.g. `openssl genpkey -algorithm RSA -out jwt-key.pem`)",
                        algorithm
                    ),
                ));
            };
            let pem = read_file("jwt.private_key_file", path)?;
            KeyRing::private_pem(algorithm, &pem, jwt.kid.clone())
                .map_err(|m| bad("jwt.private_key_file", m))?
        };
        for (i, old) in jwt.verify_keys.iter().enumerate() {
            let key = format!("jwt.verify_keys[{i}]");
            let alg = parse_algorithm(&old.algorithm).map_err(|m| bad(&format!("{key}.algorithm"), m))?;
            let added = match (&old.public_key_file, &old.secret_key) {
                (Some(path), None) if !is_hmac(alg) => {
                    let pem = read_file(&format!("{key}.public_key_file"), path)?;
                    keys.add_public_pem(alg, &pem, old.kid.clone())
                }
                (None, Some(secret)) if is_hmac(alg) => {
                    check_secret(secret, release)
                        .map_err(|e| bad(&format!("{key}.secret_key"), e.message))?;
                    keys.add_secret(alg, secret.as_bytes(), old.kid.clone())
                }
                _ => Err("give `public_key_file` for RS/PS/ES/EdDSA keys or `secret_key` for HS keys".into()),
            };
            added.map_err(|m| bad(&key, m))?;
        }
        let positive = |key: &str, v: u64| -> Result<i64, ConfigError> {
            if v == 0 || v > 10 * 365 * 24 * 3600 {
                Err(bad(key, "must be a number of seconds between 1 and ten years"))
            } else {
                Ok(v as i64)
            }
        };
        let access_token_expires = positive("jwt.access_token_expires", jwt.access_token_expires)?;
        let session_expires = positive("jwt.session_expires", jwt.session_expires)?;
        let remember_expires = positive("jwt.remember_expires", jwt.remember_expires)?;
        let session_idle_timeout = positive("jwt.session_idle_timeout", jwt.session_idle_timeout)?;
        if session_idle_timeout < access_token_expires {
            return Err(bad(
                "jwt.session_idle_timeout",
                "must be at least `access_token_expires` (activity is noted when tokens renew)",
            ));
        }
        let cookie_secure = jwt.cookie_secure.unwrap_or(release);
        let cookie_samesite = match jwt.cookie_samesite.to_ascii_lowercase().as_str() {
            "lax" => SameSite::Lax,
            "strict" => SameSite::Strict,
            "none" if cookie_secure => SameSite::None,
            "none" => return Err(bad("jwt.cookie_samesite", "`None` needs `cookie_secure = true`")),
            other => {
                return Err(bad(
                    "jwt.cookie_samesite",
                    format!("`{other}` is not Lax, Strict or None"),
                ))
            }
        };
        if jwt.cookie_host_prefix && !cookie_secure {
            return Err(bad(
                "jwt.cookie_host_prefix",
                "the `__Host-` prefix needs `cookie_secure = true`",
            ));
        }
        if jwt.cookie_host_prefix && (jwt.access_cookie_path != "/" || jwt.refresh_cookie_path != "/") {
            return Err(bad(
                "jwt.cookie_host_prefix",
                "the `__Host-` prefix needs cookie paths of `/`",
            ));
        }
        if jwt.max_token_size < 512 {
            return Err(bad("jwt.max_token_size", "must be at least 512 bytes"));
        }
        for (key, value) in [
            ("jwt.encode_issuer", &jwt.encode_issuer),
            ("jwt.encode_audience", &jwt.encode_audience),
            ("jwt.access_cookie_name", &jwt.access_cookie_name),
            ("jwt.refresh_cookie_name", &jwt.refresh_cookie_name),
            ("jwt.access_csrf_cookie_name", &jwt.access_csrf_cookie_name),
            ("jwt.access_csrf_header_name", &jwt.access_csrf_header_name),
            ("jwt.header_name", &jwt.header_name),
            ("jwt.query_string_name", &jwt.query_string_name),
            ("jwt.json_key", &jwt.json_key),
            ("jwt.refresh_json_key", &jwt.refresh_json_key),
        ] {
            if value.trim().is_empty() {
                return Err(bad(key, "must not be empty"));
            }
        }
        let mut token_location = Vec::new();
        for name in &jwt.token_location {
            let location = match name.trim().to_ascii_lowercase().as_str() {
                "cookies" | "cookie" => Location::Cookies,
                "headers" | "header" => Location::Headers,
                "query_string" => Location::QueryString,
                "json" => Location::Json,
                other => {
                    return Err(bad(
                        "jwt.token_location",
                        format!("`{other}` is not one of cookies, headers, query_string, json"),
                    ))
                }
            };
            if !token_location.contains(&location) {
                token_location.push(location);
            }
        }
        if token_location.is_empty() {
            return Err(bad("jwt.token_location", "name at least one location"));
        }
        if jwt.renew_before_expiry as i64 >= access_token_expires {
            return Err(bad(
                "jwt.renew_before_expiry",
                "must be shorter than `access_token_expires` (or every request would renew)",
            ));
        }
        let mut csrf_methods = Vec::new();
        for method in &jwt.csrf_methods {
            csrf_methods.push(
                method
                    .parse::<rocket::http::Method>()
                    .map_err(|_| bad("jwt.csrf_methods", format!("`{method}` is not an HTTP method")))?,
            );
        }
        if jwt.not_before_delta > 3600 {
            return Err(bad("jwt.not_before_delta", "must be at most 3600 seconds"));
        }
        let prefix = |name: String| {
            if jwt.cookie_host_prefix {
                format!("__Host-{name}")
            } else {
                name
            }
        };
        let password = self.password;
        let login = self.login;
        let google = self.google.validate(release)?;
        if self.registration && google.as_ref().is_some_and(|g| g.link_by_email) {
            // Nothing records which accounts' addresses were confirmed:
            // accounts from before registration mailed links were not, and
            // linking by email would hand such an account its address's
            // Google sign-in.
            return Err(bad(
                "google.link_by_email",
                "can't be on with `registration`: Gatehouse doesn't record which self-registered addresses were confirmed; people link Google from their account page instead",
            ));
        }
        let mail = self.mail.validate(release, self.registration)?;
        let public_url = check_public_url(self.public_url.as_deref(), release, self.registration)?;
        let registration_link_expires = self.registration_link_expires;
        if !(300..=7 * 24 * 3600).contains(&registration_link_expires) {
            return Err(bad(
                "registration_link_expires",
                "must be between 300 seconds and 7 days",
            ));
        }
        if login.max_failures == 0 || login.max_failures > 1000 {
            return Err(bad("login.max_failures", "must be between 1 and 1000"));
        }
        positive("login.failure_window", login.failure_window)?;
        positive("login.lockout", login.lockout)?;
        if login.rate_limit_per_minute == 0 {
            return Err(bad("login.rate_limit_per_minute", "must be at least 1"));
        }
        if !(10..=31).contains(&password.bcrypt_cost) {
            return Err(bad(
                "password.bcrypt_cost",
                "must be between 10 and 31 (12 is a good default)",
            ));
        }
        if !(8..=72).contains(&password.min_length) {
            return Err(bad("password.min_length", "must be between 8 and 72"));
        }
        for (key, value) in [
            ("api_prefix", &self.api_prefix),
            ("auth_url_rule", &self.auth_url_rule),
        ] {
            if !is_mount_path(value) {
                return Err(bad(key, format!("`{value}` is not a path like `/api/v1`")));
            }
        }
        let mut white_list_routes = Vec::new();
        for (i, (method, path)) in self.white_list_routes.iter().enumerate() {
            let method: rocket::http::Method = method.parse().map_err(|_| {
                bad(
                    &format!("white_list_routes[{i}]"),
                    format!("`{method}` is not an HTTP method"),
                )
            })?;
            if !path.starts_with('/') {
                return Err(bad(
                    &format!("white_list_routes[{i}]"),
                    format!("`{path}` is not a path"),
                ));
            }
            white_list_routes.push((method, path.clone()));
        }
        if let Some(path) = self.ignored_routes.iter().find(|p| !p.starts_with('/')) {
            return Err(bad("ignored_routes", format!("`{path}` is not a path")));
        }
        Ok(Config {
            database,
            deny_by_default: self.deny_by_default,
            white_list_routes,
            ignored_routes: self.ignored_routes,
            registration: self.registration,
            registration_link_expires: registration_link_expires as i64,
            public_url,
            mail,
            database_pool_size: self.database_pool_size,
            site_name: self.site_name,
            api_prefix: self.api_prefix,
            auth_url_rule: self.auth_url_rule,
            auth_username_key: self.auth_username_key,
            auth_password_key: self.auth_password_key,
            release,
            jwt: JwtConfig {
                algorithm,
                keys: Arc::new(keys),
                access_token_expires,
                session_expires,
                remember_expires,
                session_idle_timeout,
                decode_issuer: jwt.decode_issuer.unwrap_or_else(|| jwt.encode_issuer.clone()),
                encode_issuer: jwt.encode_issuer,
                decode_audience: jwt.decode_audience.unwrap_or_else(|| jwt.encode_audience.clone()),
                encode_audience: jwt.encode_audience,
                decode_leeway: jwt.decode_leeway,
                max_token_size: jwt.max_token_size,
                access_cookie_name: prefix(jwt.access_cookie_name),
                access_cookie_path: jwt.access_cookie_path,
                refresh_cookie_name: prefix(jwt.refresh_cookie_name),
                refresh_cookie_path: jwt.refresh_cookie_path,
                refresh_reuse_grace: jwt.refresh_reuse_grace as i64,
                renew_before_expiry: jwt.renew_before_expiry as i64,
                access_csrf_cookie_name: prefix(jwt.access_csrf_cookie_name),
                access_csrf_header_name: jwt.access_csrf_header_name,
                token_location,
                header_types: [jwt.header_type, jwt.auth_header_prefix]
                    .into_iter()
                    .filter(|t| !t.trim().is_empty())
                    .collect(),
                header_name: jwt.header_name,
                query_string_name: jwt.query_string_name,
                json_key: jwt.json_key,
                refresh_json_key: jwt.refresh_json_key,
                not_before_delta: jwt.not_before_delta as i64,
                csrf_methods,
                required_claims: jwt.required_claims,
                csrf_in_cookies: jwt.csrf_in_cookies,
                cookie_csrf_protect: jwt.cookie_csrf_protect,
                cookie_secure,
                cookie_samesite,
            },
            password,
            login,
            google,
            generated_secret,
        })
    }
}

/// The site's public address: `http(s)://host[:port][/path]`, no query.
/// Release with registration needs it (and `https` off loopback).
fn check_public_url(url: Option<&str>, release: bool, registration: bool) -> Result<String, ConfigError> {
    let key = "public_url";
    let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else {
        if release && registration {
            return Err(bad(
                key,
                "is not set; registration mails link to it (e.g. `https://accounts.example.com`)",
            ));
        }
        return Ok(String::new());
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(key, format!("`{url}` is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https")
        || parsed.host_str().is_none()
        || parsed.query().is_some()
        || parsed.fragment().is_some()
        || !parsed.username().is_empty()
        || parsed.password().is_some()
    {
        return Err(bad(
            key,
            format!("`{url}` is not a site address like `https://example.com`"),
        ));
    }
    let loopback = crate::auth::oidc::settings::is_loopback(&parsed);
    if release && parsed.scheme() == "http" && !loopback {
        return Err(bad(
            key,
            "must be `https` in release (links in mails carry secrets)",
        ));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

fn read_file(key: &str, path: &str) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|e| bad(key, format!("cannot read `{path}`: {e}")))
}

/// A path routes can be mounted at: `/`, then plain segments.
pub fn is_mount_path(path: &str) -> bool {
    path.starts_with('/')
        && rocket::http::uri::Origin::parse(path).is_ok_and(|o| o.query().is_none())
        && !path.contains(['<', '>', '?', '#', ' '])
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
    use super::*;

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

    #[test]
    fn bad_values_name_their_key() {
        let mut s = with_secret(Some(GOOD));
        s.jwt.algorithm = "none".into();
        assert_eq!(s.validate(false).unwrap_err().key, "jwt.algorithm");
        let mut s = with_secret(Some(GOOD));
        s.password.bcrypt_cost = 4;
        assert_eq!(s.validate(false).unwrap_err().key, "password.bcrypt_cost");
        let mut s = with_secret(Some(GOOD));
        s.database_url = "mysql://localhost/db".into();
        assert_eq!(s.validate(false).unwrap_err().key, "database_url");
        let mut s = with_secret(Some(GOOD));
        s.jwt.cookie_samesite = "None".into();
        assert_eq!(s.validate(false).unwrap_err().key, "jwt.cookie_samesite");
    }

    #[test]
    fn unknown_jwt_settings_are_refused() {
        let figment = figment_with("debug", Settings::default())
            .merge(Serialized::default("jwt.verify_expiration", false));
        let err = Config::from_figment(&figment).unwrap_err();
        assert!(err.to_string().contains("verify_expiration"), "{err}");
    }

    #[test]
    fn figment_errors_name_their_key() {
        let figment = figment_with("debug", Settings::default())
            .merge(Serialized::default("jwt.access_token_expires", "soon"));
        let err = Config::from_figment(&figment).unwrap_err();
        assert_eq!(err.key, "jwt.access_token_expires");
    }

    #[test]
    fn release_registration_needs_a_public_url_and_a_mailer() {
        let registering = |url: Option<&str>, transport: &str| {
            let mut s = with_secret(Some(GOOD));
            s.registration = true;
            s.public_url = url.map(str::to_owned);
            s.mail.transport = transport.into();
            s.mail.smtp_url = Some("smtps://u:p@smtp.example.com".into());
            s.validate(true)
        };
        let e = registering(None, "smtp").unwrap_err();
        assert_eq!(e.key, "public_url");
        let e = registering(Some("http://accounts.example.com"), "smtp").unwrap_err();
        assert!(e.message.contains("https"), "{e}");
        for bad in [
            "ftp://example.com",
            "https://example.com/?x=1",
            "https://u@example.com",
            "https://:pw@example.com",
            "example.com",
        ] {
            assert_eq!(
                registering(Some(bad), "smtp").unwrap_err().key,
                "public_url",
                "{bad}"
            );
        }
        assert_eq!(
            registering(Some("https://accounts.example.com"), "log")
                .unwrap_err()
                .key,
            "mail.transport"
        );
        let ok = registering(Some("https://accounts.example.com/"), "smtp").unwrap();
        assert_eq!(ok.public_url, "https://accounts.example.com");
        assert!(
            registering(Some("http://127.0.0.1:8000"), "smtp").is_ok(),
            "loopback"
        );
        // Without registration nothing mails links: neither is needed.
        assert!(with_secret(Some(GOOD)).validate(true).is_ok());
    }

    #[test]
    fn debug_links_point_at_the_local_server() {
        let figment = figment_with("debug", Settings::default()).merge(("port", 9123));
        let config = Config::from_figment(&figment).unwrap();
        assert_eq!(config.public_url, "http://localhost:9123");
        let mut s = with_secret(Some(GOOD));
        s.registration_link_expires = 10;
        assert_eq!(s.validate(false).unwrap_err().key, "registration_link_expires");
    }
}
