//! Public and protected pages.

use std::path::PathBuf;

use rocket::fs::NamedFile;
use rocket::http::{ContentType, Status};
use rocket::serde::json::Json;
use rocket::{get, routes, Route, State};
use serde::Serialize;
use serde_json::json;

use crate::state::Gatehouse;
use crate::web::assets::{Assets, StaticFile};
use crate::web::json::{ApiError, ApiResult};
use crate::web::page::{Page, PageContext};
use crate::web::CurrentUser;

pub fn routes() -> Vec<Route> {
    routes![index, protected, health, ready, static_file]
}

/// A static file under `/static`: the app's (`static_dir`), else
/// Gatehouse's own, compiled in. (`PathBuf` refuses `..` and hidden files.)
/// Ranked low, so an app's own route under `/static` comes first.
#[get("/static/<path..>", rank = 20)]
async fn static_file(path: PathBuf, assets: &State<Assets>) -> Option<StaticAnswer> {
    match assets.static_file(&path)? {
        StaticFile::Embedded(kind, bytes) => Some(StaticAnswer::Embedded((kind, bytes))),
        StaticFile::File(file) => NamedFile::open(file).await.ok().map(StaticAnswer::File),
    }
}

#[derive(rocket::Responder)]
enum StaticAnswer {
    Embedded((ContentType, &'static [u8])),
    File(NamedFile),
}

/// The public home page; shows whether you are signed in.
#[get("/")]
fn index(page: PageContext) -> Page {
    page.render("index", json!({}))
}

/// A page only signed-in users see, naming them.
#[get("/protected")]
fn protected(user: CurrentUser, page: PageContext) -> Page {
    page.render(
        "protected",
        json!({
            "user": {
                "name": user.user.display_name(),
                "email": user.user.email,
                "role": user.user.role,
                "last_sign_in_at": user.user.last_sign_in_at,
            },
            "session": {
                "created_at": user.session.created_at,
                "expires_at": user.session.expires_at,
                "remember": user.session.remember,
            },
        }),
    )
}

/// A bare route, for load balancers and as the benchmark's baseline.
#[get("/health")]
fn health() -> &'static str {
    "ok"
}

/// The answer of a readiness check that passed.
#[derive(Serialize, utoipa::ToSchema)]
struct Ready {
    status: &'static str,
}

/// Readiness, for load balancers: 200 when the database answers (one
/// `SELECT 1` on a pooled connection), 503 in the usual JSON error shape
/// when it does not. `/health` stays the liveness check that never
/// touches the database (a database outage must not get every instance
/// restarted).
#[utoipa::path(tag = "health", responses((status = 200, description = "The database answers", body = Ready)), security(()))]
#[get("/health/ready")]
async fn ready(app: &State<Gatehouse>) -> ApiResult<Json<Ready>> {
    match app.db.ready().await {
        Ok(()) => Ok(Json(Ready { status: "ready" })),
        Err(e) => {
            log::warn!("not ready: the database does not answer: {}", e.chain());
            Err(ApiError::new(
                Status::ServiceUnavailable,
                "The database does not answer",
            ))
        }
    }
}
