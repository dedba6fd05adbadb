//! Building the Rocket: state, fairings, routes and catchers. `main.rs` and
//! the tests build the very same app from a figment.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rocket::fairing::{AdHoc, Fairing, Info, Kind};
use rocket::figment::Figment;
use rocket::fs::FileServer;
use rocket::http::{ContentType, Header};
use rocket::{Build, Request, Response, Rocket};
use rocket_dyn_templates::Template;

use crate::auth::limit::SignInLimiter;
use crate::auth::oidc::Provider;
use crate::auth::password::Passwords;
use crate::auth::token::Tokens;
use crate::config::Config;
use crate::db::user::User;
use crate::db::Db;
use crate::error::Error;
use crate::mail::Mailer;
use crate::{catchers, routes};

/// Everything a request needs, managed by Rocket and reached by guards with
/// `request.rocket().state::<Gatehouse>()`.
pub struct Gatehouse {
    pub config: Config,
    pub db: Db,
    pub tokens: Tokens,
    pub passwords: Passwords,
    pub limiter: SignInLimiter,
    /// Sends the registration mails.
    pub mailer: Mailer,
    /// The OpenID Connect provider (Google), when configured.
    pub oidc: Option<Provider>,
    /// The app's additional-claims hook, if it managed one.
    pub additional_claims: Option<AdditionalClaims>,
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
        let passwords = Passwords::new(config.password.bcrypt_cost)?;
        let tokens = Tokens::new(&config.jwt);
        let oidc = config.google.clone().map(Provider::new).transpose()?;
        let mailer = Mailer::new(&config.mail)?;
        let per_minute = std::num::NonZeroU32::new(config.login.rate_limit_per_minute)
            .unwrap_or(std::num::NonZeroU32::MIN);
        Ok(Self {
            config,
            db,
            tokens,
            passwords,
            limiter: SignInLimiter::new(per_minute),
            mailer,
            oidc,
            additional_claims: None,
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

    /// Mints an access token for a user's session, with the app's additional
    /// claims.
    pub fn issue_access(
        &self,
        user: &User,
        session_id: &str,
        csrf: &str,
        fresh: bool,
    ) -> Result<(String, crate::auth::Claims), Error> {
        let extra = self
            .additional_claims
            .as_ref()
            .map(|hook| (hook.0)(user))
            .unwrap_or_default();
        self.tokens.issue_access(user.id, session_id, csrf, fresh, extra)
    }
}

/// The whole app: [`stage`] plus Gatehouse's catchers at `/`.
pub fn build(figment: Figment) -> Rocket<Build> {
    stage(rocket::custom(figment)).register("/", catchers::catchers())
}

/// Gatehouse's state, routes, templates and headers on an existing Rocket,
/// without catchers, for an app that registers its own.
pub fn stage(rocket: Rocket<Build>) -> Rocket<Build> {
    let setting = |key: &str, default: &str| -> String {
        rocket
            .figment()
            .extract_inner::<String>(key)
            .unwrap_or_else(|_| default.into())
    };
    let static_dir = setting("static_dir", "static");
    // Mount points come from configuration; a bad one is reported by the
    // configuration check at ignite, which stops the launch.
    let mount_point = |key: &str, default: &str| {
        let value = setting(key, default);
        if crate::config::is_mount_path(&value) {
            value
        } else {
            default.to_owned()
        }
    };
    let api_prefix = mount_point("api_prefix", "/api/v1");
    // Off, `/register` is not mounted at all: a 404, whatever is sent.
    let registration = rocket
        .figment()
        .extract_inner::<bool>("registration")
        .unwrap_or(false);
    let register_routes = if registration {
        routes::register::routes()
    } else {
        Vec::new()
    };
    let auth_url_rule = mount_point("auth_url_rule", "/auth");
    rocket
        .attach(AdHoc::try_on_ignite("Gatehouse configuration and database", |rocket| async {
            let config = match Config::from_figment(rocket.figment()) {
                Ok(config) => config,
                Err(e) => {
                    log::error!("Gatehouse configuration error: {e}");
                    return Err(rocket);
                }
            };
            if config.generated_secret {
                log::warn!(
                    "jwt.secret_key is not set: using a random key for this run (sign-ins end when the server stops). {}",
                    crate::config::SECRET_HINT
                );
            }
            let database = config.database.to_string();
            let hook = rocket.state::<AdditionalClaims>().cloned();
            match rocket::tokio::task::spawn_blocking(move || Gatehouse::open(config)).await {
                Ok(Ok(mut app)) => {
                    app.additional_claims = hook;
                    log::info!("Gatehouse database: {database} (migrated)");
                    Ok(rocket.manage(app))
                }
                Ok(Err(e)) => {
                    log::error!("Gatehouse could not open the database {database}: {}", e.chain());
                    Err(rocket)
                }
                Err(e) => {
                    log::error!("Gatehouse start-up failed: {e}");
                    Err(rocket)
                }
            }
        }))
        .attach(AdHoc::on_liftoff("Admin check", |rocket| {
            Box::pin(async move {
                let Some(app) = rocket.state::<Gatehouse>() else { return };
                match app.db.run(User::count_admins).await {
                    Ok(0) => warn_no_admin_once(),
                    Ok(_) => {}
                    Err(e) => log::error!("could not count admins: {}", e.chain()),
                }
            })
        }))
        .attach(Template::fairing())
        .attach(SecurityHeaders)
        .attach(crate::auth::cookies::PendingCookies)
        .attach(crate::auth::csrf::CsrfCheck)
        .attach(crate::auth::deny::DenyByDefault)
        .attach(crate::auth::must_change::PasswordChangeRequired)
        .mount("/", routes::routes())
        .mount("/", register_routes)
        .mount(api_prefix.clone(), routes::api::routes())
        .mount(api_prefix.clone(), routes::items::api_routes())
        .mount(api_prefix.clone(), routes::google::api_routes())
        .mount(api_prefix, routes::admin_api::routes())
        .mount(auth_url_rule, routes::api::flask_jwt_routes())
        .mount("/", routes::api::well_known_routes())
        .mount("/", crate::auth::deny::routes())
        .mount("/static", FileServer::from(static_dir).rank(20))
}

static NO_ADMIN_WARNED: AtomicBool = AtomicBool::new(false);

fn warn_no_admin_once() {
    if !NO_ADMIN_WARNED.swap(true, Ordering::Relaxed) {
        log::warn!(
            "There is no admin account yet. Create one with: cargo run -- user create --email you@example.com --admin   (or `gatehouse user create --email you@example.com --admin`)"
        );
    }
}

/// Security headers on every response; pages are never cached, so the back
/// button after sign-out shows no protected content. The policy allows no
/// inline script or style and nothing from other origins.
pub struct SecurityHeaders;

#[rocket::async_trait]
impl Fairing for SecurityHeaders {
    fn info(&self) -> Info {
        Info {
            name: "Security headers",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        res.set_header(Header::new(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ));
        if !res.headers().contains("Referrer-Policy") {
            res.set_header(Header::new("Referrer-Policy", "same-origin"));
        }
        res.set_header(Header::new("X-Frame-Options", "DENY"));
        res.set_header(Header::new("X-Content-Type-Options", "nosniff"));
        res.set_header(Header::new("Cross-Origin-Opener-Policy", "same-origin"));
        res.set_header(Header::new(
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
        ));
        // Where cookies are `Secure`, the site is served over HTTPS: keep
        // browsers on it.
        let secure = req
            .rocket()
            .state::<Gatehouse>()
            .is_some_and(|app| app.config.jwt.cookie_secure);
        if secure {
            res.set_header(Header::new("Strict-Transport-Security", "max-age=31536000"));
        }
        let is_page = res
            .content_type()
            .is_none_or(|ct| ct == ContentType::HTML || ct.is_json());
        if is_page && !res.headers().contains("Cache-Control") {
            res.set_header(Header::new("Cache-Control", "no-store"));
        }
    }
}
