//! Building the Rocket: state, fairings, routes and catchers. `main.rs` and
//! the tests build the very same app from a figment.

use std::path::Path;

use rocket::config::LogLevel;
use rocket::fairing::AdHoc;
use rocket::figment::providers::Serialized;
use rocket::figment::Figment;
use rocket::{Build, Orbit, Rocket};

use crate::config::known::is_rockets_default;
use crate::config::{is_mount_path, Config, SECRET_HINT};
use crate::db::user::User;
use crate::state::{AdditionalClaims, Gatehouse};
use crate::web::assets::Assets;
use crate::web::{cookies, csrf, deny, headers, must_change, request_log};
use crate::{catchers, routes};

/// The whole app: [`stage`] plus Gatehouse's catchers at `/`.
pub fn build(figment: Figment) -> Rocket<Build> {
    stage(rocket::custom(figment)).register("/", catchers::catchers())
}

/// Gatehouse's state, routes, templates and headers on an existing Rocket,
/// without catchers, for an app that registers its own.
pub fn stage(rocket: Rocket<Build>) -> Rocket<Build> {
    let mounts = Mounts::read(&rocket);
    server_defaults(rocket)
        .attach(AdHoc::try_on_ignite(
            "Gatehouse configuration and database",
            open_state,
        ))
        .attach(AdHoc::on_liftoff("First-start summary", |rocket| {
            Box::pin(summary(rocket))
        }))
        .attach(request_log::RequestLog)
        .attach(headers::SecurityHeaders)
        .attach(cookies::PendingCookies)
        .attach(csrf::CsrfCheck)
        .attach(deny::DenyByDefault)
        .attach(must_change::PasswordChangeRequired)
        .mount("/", routes::routes())
        .mount("/", mounts.register_routes)
        .mount(mounts.api_prefix.clone(), routes::api::routes())
        .mount(mounts.api_prefix.clone(), routes::items::api_routes())
        .mount(mounts.api_prefix.clone(), routes::password::api_routes())
        .mount(mounts.api_prefix.clone(), routes::passkeys::api_routes())
        .mount(mounts.api_prefix.clone(), google_api_routes())
        .mount(mounts.api_prefix.clone(), routes::admin::api::routes())
        .mount(mounts.api_prefix, routes::openapi::routes())
        .mount(mounts.auth_url_rule, routes::api::flask_jwt_routes())
        .mount("/", routes::api::well_known_routes())
        .mount("/", deny::routes())
        .mount("/", mounts.metrics_routes)
}

/// Gatehouse's own defaults for Rocket's server settings, where the app
/// left Rocket's: a shutdown grace of 10 s and a mercy of 5 s instead of 2
/// and 3. A sign-in may wait for a password thread behind
/// `password.hash_queue` others (about 2.5 s at bcrypt's default cost on two
/// cores), and Rocket starts closing connections when the grace is over:
/// with 2 s, an operator's SIGTERM during a burst of sign-ins dropped them.
fn server_defaults(rocket: Rocket<Build>) -> Rocket<Build> {
    let mut figment = rocket.figment().clone();
    for (key, seconds) in [("shutdown.grace", 10u32), ("shutdown.mercy", 5)] {
        if is_rockets_default(&figment, key) {
            figment = figment.merge(Serialized::global(key, seconds));
        }
    }
    rocket.configure(figment)
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
    api_prefix: String,
    auth_url_rule: String,
    /// Off, `/register` is not mounted at all: a 404, whatever is sent.
    register_routes: Vec<rocket::Route>,
    /// `/metrics`, with `metrics = true` (else a 404).
    metrics_routes: Vec<rocket::Route>,
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
        let metrics = rocket.figment().extract_inner::<bool>("metrics").unwrap_or(false);
        Mounts {
            metrics_routes: if metrics {
                crate::web::metrics::routes()
            } else {
                Vec::new()
            },
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

/// Checks the configuration, opens and migrates the database, loads the
/// templates, and manages the state; any failure stops the launch with a
/// message.
async fn open_state(rocket: Rocket<Build>) -> Result<Rocket<Build>, Rocket<Build>> {
    let config = match Config::from_rocket(&rocket) {
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
    let metrics = rocket.figment().extract_inner::<bool>("metrics").unwrap_or(false);
    let document = routes::openapi::ApiDocument(routes::openapi::document_json(&config));
    let opened = rocket::tokio::task::spawn_blocking(move || {
        let assets = Assets::load(config.template_dir.as_deref(), config.static_dir.as_deref())
            .map_err(crate::error::Error::Config)?;
        Ok::<_, crate::error::Error>((Gatehouse::open(config)?, assets))
    })
    .await;
    match opened {
        Ok(Ok((mut app, assets))) => {
            app.additional_claims = hook;
            if metrics {
                app.metrics = Some(std::sync::Arc::new(crate::metrics::Metrics::new()));
            }
            log::debug!("Gatehouse database: {database} (migrated); {assets:?}");
            Ok(rocket.manage(app).manage(assets).manage(document))
        }
        Ok(Err(e)) => {
            log::error!("Gatehouse could not start on {database}: {}", e.chain());
            Err(rocket)
        }
        Err(e) => {
            log::error!("Gatehouse start-up failed: {e}");
            Err(rocket)
        }
    }
}

/// The first lines a newcomer reads: where the site is, on which database
/// and profile, and, while there is no admin, the exact command that makes
/// one. Not printed with `log_level = "off"` (tests).
async fn summary(rocket: &Rocket<Orbit>) {
    let config = rocket.config();
    let Some(app) = rocket.state::<Gatehouse>() else {
        return;
    };
    if config.log_level == LogLevel::Off {
        return;
    }
    let scheme = if config.tls_enabled() { "https" } else { "http" };
    let mut lines = vec![
        format!(
            "Gatehouse is running at {scheme}://{} (profile `{}`)",
            std::net::SocketAddr::new(config.address, config.port),
            config.profile
        ),
        format!("  database: {} (migrated)", app.config.database),
    ];
    if let Some(assets) = rocket.state::<Assets>() {
        let names = assets.overridden();
        if !names.is_empty() {
            let more = names.len().saturating_sub(5);
            let mut shown = names.into_iter().take(5).collect::<Vec<_>>().join(", ");
            if more > 0 {
                shown.push_str(&format!(" and {more} more"));
            }
            let dir = app.config.template_dir.as_deref().unwrap_or(Path::new("?"));
            lines.push(format!("  templates from {}: {shown}", dir.display()));
        }
    }
    match app.db.run(User::count_admins).await {
        Ok(0) => {
            lines.push("  There is no admin yet. Make the first one with:".into());
            lines.push(format!("    {}", first_admin_command()));
            // The command reads the same settings: say which came from the
            // environment (names only: values may be secrets).
            let set: Vec<String> = std::env::vars_os()
                .filter_map(|(k, _)| k.into_string().ok())
                .filter(|k| {
                    [
                        "DATABASE_URL",
                        "JWT_SECRET_KEY",
                        "ROCKET_PROFILE",
                        "ROCKET_CONFIG",
                    ]
                    .contains(&k.as_str())
                        || k.starts_with("GATEHOUSE_DATABASE")
                })
                .collect();
            if !set.is_empty() {
                lines.push(format!("    (with the same {} set)", set.join(", ")));
            }
        }
        Ok(_) => {}
        Err(e) => log::error!("could not count admins: {}", e.chain()),
    }
    if let Some(why) = app.config.password_reset_off {
        lines.push(format!(
            "  forgotten-password links are off: {why} (set `password_reset = false` to say so, or fix it)"
        ));
    }
    match &app.config.passkeys {
        crate::config::Passkeys::Off { why: Some(why) } => lines.push(format!(
            "  passkeys are off: {why} (set `webauthn.enabled = false` to say so)"
        )),
        // Served on an IP address, the site has passkeys only under its
        // name (browsers refuse them on an address): say where.
        crate::config::Passkeys::On(webauthn)
            if webauthn.origin.host_str() != Some(&config.address.to_string()) =>
        {
            let origin = webauthn.origin.origin().ascii_serialization();
            lines.push(format!("  passkeys work at {origin}"));
        }
        _ => {}
    }
    if config.log_level == LogLevel::Critical {
        lines.push("  (routes and requests are logged with ROCKET_LOG_LEVEL=normal)".into());
    }
    println!("{}", lines.join("\n"));
}

/// `user create ... --admin` for the binary that is running: `cargo run
/// [--release] [--bin x | --example x] -- ...` under Cargo, else the path it
/// was started by.
fn first_admin_command() -> String {
    const ARGS: &str = "user create --email you@example.com --name \"Your Name\" --admin";
    let exe = std::env::current_exe().ok();
    let name = exe
        .as_deref()
        .and_then(Path::file_stem)
        .and_then(|n| n.to_str())
        .unwrap_or("gatehouse")
        .to_owned();
    if std::env::var_os("CARGO_MANIFEST_DIR").is_none() {
        let invoked = std::env::args().next().unwrap_or(name);
        return format!("{invoked} {ARGS}");
    }
    let folder = |n: usize| {
        exe.as_deref()
            .and_then(|p| p.ancestors().nth(n))
            .and_then(Path::file_name)
            .and_then(|n| n.to_str())
            .map(str::to_owned)
    };
    let mut command = String::from("cargo run");
    let example = folder(1).as_deref() == Some("examples");
    let profile = if example { folder(2) } else { folder(1) };
    if profile.as_deref() == Some("release") {
        command.push_str(" --release");
    }
    if example {
        command.push_str(&format!(" --example {name}"));
    } else if std::env::var("CARGO_PKG_NAME").is_ok_and(|pkg| pkg != name) {
        command.push_str(&format!(" --bin {name}"));
    }
    format!("{command} -- {ARGS}")
}
