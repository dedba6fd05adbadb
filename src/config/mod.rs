//! Typed configuration, read from Rocket.toml and the environment and
//! validated at ignite: a bad value stops the launch with a message naming
//! the key. Each section checks itself; `Settings::validate` lists them.

pub mod database; // DatabaseUrl
pub mod error; // ConfigError
pub mod google; // [google]: the OpenID Connect provider
pub mod jwt; // [jwt]: keys, lifetimes, token locations, cookies
pub mod keys; // the signing and verification keys (KeyRing)
pub mod login; // [password] and [login]
pub mod mail; // [mail]
pub mod net; // mount paths, public_url, loopback hosts

use rocket::figment::providers::{Env, Serialized};
use rocket::figment::{Figment, Profile};
use rocket::http::Method;
use serde::{Deserialize, Serialize};

pub use database::DatabaseUrl;
use error::bad;
pub use error::ConfigError;
pub use google::{GoogleSettings, OidcConfig};
pub use jwt::{JwtConfig, JwtSettings, Location, VerifyKeySettings, SAMPLE_SECRET, SECRET_HINT};
pub use login::{LoginSettings, PasswordSettings};
pub use mail::{MailConfig, MailSettings};
pub use net::is_mount_path;

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
#[derive(Clone, Deserialize, Serialize)]
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

impl std::fmt::Debug for Settings {
    /// Never prints the database password (each section hides its own secrets).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let database_url =
            DatabaseUrl::parse(&self.database_url).map_or("[unparsed]".into(), |u| u.to_string());
        f.debug_struct("Settings")
            .field("database_url", &database_url)
            .field("database_pool_size", &self.database_pool_size)
            .field("site_name", &self.site_name)
            .field("api_prefix", &self.api_prefix)
            .field("auth_url_rule", &self.auth_url_rule)
            .field("auth_username_key", &self.auth_username_key)
            .field("auth_password_key", &self.auth_password_key)
            .field("deny_by_default", &self.deny_by_default)
            .field("white_list_routes", &self.white_list_routes)
            .field("ignored_routes", &self.ignored_routes)
            .field("registration", &self.registration)
            .field("registration_link_expires", &self.registration_link_expires)
            .field("public_url", &self.public_url)
            .field("mail", &self.mail)
            .field("jwt", &self.jwt)
            .field("password", &self.password)
            .field("login", &self.login)
            .field("google", &self.google)
            .finish()
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
    pub white_list_routes: Vec<(Method, String)>,
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
    /// Checks every section; the first error stops the launch.
    pub fn validate(self, release: bool) -> Result<Config, ConfigError> {
        let database = DatabaseUrl::parse(&self.database_url).map_err(|m| bad("database_url", m))?;
        if self.database_pool_size == 0 {
            return Err(bad("database_pool_size", "must be at least 1"));
        }
        let (jwt, generated_secret) = self.jwt.validate(release)?;
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
        let public_url = net::check_public_url(self.public_url.as_deref(), release, self.registration)?;
        if !(300..=7 * 24 * 3600).contains(&self.registration_link_expires) {
            return Err(bad(
                "registration_link_expires",
                "must be between 300 seconds and 7 days",
            ));
        }
        let login = self.login.validate()?;
        let password = self.password.validate()?;
        for (key, value) in [
            ("api_prefix", &self.api_prefix),
            ("auth_url_rule", &self.auth_url_rule),
        ] {
            if !is_mount_path(value) {
                return Err(bad(key, format!("`{value}` is not a path like `/api/v1`")));
            }
        }
        let white_list_routes = white_list(&self.white_list_routes)?;
        if let Some(path) = self.ignored_routes.iter().find(|p| !p.starts_with('/')) {
            return Err(bad("ignored_routes", format!("`{path}` is not a path")));
        }
        Ok(Config {
            database,
            deny_by_default: self.deny_by_default,
            white_list_routes,
            ignored_routes: self.ignored_routes,
            registration: self.registration,
            registration_link_expires: self.registration_link_expires as i64,
            public_url,
            mail,
            database_pool_size: self.database_pool_size,
            site_name: self.site_name,
            api_prefix: self.api_prefix,
            auth_url_rule: self.auth_url_rule,
            auth_username_key: self.auth_username_key,
            auth_password_key: self.auth_password_key,
            release,
            jwt,
            password,
            login,
            google,
            generated_secret,
        })
    }
}

/// `white_list_routes`: `[method, path]` pairs.
fn white_list(routes: &[(String, String)]) -> Result<Vec<(Method, String)>, ConfigError> {
    let mut checked = Vec::new();
    for (i, (method, path)) in routes.iter().enumerate() {
        let key = format!("white_list_routes[{i}]");
        let method: Method = method
            .parse()
            .map_err(|_| bad(&key, format!("`{method}` is not an HTTP method")))?;
        if !path.starts_with('/') {
            return Err(bad(&key, format!("`{path}` is not a path")));
        }
        checked.push((method, path.clone()));
    }
    Ok(checked)
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
    #[cfg(feature = "mail")]
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

    #[test]
    #[cfg(feature = "google")]
    fn debug_never_prints_a_secret() {
        let old = "old-secret-3e8d0a-Qm7vX2pL9sK4wT6yB1nC";
        let mut s = with_secret(Some(GOOD));
        s.database_url = "postgres://app:db-pass-91c4@db.internal/gh".into();
        s.jwt.verify_keys = vec![VerifyKeySettings {
            algorithm: "HS256".into(),
            public_key_file: None,
            secret_key: Some(old.into()),
            kid: None,
        }];
        s.google.client_id = Some("id".into());
        s.google.client_secret = Some("client-secret-77b2".into());
        s.google.redirect_uri = Some("https://example.com/auth/google/callback".into());
        let checked = format!("{:?}", s.clone().validate(false).unwrap());
        let debug = format!("{s:?}");
        for secret in [GOOD, "db-pass-91c4", old, "client-secret-77b2"] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
            assert!(!checked.contains(secret), "{secret} in {checked}");
        }
        assert!(
            debug.contains("db.internal") && debug.contains("[redacted]"),
            "{debug}"
        );
    }
}
