//! `Gatehouse`: the state every request reaches (configuration, database,
//! tokens, passwords, limiter, mailer, OpenID Connect provider), managed by
//! Rocket. Below the web layer: it knows no request.

use std::sync::Arc;

use crate::auth::claims::amr_for_method;
use crate::auth::limit::SignInLimiter;
#[cfg(feature = "google")]
use crate::auth::oidc::Provider;
use crate::auth::passkey;
use crate::auth::password::Passwords;
use crate::auth::token::{Claims, Tokens};
use crate::config::{Config, Passkeys};
use crate::db::session::Session;
use crate::db::user::User;
use crate::db::Db;
use crate::error::Error;
use crate::mail::Mailer;

/// Everything a request needs, managed by Rocket and reached by guards with
/// `request.rocket().state::<Gatehouse>()`.
pub struct Gatehouse {
    pub config: Config,
    pub db: Db,
    pub tokens: Tokens,
    pub passwords: Passwords,
    pub limiter: SignInLimiter,
    /// Sends the registration and password-reset mails.
    pub mailer: Mailer,
    /// The OpenID Connect provider (Google), when configured.
    #[cfg(feature = "google")]
    pub oidc: Option<Provider>,
    /// The app's additional-claims hook, if it managed one.
    pub additional_claims: Option<AdditionalClaims>,
    /// The WebAuthn relying party, when passkeys are on (`[webauthn]`).
    pub webauthn: Option<webauthn_rs::Webauthn>,
    /// Prometheus metrics, when `metrics = true` (set at ignite).
    pub metrics: Option<Arc<crate::metrics::Metrics>>,
}

type ClaimsFn = dyn Fn(&User) -> serde_json::Map<String, serde_json::Value> + Send + Sync;

/// An app's hook for claims of its own in every access token (Flask-JWT-
/// Extended's `additional_claims_loader`). Manage one before launch:
/// `gatehouse::build(figment).manage(AdditionalClaims::new(|user| ...))`.
/// Read them back from `CurrentUser::claims.extra`. Gatehouse's own claim
/// names are reserved and dropped from what the hook returns.
#[derive(Clone)]
pub struct AdditionalClaims(Arc<ClaimsFn>);

impl AdditionalClaims {
    pub fn new(
        f: impl Fn(&User) -> serde_json::Map<String, serde_json::Value> + Send + Sync + 'static,
    ) -> Self {
        Self(Arc::new(f))
    }
}

impl Gatehouse {
    /// Checks the configuration, connects to the database and migrates it.
    /// Blocking: call from a blocking context.
    pub fn open(config: Config) -> Result<Self, Error> {
        let db = Db::connect(&config.database, config.database_pool_size)?;
        db.migrate()?;
        let password = &config.password;
        let passwords = Passwords::new(
            password.bcrypt_cost,
            password.hash_workers,
            password.hash_queue,
            password.hash_nice,
        )?;
        let tokens = Tokens::new(&config.jwt);
        #[cfg(feature = "google")]
        let oidc = config.google.clone().map(Provider::new).transpose()?;
        let mailer = Mailer::new(&config.mail)?;
        let webauthn = match &config.passkeys {
            Passkeys::On(settings) => Some(passkey::relying_party(settings)?),
            Passkeys::Off { .. } => None,
        };
        let per_minute = std::num::NonZeroU32::new(config.login.rate_limit_per_minute)
            .unwrap_or(std::num::NonZeroU32::MIN);
        let limiter = SignInLimiter::for_database(&db, per_minute);
        Ok(Self {
            config,
            db,
            tokens,
            passwords,
            limiter,
            mailer,
            #[cfg(feature = "google")]
            oidc,
            additional_claims: None,
            webauthn,
            metrics: None,
        })
    }

    /// How long a new session lasts: longer with "remember me".
    pub fn session_lifetime(&self, remember: bool) -> i64 {
        if remember {
            self.config.jwt.remember_expires
        } else {
            self.config.jwt.session_expires
        }
    }

    /// Mints an access token for a user's session, with how the session
    /// was signed in (`amr`, from its method, so renewals keep it) and the
    /// app's additional claims.
    pub fn issue_access(
        &self,
        user: &User,
        session: &Session,
        csrf: &str,
        fresh: bool,
    ) -> Result<(String, Claims), Error> {
        let extra = self
            .additional_claims
            .as_ref()
            .map(|hook| (hook.0)(user))
            .unwrap_or_default();
        let amr = amr_for_method(&session.method);
        self.tokens
            .issue_access(user.id, &session.id, csrf, fresh, amr, extra)
    }
}
