//! The admin area, pages and API:
//!
//! - [`access`]: who may reach the admin pages (role, CSRF value, fresh
//!   sign-in), route by route;
//! - [`users_table`]: `/admin` and `/admin/users`: the dashboard, search,
//!   filters, sorting, pages;
//! - [`users`]: `/admin/users/new` and `/admin/users/{id}/edit`: creating
//!   (with a chosen or temporary password) and editing users;
//! - [`actions`]: the buttons on a user's page (sessions, unlock, Google,
//!   disable, delete) and the last admin's protection;
//! - [`audit`]: `/admin/audit` and its filters;
//! - [`api`]: the admin JSON API (`/api/v1/admin/...`).

mod access;
mod actions;
mod api;
mod audit;
mod users;
mod users_table;

use gatehouse::db::user::User;
use gatehouse::domain::Role;

use crate::common::{assert_redirect_to, Browser, TestApp, PASSWORD};

/// The admin's browser (`app.client`), signed in as a fresh admin.
async fn admin_browser(app: &TestApp) -> (User, Browser) {
    let root = app.create_user("root@example.com", "Root", Role::Admin).await;
    let browser = app.browser().await;
    {
        let res = browser.sign_in("root@example.com", PASSWORD).await;
        assert_redirect_to(&res, "/");
    }
    (root, browser)
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> &'a str {
    let from = s.find(start).unwrap_or_else(|| panic!("{start} in page")) + start.len();
    let to = s[from..].find(end).unwrap() + from;
    &s[from..to]
}

async fn set_google_sub(app: &TestApp, id: i32, sub: Option<&str>, password: bool) {
    let sub = sub.map(str::to_owned);
    app.state()
        .db
        .run(move |conn| {
            use diesel::prelude::*;
            use gatehouse::db::schema::users;
            diesel::update(users::table.find(id))
                .set(users::google_sub.eq(sub))
                .execute(conn)?;
            if !password {
                diesel::update(users::table.find(id))
                    .set(users::password_hash.eq(None::<String>))
                    .execute(conn)?;
            }
            Ok(())
        })
        .await
        .unwrap();
}
