//! Building the Rocket: state, fairings, routes and catchers. `main.rs` and
//! the tests build the very same app from a figment.

use std::sync::atomic::{AtomicBool, Ordering};

use rocket::fairing::{AdHoc, Fairing, Info, Kind};
use rocket::figment::Figment;
use rocket::fs::FileServer;
use rocket::http::{ContentType, Header};
use rocket::{Build, Request, Response, Rocket};
use rocket_dyn_templates::Template;

use crate::auth::password::Passwords;
use crate::auth::token::Tokens;
use crate::config::Config;
use crate::db::user::User;
use crate::db::Db;
use crate::error::Error;
use crate::{catchers, routes};

/// Everything a request needs, managed by Rocket and reached by guards with
/// `request.rocket().state::<Gatehouse>()`.
pub struct Gatehouse {
    pub config: Config,
    pub db: Db,
    pub tokens: Tokens,
    pub passwords: Passwords,
}

impl Gatehouse {
    /// Checks the configuration, connects to the database and migrates it.
    /// Blocking: call from a blocking context.
    pub fn open(config: Config) -> Result<Self, Error> {
        let db = Db::connect(&config.database, config.database_pool_size)?;
        db.migrate()?;
        let passwords = Passwords::new(config.password.bcrypt_cost)?;
        let tokens = Tokens::new(&config.jwt);
        Ok(Self {
            config,
            db,
            tokens,
            passwords,
        })
    }
}

/// The whole app: [`stage`] plus Gatehouse's catchers at `/`.
pub fn build(figment: Figment) -> Rocket<Build> {
    stage(rocket::custom(figment)).register("/", catchers::catchers())
}

/// Gatehouse's state, routes, templates and headers on an existing Rocket,
/// without catchers, for an app that registers its own.
pub fn stage(rocket: Rocket<Build>) -> Rocket<Build> {
    let static_dir: String = rocket
        .figment()
        .extract_inner("static_dir")
        .unwrap_or_else(|_| "static".into());
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
            match rocket::tokio::task::spawn_blocking(move || Gatehouse::open(config)).await {
                Ok(Ok(app)) => {
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
        .mount("/", routes::routes())
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
/// button after sign-out shows no protected content.
pub struct SecurityHeaders;

#[rocket::async_trait]
impl Fairing for SecurityHeaders {
    fn info(&self) -> Info {
        Info {
            name: "Security headers",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, _req: &'r Request<'_>, res: &mut Response<'r>) {
        res.set_header(Header::new(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ));
        res.set_header(Header::new("Referrer-Policy", "same-origin"));
        res.set_header(Header::new("X-Frame-Options", "DENY"));
        let is_page = res
            .content_type()
            .is_none_or(|ct| ct == ContentType::HTML || ct.is_json());
        if is_page {
            res.set_header(Header::new("Cache-Control", "no-store"));
        }
    }
}
