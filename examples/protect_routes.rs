//! The README's "Protecting your own route", as a program (`cargo run
//! --example protect_routes`); `tests/readme.rs` keeps the two the same.

use gatehouse::{AdminUser, CurrentUser, FreshLogin, LoginRequired};

/// Signed in, or a 303 to `/login?next=/dashboard`.
#[rocket::get("/dashboard")]
fn dashboard(user: CurrentUser) -> String {
    format!(
        "Hello, {} (session {})",
        user.user.display_name(),
        user.claims.sid
    )
}

/// The same, for a handler that doesn't read the user.
#[rocket::get("/members")]
fn members(_user: LoginRequired) -> &'static str {
    "members only"
}

/// Anyone: `None` for a visitor who isn't signed in.
#[rocket::get("/maybe")]
fn maybe(user: Option<CurrentUser>) -> String {
    user.map_or("hello stranger".into(), |u| format!("hello {}", u.user.email))
}

/// Admins only: 403 for anyone else who is signed in.
#[rocket::get("/admin-only")]
fn admin_only(admin: AdminUser) -> String {
    format!("admin {}", admin.user.email)
}

/// A fresh sign-in (by password or Google, not a renewed token) for
/// something sensitive.
#[rocket::post("/danger")]
fn danger(user: FreshLogin) -> String {
    format!("{} signed in just now", user.user.email)
}

#[rocket::launch]
fn rocket() -> _ {
    gatehouse::build(gatehouse::config::figment()).mount(
        "/",
        rocket::routes![dashboard, members, maybe, admin_only, danger],
    )
}
