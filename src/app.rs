//! Building the Rocket: state, fairings, routes and catchers. `main.rs` and
//! the tests build the very same app from a figment.

use std::sync::atomic::{AtomicBool, Ordering};

use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::fs::FileServer;
use rocket::{Build, Orbit, Rocket};
use rocket_dyn_templates::Template;

use crate::config::{is_mount_path, Config, SECRET_HINT};
use crate::db::user::User;
use crate::state::{AdditionalClaims, Gatehouse};
use crate::web::{cookies, csrf, deny, headers, must_change};
use crate::{catchers, routes};

/// The whole app: [`stage`] plus Gatehouse's catchers at `/`.
pub fn build(figment: Figment) -> Rocket<Build> {
    stage(rocket::custom(figment)).register("/", catchers::catchers())
}

/// Gatehouse's state, routes, templates and headers on an existing Rocket,
/// without catchers, for an app that registers its own.
pub fn stage(rocket: Rocket<Build>) -> Rocket<Build> {
    let mounts = Mounts::read(&rocket);
    rocket
        .attach(AdHoc::try_on_ignite(
            "Gatehouse configuration and database",
            open_state,
        ))
        .attach(AdHoc::on_liftoff("Admin check", |rocket| {
            Box::pin(check_admin(rocket))
        }))
        .attach(Template::fairing())
        .attach(headers::SecurityHeaders)
        .attach(cookies::PendingCookies)
        .attach(csrf::CsrfCheck)
        .attach(deny::DenyByDefault)
        .attach(must_change::PasswordChangeRequired)
        .mount("/", routes::routes())
        .mount("/", mounts.register_routes)
        .mount(mounts.api_prefix.clone(), routes::api::routes())
        .mount(mounts.api_prefix.clone(), routes::items::api_routes())
        .mount(mounts.api_prefix.clone(), google_api_routes())
        .mount(mounts.api_prefix, routes::admin::api::routes())
        .mount(mounts.auth_url_rule, routes::api::flask_jwt_routes())
        .mount("/", routes::api::well_known_routes())
        .mount("/", deny::routes())
        .mount("/static", FileServer::from(mounts.static_dir).rank(20))
}

/// The Google sign-in's JSON routes (none without the `google` feature).
#[cfg(feature = "google")]
fn google_api_routes() -> Vec<rocket::Route> {
    routes::google::api_routes()
}

#[cfg(not(feature = "google"))]
fn google_api_routes() -> Vec<rocket::Route> {
    Vec::new()
}

/// What must be known before ignite to mount routes: where, and whether.
struct Mounts {
    static_dir: String,
    api_prefix: String,
    auth_url_rule: String,
    /// Off, `/register` is not mounted at all: a 404, whatever is sent.
    register_routes: Vec<rocket::Route>,
}

impl Mounts {
    fn read(rocket: &Rocket<Build>) -> Self {
        let setting = |key: &str, default: &str| -> String {
            rocket
                .figment()
                .extract_inner::<String>(key)
                .unwrap_or_else(|_| default.into())
        };
        // A bad mount point is reported by the configuration check at
        // ignite, which stops the launch.
        let mount_point = |key: &str, default: &str| {
            let value = setting(key, default);
            if is_mount_path(&value) {
                value
            } else {
                default.to_owned()
            }
        };
        let registration = rocket
            .figment()
            .extract_inner::<bool>("registration")
            .unwrap_or(false);
        Mounts {
            static_dir: setting("static_dir", "static"),
            api_prefix: mount_point("api_prefix", "/api/v1"),
            auth_url_rule: mount_point("auth_url_rule", "/auth"),
            register_routes: if registration {
                routes::register::routes()
            } else {
                Vec::new()
            },
        }
    }
}

/// Checks the configuration, opens and migrates the database, and manages
/// the state; any failure stops the launch with a message.
async fn open_state(rocket: Rocket<Build>) -> Result<Rocket<Build>, Rocket<Build>> {
    let config = match Config::from_figment(rocket.figment()) {
        Ok(config) => config,
        Err(e) => {
            log::error!("Gatehouse configuration error: {e}");
            return Err(rocket);
        }
    };
    if config.generated_secret {
        log::warn!(
            "jwt.secret_key is not set: using a random key for this run (sign-ins end when the server stops). {SECRET_HINT}"
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
}

/// Says how to make the first admin while there is none.
async fn check_admin(rocket: &Rocket<Orbit>) {
    let Some(app) = rocket.state::<Gatehouse>() else {
        return;
    };
    match app.db.run(User::count_admins).await {
        Ok(0) => warn_no_admin_once(),
        Ok(_) => {}
        Err(e) => log::error!("could not count admins: {}", e.chain()),
    }
}

static NO_ADMIN_WARNED: AtomicBool = AtomicBool::new(false);

fn warn_no_admin_once() {
    if !NO_ADMIN_WARNED.swap(true, Ordering::Relaxed) {
        log::warn!(
            "There is no admin account yet. Create one with: cargo run -- user create --email you@example.com --admin   (or `gatehouse user create --email you@example.com --admin`)"
        );
    }
}
