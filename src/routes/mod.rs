//! Routes, one module per area; each exposes `routes()`.

pub mod account;
pub mod admin;
pub mod api;
pub mod google;
pub mod items;
pub mod pages;
pub mod register;
pub mod session;

pub fn routes() -> Vec<rocket::Route> {
    let mut routes = pages::routes();
    routes.extend(session::routes());
    routes.extend(items::routes());
    routes.extend(account::routes());
    routes.extend(admin::routes());
    routes.extend(google::routes());
    routes
}
