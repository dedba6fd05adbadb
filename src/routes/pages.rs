//! Public and protected pages.

use std::path::PathBuf;

use rocket::fs::NamedFile;
use rocket::http::ContentType;
use rocket::{get, routes, Route, State};
use serde_json::json;

use crate::web::assets::{Assets, StaticFile};
use crate::web::page::{Page, PageContext};
use crate::web::CurrentUser;

pub fn routes() -> Vec<Route> {
    routes![index, protected, health, static_file]
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
