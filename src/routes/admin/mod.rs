//! The admin area: pages under `/admin` and the JSON API under the API
//! prefix, both on `services::admin`.

pub mod actions; // the pages' form writes (create, edit, disable, reset, delete...)
pub mod answers; // the admin API's typed answers (described in the OpenAPI document)
pub mod api; // the admin JSON API
pub mod pages; // the dashboard, users table, a user's page, the audit log
pub mod views; // UserQuery, AuditQuery and UserView, shared by pages and API

/// The pages and their forms, mounted at `/`.
pub fn routes() -> Vec<rocket::Route> {
    let mut routes = pages::routes();
    routes.extend(actions::routes());
    routes
}
