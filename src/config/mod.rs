//! Typed configuration, read from Rocket.toml and the environment and
//! validated at ignite: a bad value stops the launch with a message naming
//! the key. Each section checks itself; `Settings::validate` lists them.

pub mod database; // DatabaseUrl
mod dirs; // the app's template and static folders
pub mod error; // ConfigError
pub mod google; // [google]: the OpenID Connect provider
pub mod jwt; // [jwt]: keys, lifetimes, token locations, cookies
pub mod keys; // the signing and verification keys (KeyRing)
pub mod known; // unknown keys refused, with a "did you mean"
mod links; // mailed links: lifetimes, and whether password reset is on
pub mod login; // [password] and [login]
pub mod mail; // [mail]
pub mod net; // mount paths, white_list_routes, public_url, loopback hosts
pub mod proxy; // the client address: ip_header, trusted_proxies
pub mod two_factor; // [two_factor]
pub mod webauthn; // [webauthn]: passkeys

use std::path::PathBuf;

use rocket::figment::providers::{Env, Format, Serialized, Toml};
use rocket::figment::value::magic::RelativePathBuf;
use rocket::figment::{Figment, Profile};
use serde::{Deserialize, Serialize};

pub use database::DatabaseUrl;
use dirs::{folder, DEFAULT_STATIC_DIR, DEFAULT_TEMPLATE_DIR};
use error::bad;
pub use error::ConfigError;
pub use google::{GoogleSettings, OidcConfig};
pub use jwt::{ErrorFormat, JwtConfig, JwtSettings, Location, VerifyKeySettings, SAMPLE_SECRET, SECRET_HINT};
pub use known::AppKeys;
pub use login::{LoginSettings, PasswordSettings};
pub use mail::{MailConfig, MailSettings};
pub use net::is_mount_path;
pub use two_factor::TwoFactorSettings;
pub use webauthn::{Passkeys, WebauthnConfig, WebauthnSettings};

/// Rocket's figment plus Gatehouse's environment variables:
/// `DATABASE_URL`, `JWT_SECRET_KEY` (Flask-JWT-Extended's name), and any
/// setting as `GATEHOUSE_<SECTION>__<KEY>` (e.g. `GATEHOUSE_JWT__ACCESS_TOKEN_EXPIRES=600`).
///
/// Rocket's log level defaults to `critical` (warnings and errors): the first
/// start says in a few lines what it needs to; `log_level = "normal"` (or
/// `ROCKET_LOG_LEVEL=normal`) brings back Rocket's route table and requests.
pub fn figment() -> Figment {
    // Rocket's own `Config::figment()`, with Gatehouse's default log level
    // under Rocket.toml and the environment.
    Figment::from(rocket::Config::default())
        .merge(Serialized::default("log_level", "critical"))
        .merge(Toml::file(Env::var_or("ROCKET_CONFIG", "Rocket.toml")).nested())
        .merge(Env::prefixed("ROCKET_").ignore(&["PROFILE"]).global())
        .select(Profile::from_env_or(
            "ROCKET_PROFILE",
            rocket::Config::DEFAULT_PROFILE,
        ))
        .merge(
            Env::prefixed("GATEHOUSE_")
                .filter(|key| !known::from_kubernetes(key.as_str()))
                .split("__")
                .global(),
        )
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
    /// The app's templates: a file here replaces Gatehouse's own of the same
    /// name (`login.html.tera`), and the app's own pages live here too.
    /// Optional when left at `templates`.
    pub template_dir: RelativePathBuf,
    /// The app's static files, served under `/static` before Gatehouse's
    /// own. Optional when left at `static`.
    pub static_dir: RelativePathBuf,
    /// Where the JSON API is mounted.
    pub api_prefix: String,
    /// Flask-JWT's sign-in endpoint and its body keys.
    pub auth_url_rule: String,
    pub auth_username_key: String,
    pub auth_password_key: String,
    /// Flask-JWT-Router: every route needs a valid token unless listed.
    pub deny_by_default: bool,
    /// `[method, path]` pairs public under `deny_by_default` (a path ending
    /// in `/*` matches everything below it), as written and under
    /// `api_prefix`. Gatehouse's own public routes (sign-in, refresh, JWKS,
    /// static files...) always are.
    pub white_list_routes: Vec<(String, String)>,
    /// Paths (any method) or `[method, path]` pairs public under
    /// `deny_by_default`, as written (Flask-JWT-Router's `IGNORED_ROUTES`).
    pub ignored_routes: Vec<net::routes::RouteSetting>,
    /// Whether people may create their own account at `/register`.
    pub registration: bool,
    /// Seconds a registration link stays valid.
    pub registration_link_expires: u64,
    /// `/password/forgot`: unset, on when mail can carry links (see
    /// `links`); `true` insists; `false` turns it off.
    pub password_reset: Option<bool>,
    /// Seconds a password-reset link stays valid.
    pub password_reset_expires: u64,
    /// Where people reach this site (`https://example.com`), for the links
    /// in mails. Required in release with registration or `password_reset =
    /// true`; in debug it defaults to `http://localhost:<port>`.
    pub public_url: Option<String>,
    /// Proxies whose `ip_header` is believed (addresses or CIDR ranges).
    pub trusted_proxies: Vec<String>,
    /// Rocket's `ip_header` when the operator set it (see [`proxy`]).
    #[serde(skip)]
    pub ip_header: Option<String>,
    /// How mail is sent (registration and password-reset links).
    pub mail: MailSettings,
    pub jwt: JwtSettings,
    pub password: PasswordSettings,
    pub login: LoginSettings,
    /// Sign-in with Google (or another OpenID Connect provider).
    pub google: GoogleSettings,
    /// Two-factor sign-in.
    pub two_factor: TwoFactorSettings,
    /// Passkeys (WebAuthn).
    pub webauthn: WebauthnSettings,
    /// Prometheus metrics at `/metrics` (read at ignite by `app`).
    pub metrics: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: "sqlite://gatehouse.db".into(),
            database_pool_size: 8,
            site_name: "Gatehouse".into(),
            template_dir: RelativePathBuf::from(DEFAULT_TEMPLATE_DIR),
            static_dir: RelativePathBuf::from(DEFAULT_STATIC_DIR),
            api_prefix: "/api/v1".into(),
            auth_url_rule: "/auth".into(),
            auth_username_key: "username".into(),
            auth_password_key: "password".into(),
            deny_by_default: false,
            white_list_routes: Vec::new(),
            ignored_routes: Vec::new(),
            registration: false,
            registration_link_expires: 24 * 60 * 60,
            password_reset: None,
            password_reset_expires: 60 * 60,
            public_url: None,
            trusted_proxies: proxy::default_trusted_proxies(),
            ip_header: None,
            mail: MailSettings::default(),
            jwt: JwtSettings::default(),
            password: PasswordSettings::default(),
            login: LoginSettings::default(),
            google: GoogleSettings::default(),
            two_factor: TwoFactorSettings::default(),
            webauthn: WebauthnSettings::default(),
            metrics: false,
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
            .field("template_dir", &self.template_dir)
            .field("static_dir", &self.static_dir)
            .field("api_prefix", &self.api_prefix)
            .field("auth_url_rule", &self.auth_url_rule)
            .field("auth_username_key", &self.auth_username_key)
            .field("auth_password_key", &self.auth_password_key)
            .field("deny_by_default", &self.deny_by_default)
            .field("white_list_routes", &self.white_list_routes)
            .field("ignored_routes", &self.ignored_routes)
            .field("registration", &self.registration)
            .field("registration_link_expires", &self.registration_link_expires)
            .field("password_reset", &self.password_reset)
            .field("password_reset_expires", &self.password_reset_expires)
            .field("public_url", &self.public_url)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("ip_header", &self.ip_header)
            .field("mail", &self.mail)
            .field("jwt", &self.jwt)
            .field("password", &self.password)
            .field("login", &self.login)
            .field("google", &self.google)
            .field("two_factor", &self.two_factor)
            .field("webauthn", &self.webauthn)
            .field("metrics", &self.metrics)
            .finish()
    }
}

/// The checked configuration the app runs on.
#[derive(Debug, Clone)]
pub struct Config {
    pub database: DatabaseUrl,
    pub database_pool_size: u32,
    pub site_name: String,
    /// The app's templates and static files, when the folder exists.
    pub template_dir: Option<PathBuf>,
    pub static_dir: Option<PathBuf>,
    pub api_prefix: String,
    pub auth_url_rule: String,
    pub auth_username_key: String,
    pub auth_password_key: String,
    pub deny_by_default: bool,
    pub white_list_routes: Vec<net::routes::RouteEntry>,
    pub ignored_routes: Vec<net::routes::RouteEntry>,
    pub registration: bool,
    pub registration_link_expires: i64,
    /// Whether `/password/forgot` and its links are on.
    pub password_reset: bool,
    /// Why it is off although not turned off (for the launch summary).
    pub password_reset_off: Option<&'static str>,
    pub password_reset_expires: i64,
    /// The site's address for links in mails, without a trailing `/`.
    pub public_url: String,
    /// How the client's address is found (`ip_header`, `trusted_proxies`).
    pub client_address: proxy::ClientAddress,
    pub mail: MailConfig,
    pub release: bool,
    pub jwt: JwtConfig,
    pub password: PasswordSettings,
    pub login: LoginSettings,
    /// The OpenID Connect provider, when one is configured.
    pub google: Option<OidcConfig>,
    pub two_factor: TwoFactorSettings,
    /// Passkeys: on with their relying party, or off (and why, when they
    /// were not turned off).
    pub passkeys: Passkeys,
    /// Set when no secret was configured and a random one is in use.
    pub generated_secret: bool,
}

impl Config {
    /// Reads and checks the configuration of the figment's selected profile.
    pub fn from_figment(figment: &Figment) -> Result<Self, ConfigError> {
        Self::checked(figment, &[])
    }

    /// The same for a Rocket, letting its [`AppKeys`] pass.
    pub fn from_rocket(rocket: &rocket::Rocket<rocket::Build>) -> Result<Self, ConfigError> {
        let own = rocket
            .state::<AppKeys>()
            .map(|k| k.0.as_slice())
            .unwrap_or_default();
        Self::checked(rocket.figment(), own)
    }

    fn checked(figment: &Figment, own: &[String]) -> Result<Self, ConfigError> {
        known::check(figment, own)?;
        let settings: Settings = figment.extract().map_err(|e| {
            let key = e.path.join(".");
            let mut message = e.kind.to_string();
            if let rocket::figment::error::Kind::UnknownField(field, expected) = &e.kind {
                message.push_str(&known::suggestion(field, expected.iter().copied()));
            }
            bad(if key.is_empty() { "config" } else { &key }, message)
        })?;
        // Any profile but debug gets the release checks (a `production`
        // profile must not run on a generated secret).
        let release = figment.profile() != rocket::Config::DEBUG_PROFILE;
        let mut settings = settings;
        settings.ip_header = proxy::configured_ip_header(figment)?;
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
        // Asked for, a reset needs what registration needs; left unset, it
        // waits to see whether mail can carry links.
        let sends_links = self.registration || self.password_reset == Some(true);
        let mail = self.mail.validate(release, sends_links)?;
        let public_url = net::check_public_url(self.public_url.as_deref(), release, sends_links)?;
        let links = links::check(
            self.registration_link_expires,
            self.password_reset,
            self.password_reset_expires,
            release,
            &mail,
            &public_url,
        )?;
        let login = self.login.validate()?;
        let password = self.password.validate()?;
        let two_factor = self.two_factor.validate()?;
        let passkeys = self.webauthn.validate(release, &public_url)?;
        let client_address = proxy::check(self.ip_header, &self.trusted_proxies)?;
        for (key, value) in [
            ("api_prefix", &self.api_prefix),
            ("auth_url_rule", &self.auth_url_rule),
        ] {
            if !is_mount_path(value) {
                return Err(bad(key, format!("`{value}` is not a path like `/api/v1`")));
            }
        }
        let (white_list_routes, ignored_routes) =
            net::routes::check(&self.white_list_routes, &self.ignored_routes, &self.api_prefix)?;
        if !self.deny_by_default {
            // They only loosen deny-by-default: alone they protect nothing,
            // which someone who wrote them surely didn't mean.
            for (key, empty) in [
                ("white_list_routes", self.white_list_routes.is_empty()),
                ("ignored_routes", self.ignored_routes.is_empty()),
            ] {
                if !empty {
                    return Err(bad(
                        key,
                        "does nothing without `deny_by_default = true` (every route is public unless it takes a guard); set deny_by_default, or remove this",
                    ));
                }
            }
        }
        let template_dir = folder("template_dir", &self.template_dir, DEFAULT_TEMPLATE_DIR)?;
        let static_dir = folder("static_dir", &self.static_dir, DEFAULT_STATIC_DIR)?;
        Ok(Config {
            database,
            deny_by_default: self.deny_by_default,
            white_list_routes,
            ignored_routes,
            registration: self.registration,
            registration_link_expires: links.registration_link_expires,
            password_reset: links.password_reset,
            password_reset_off: links.password_reset_off,
            password_reset_expires: links.password_reset_expires,
            public_url,
            client_address,
            mail,
            database_pool_size: self.database_pool_size,
            site_name: self.site_name,
            template_dir,
            static_dir,
            api_prefix: self.api_prefix,
            auth_url_rule: self.auth_url_rule,
            auth_username_key: self.auth_username_key,
            auth_password_key: self.auth_password_key,
            release,
            jwt,
            password,
            login,
            google,
            two_factor,
            passkeys,
            generated_secret,
        })
    }
}

#[cfg(test)]
mod tests;
