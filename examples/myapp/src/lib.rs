//! MyApp: a Rocket app whose people sign in with Gatehouse.

use gatehouse::{AdditionalClaims, AdminUser, CurrentUser, FreshLogin, LoginRequired, Page, PageContext};
use rocket::figment::Figment;
use rocket::{catch, catchers, get, post, routes, Build, Request, Rocket};
use serde_json::{json, Map};

/// Signed in, or a 303 to `/login?next=/dashboard`. A page of the app's own
/// (`templates/dashboard.html.tera`) in Gatehouse's layout.
#[get("/dashboard")]
fn dashboard(user: CurrentUser, page: PageContext) -> Page {
    page.render(
        "dashboard",
        json!({ "plan": user.claims.extra.get("plan"), "session": user.claims.sid }),
    )
}

/// The same, for a handler that doesn't read the user.
#[get("/members")]
fn members(_user: LoginRequired) -> &'static str {
    "members only"
}

/// Anyone: `None` for a visitor who isn't signed in.
#[get("/maybe")]
fn maybe(user: Option<CurrentUser>) -> String {
    user.map_or("hello stranger".into(), |u| format!("hello {}", u.user.email))
}

/// Admins only: 403 for anyone else who is signed in.
#[get("/reports")]
fn reports(admin: AdminUser) -> String {
    format!("reports for {}", admin.user.email)
}

/// A fresh sign-in (by password or Google, not a renewed token) for
/// something sensitive.
#[post("/danger")]
fn danger(user: FreshLogin) -> String {
    format!("{} signed in just now", user.user.email)
}

/// The app's own answer to a refusal under `/reports` (Gatehouse's catchers
/// answer everywhere else).
#[catch(403)]
fn reports_refused(req: &Request<'_>) -> String {
    let why = gatehouse::failure_reason(req).map_or("forbidden", |r| r.code());
    format!("Reports are for admins ({why})")
}

/// The whole app, for `main.rs` and the tests.
pub fn app(figment: Figment) -> Rocket<Build> {
    gatehouse::build(figment)
        .mount("/", routes![dashboard, members, maybe, reports, danger])
        .register("/reports", catchers![reports_refused])
        // A claim of the app's own in every access token.
        .manage(AdditionalClaims::new(|user| {
            let plan = if user.is_admin() { "team" } else { "free" };
            Map::from_iter([("plan".to_string(), json!(plan))])
        }))
}
