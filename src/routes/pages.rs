//! Public and protected pages.

use rocket::{get, routes, Route};
use rocket_dyn_templates::Template;
use serde_json::json;

use crate::web::page::PageContext;
use crate::web::CurrentUser;

pub fn routes() -> Vec<Route> {
    routes![index, protected, health]
}

/// The public home page; shows whether you are signed in.
#[get("/")]
fn index(page: PageContext) -> Template {
    page.render("index", json!({}))
}

/// A page only signed-in users see, naming them.
#[get("/protected")]
fn protected(user: CurrentUser, page: PageContext) -> Template {
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
