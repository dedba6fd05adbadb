//! `[default.google]`: the OpenID Connect provider (Google by default, any
//! provider by its issuer URL), read from configuration and checked at
//! ignite. With no client configured the provider is off and the button
//! hidden; a half-configured one stops the launch, and so does any client
//! in a build without the `google` feature.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use super::error::ConfigError;
use super::net::is_loopback;

/// The callback route every `redirect_uri` must end at.
pub const CALLBACK_PATH: &str = "/auth/google/callback";

#[derive(Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct GoogleSettings {
    /// The OAuth client's id (Google Cloud console: "OAuth client ID").
    pub client_id: Option<String>,
    /// Its secret: set it in the environment (`GATEHOUSE_GOOGLE__CLIENT_SECRET`).
    pub client_secret: Option<String>,
    /// This server's callback as registered with the provider, e.g.
    /// `https://example.com/auth/google/callback`.
    pub redirect_uri: Option<String>,
    /// The provider, discovered through `<issuer>/.well-known/openid-configuration`.
    /// Plain `http` only for a loopback issuer (tests, local providers).
    pub issuer: String,
    pub scopes: Vec<String>,
    /// Hosted (Google Workspace) domains allowed to sign in, checked against
    /// the ID token's `hd` claim. Empty: any account.
    pub allowed_domains: Vec<String>,
    /// Unknown people get an account on their first sign-in.
    pub auto_register: bool,
    /// A verified email links to the existing account with that email (never
    /// an admin's, and for Google only where Google is authoritative for the
    /// address: Gmail, or the account's Workspace domain). Off by default:
    /// people link Google from their account page after a password sign-in.
    pub link_by_email: bool,
    /// Shown on the button: "Sign in with <provider_name>".
    pub provider_name: String,
    /// The `redirect_uri`s a single-page app may send with its code to
    /// `POST /api/v1/auth/google` (none: that endpoint is off).
    pub spa_redirect_uris: Vec<String>,
    /// Seconds an outgoing request may take in all, and to connect.
    pub timeout: u64,
    pub connect_timeout: u64,
    /// An ID token signed with an unknown `kid` refetches the provider's keys
    /// at most once per this many seconds.
    pub jwks_refetch_interval: u64,
    /// Seconds a started sign-in may take before its callback is refused.
    pub flow_expires: u64,
    /// Seconds of clock skew allowed on the ID token's `exp` and `iat`.
    pub leeway: u64,
}

impl Default for GoogleSettings {
    fn default() -> Self {
        Self {
            client_id: None,
            client_secret: None,
            redirect_uri: None,
            issuer: "https://accounts.google.com".into(),
            scopes: ["openid", "email", "profile"].map(String::from).to_vec(),
            allowed_domains: Vec::new(),
            auto_register: false,
            link_by_email: false,
            provider_name: "Google".into(),
            spa_redirect_uris: Vec::new(),
            timeout: 10,
            connect_timeout: 5,
            jwks_refetch_interval: 60,
            flow_expires: 600,
            leeway: 60,
        }
    }
}

impl fmt::Debug for GoogleSettings {
    /// Never prints `client_secret` (only whether it is set).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GoogleSettings")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("redirect_uri", &self.redirect_uri)
            .field("issuer", &self.issuer)
            .field("scopes", &self.scopes)
            .field("allowed_domains", &self.allowed_domains)
            .field("auto_register", &self.auto_register)
            .field("link_by_email", &self.link_by_email)
            .field("provider_name", &self.provider_name)
            .field("spa_redirect_uris", &self.spa_redirect_uris)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("jwks_refetch_interval", &self.jwks_refetch_interval)
            .field("flow_expires", &self.flow_expires)
            .field("leeway", &self.leeway)
            .finish()
    }
}

/// The checked provider settings.
#[derive(Clone)]
pub struct OidcConfig {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: Url,
    pub issuer: String,
    pub scopes: Vec<String>,
    pub allowed_domains: Vec<String>,
    pub auto_register: bool,
    pub link_by_email: bool,
    pub provider_name: String,
    pub spa_redirect_uris: Vec<Url>,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub jwks_refetch_interval: Duration,
    pub flow_expires: i64,
    pub leeway: u64,
    /// The issuer is on loopback: plain `http` is allowed for it.
    pub loopback: bool,
}

impl fmt::Debug for OidcConfig {
    /// Never prints `client_secret`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("redirect_uri", &self.redirect_uri)
            .field("issuer", &self.issuer)
            .field("scopes", &self.scopes)
            .field("allowed_domains", &self.allowed_domains)
            .field("auto_register", &self.auto_register)
            .field("link_by_email", &self.link_by_email)
            .field("provider_name", &self.provider_name)
            .field("spa_redirect_uris", &self.spa_redirect_uris)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("jwks_refetch_interval", &self.jwks_refetch_interval)
            .field("flow_expires", &self.flow_expires)
            .field("leeway", &self.leeway)
            .field("loopback", &self.loopback)
            .finish()
    }
}

fn bad(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        key: format!("google.{key}"),
        message: message.into(),
    }
}

/// A URL the provider's endpoints may use: https, or http on loopback when
/// the issuer is on loopback too.
pub fn is_allowed_url(url: &Url, loopback_issuer: bool) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => loopback_issuer && is_loopback(url),
        _ => false,
    }
}

impl GoogleSettings {
    /// `None` when no client is configured (the provider is off).
    pub fn validate(self, release: bool) -> Result<Option<OidcConfig>, ConfigError> {
        let Some((client_id, client_secret, redirect_uri)) = self.client()? else {
            return Ok(None);
        };
        let loopback = self.issuer_on_loopback()?;
        let redirect_uri = redirect_url("redirect_uri", &redirect_uri, release)?;
        if !redirect_uri.path().ends_with(CALLBACK_PATH) {
            return Err(bad(
                "redirect_uri",
                format!("`{redirect_uri}` must point at this server's {CALLBACK_PATH}"),
            ));
        }
        let spa_redirect_uris = self
            .spa_redirect_uris
            .iter()
            .enumerate()
            .map(|(i, u)| redirect_url(&format!("spa_redirect_uris[{i}]"), u, release))
            .collect::<Result<Vec<_>, _>>()?;
        self.check_scopes()?;
        if self.provider_name.trim().is_empty() {
            return Err(bad("provider_name", "must not be empty"));
        }
        Ok(Some(OidcConfig {
            client_id,
            client_secret,
            redirect_uri,
            issuer: self.issuer,
            scopes: self.scopes,
            allowed_domains: self
                .allowed_domains
                .iter()
                .map(|d| d.trim().to_ascii_lowercase())
                .collect(),
            auto_register: self.auto_register,
            link_by_email: self.link_by_email,
            provider_name: self.provider_name.trim().to_owned(),
            spa_redirect_uris,
            timeout: seconds("timeout", self.timeout, 120)?,
            connect_timeout: seconds("connect_timeout", self.connect_timeout, 60)?,
            jwks_refetch_interval: seconds("jwks_refetch_interval", self.jwks_refetch_interval, 86_400)?,
            flow_expires: seconds("flow_expires", self.flow_expires, 3600)?.as_secs() as i64,
            leeway: if self.leeway <= 300 {
                self.leeway
            } else {
                return Err(bad("leeway", "must be at most 300 seconds"));
            },
            loopback,
        }))
    }

    /// The client's id, secret and `redirect_uri`: all three, or `None`
    /// when none is given (the provider is off).
    fn client(&self) -> Result<Option<(String, String, String)>, ConfigError> {
        let given = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let (client_id, client_secret, redirect_uri) = (
            given(&self.client_id),
            given(&self.client_secret),
            given(&self.redirect_uri),
        );
        if client_id.is_none() && client_secret.is_none() && redirect_uri.is_none() {
            return Ok(None);
        }
        if !cfg!(feature = "google") {
            return Err(bad(
                "client_id",
                "is set, but this Gatehouse was built without the `google` feature; rebuild with it (a default feature) or remove the `[google]` client settings",
            ));
        }
        let need =
            "Google sign-in needs client_id, client_secret and redirect_uri (or none of them to turn it off)";
        let client_id = client_id.ok_or_else(|| bad("client_id", format!("is not set; {need}")))?;
        let client_secret = client_secret.ok_or_else(|| {
            bad(
                "client_secret",
                format!("is not set; {need}. Set it in the environment: GATEHOUSE_GOOGLE__CLIENT_SECRET"),
            )
        })?;
        let redirect_uri = redirect_uri.ok_or_else(|| bad("redirect_uri", format!("is not set; {need}")))?;
        Ok(Some((client_id, client_secret, redirect_uri)))
    }

    /// Checks the issuer URL; returns whether it is on loopback.
    fn issuer_on_loopback(&self) -> Result<bool, ConfigError> {
        let issuer_url = Url::parse(&self.issuer)
            .map_err(|e| bad("issuer", format!("`{}` is not a URL: {e}", self.issuer)))?;
        let loopback = is_loopback(&issuer_url);
        if !is_allowed_url(&issuer_url, loopback)
            || issuer_url.query().is_some()
            || issuer_url.fragment().is_some()
        {
            return Err(bad(
                "issuer",
                format!(
                    "`{}` must be an https URL without query (plain http only on loopback)",
                    self.issuer
                ),
            ));
        }
        Ok(loopback)
    }

    fn check_scopes(&self) -> Result<(), ConfigError> {
        if !self.scopes.iter().any(|s| s == "openid") {
            return Err(bad(
                "scopes",
                "must include `openid` (the ID token is what signs people in)",
            ));
        }
        if !self.scopes.iter().any(|s| s == "email") {
            return Err(bad(
                "scopes",
                "must include `email` (accounts are matched and created by it)",
            ));
        }
        Ok(())
    }
}

/// A URL the provider may send people back to: https (http only in debug
/// or on loopback), without fragment.
fn redirect_url(key: &str, value: &str, release: bool) -> Result<Url, ConfigError> {
    let url = Url::parse(value).map_err(|e| bad(key, format!("`{value}` is not a URL: {e}")))?;
    let secure = url.scheme() == "https" || (url.scheme() == "http" && (!release || is_loopback(&url)));
    if !secure || url.fragment().is_some() {
        return Err(bad(
            key,
            format!("`{value}` must be an https URL (http only in debug or on loopback), without fragment"),
        ));
    }
    Ok(url)
}

/// Between one second and `max`.
fn seconds(key: &str, v: u64, max: u64) -> Result<Duration, ConfigError> {
    if v == 0 || v > max {
        Err(bad(key, format!("must be between 1 and {max} seconds")))
    } else {
        Ok(Duration::from_secs(v))
    }
}

#[cfg(all(test, feature = "google"))]
mod tests {
    use super::*;

    fn configured() -> GoogleSettings {
        GoogleSettings {
            client_id: Some("id".into()),
            client_secret: Some("secret".into()),
            redirect_uri: Some("https://example.com/auth/google/callback".into()),
            ..GoogleSettings::default()
        }
    }

    #[test]
    fn off_unless_configured() {
        assert!(GoogleSettings::default().validate(true).unwrap().is_none());
        assert!(configured().validate(true).unwrap().is_some());
    }

    #[test]
    fn half_configured_names_the_missing_key() {
        let e = GoogleSettings {
            client_secret: None,
            ..configured()
        }
        .validate(false)
        .unwrap_err();
        assert_eq!(e.key, "google.client_secret");
        let e = GoogleSettings {
            redirect_uri: None,
            ..configured()
        }
        .validate(false)
        .unwrap_err();
        assert_eq!(e.key, "google.redirect_uri");
    }

    #[test]
    fn plain_http_only_on_loopback() {
        for (issuer, ok) in [
            ("http://127.0.0.1:9000", true),
            ("http://localhost:9000/realms/x", true),
            ("http://[::1]:9000", true),
            ("http://accounts.google.com", false),
            ("ftp://127.0.0.1", false),
            ("https://login.example.com/tenant", true),
        ] {
            let r = GoogleSettings {
                issuer: issuer.into(),
                ..configured()
            }
            .validate(true);
            assert_eq!(r.is_ok(), ok, "{issuer}");
        }
    }

    #[test]
    fn redirect_uri_points_at_the_callback() {
        let e = GoogleSettings {
            redirect_uri: Some("https://example.com/elsewhere".into()),
            ..configured()
        }
        .validate(true)
        .unwrap_err();
        assert_eq!(e.key, "google.redirect_uri");
        let e = GoogleSettings {
            redirect_uri: Some("http://example.com/auth/google/callback".into()),
            ..configured()
        }
        .validate(true)
        .unwrap_err();
        assert_eq!(e.key, "google.redirect_uri", "plain http off loopback in release");
    }
}
