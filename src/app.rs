//! Building the Rocket: state, fairings, routes and catchers. `main.rs` and
//! the tests build the very same app from a figment.

use std::sync::atomic::{AtomicBool, Ordering};

use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::fs::FileServer;
use rocket::{Build, Rocket};
use rocket_dyn_templates::Template;

use crate::config::Config;
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
        .attach(headers::SecurityHeaders)
        .attach(cookies::PendingCookies)
        .attach(csrf::CsrfCheck)
        .attach(deny::DenyByDefault)
        .attach(must_change::PasswordChangeRequired)
        .mount("/", routes::routes())
        .mount("/", register_routes)
        .mount(api_prefix.clone(), routes::api::routes())
        .mount(api_prefix.clone(), routes::items::api_routes())
        .mount(api_prefix.clone(), routes::google::api_routes())
        .mount(api_prefix, routes::admin::api::routes())
        .mount(auth_url_rule, routes::api::flask_jwt_routes())
        .mount("/", routes::api::well_known_routes())
        .mount("/", deny::routes())
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
