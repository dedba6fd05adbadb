//! The handlers, one module per area; each exposes `routes()`. A handler
//! takes a guard or a form, makes one service call, and answers with a
//! page, a redirect or JSON.

pub mod account; // /account: profile, password, sessions, Google link
pub mod admin; // /admin pages and the admin JSON API
pub mod api; // the JSON API: sign-in, refresh, sign-out, me; Flask-JWT's /auth; JWKS
pub mod api_views; // the JSON API's typed answers (described in the OpenAPI document)
#[cfg(feature = "google")]
pub mod google; // sign-in with Google (browser and single-page app)
pub mod items; // the example resource, as pages and JSON
pub mod openapi; // {api_prefix}/openapi.json: the OpenAPI document of every JSON route
pub mod pages; // /, /protected, /health
pub mod passkeys; // /account/passkeys, the passkey ceremonies (browser and API)
pub mod password; // a forgotten password: /password/forgot, /password/reset, and their JSON
pub mod register; // registration by mailed link
pub mod session; // /login and /logout, and the two-factor code step
pub mod two_factor; // /account/two-factor: turning it on and off, recovery codes

/// Every page route, mounted at `/` (the API's are mounted by `app`).
pub fn routes() -> Vec<rocket::Route> {
    let mut routes = pages::routes();
    routes.extend(session::routes());
    routes.extend(items::routes());
    routes.extend(account::routes());
    routes.extend(two_factor::routes());
    routes.extend(passkeys::routes());
    routes.extend(admin::routes());
    routes.extend(password::routes());
    #[cfg(feature = "google")]
    routes.extend(google::routes());
    routes
}
