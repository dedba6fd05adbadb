//! Passkeys: `/account/passkeys` (the list, rename, remove), the browser's
//! JSON ceremonies (register, sign in, the second factor) and the JSON
//! API's. Every route forwards to a 404 while passkeys are off.

mod api; // under the API prefix: tokens in, tokens out
pub use api::Doc as ApiDoc; // the API routes in the OpenAPI document
mod browser; // the passkey script's JSON endpoints: cookies, CSRF value in the body
mod pages; // /account/passkeys and its forms

use serde::Serialize;

use crate::db::passkey::StoredPasskey;

/// The page and browser routes, mounted at `/`.
pub fn routes() -> Vec<rocket::Route> {
    let mut routes = pages::routes();
    routes.extend(browser::routes());
    routes
}

/// The JSON API's routes, mounted under the API prefix.
pub fn api_routes() -> Vec<rocket::Route> {
    api::routes()
}

/// A passkey as pages and the API show it (never its key).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PasskeyView {
    pub id: i32,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// Synced (its key is copied elsewhere) rather than bound to one device.
    pub synced: bool,
}

impl From<StoredPasskey> for PasskeyView {
    fn from(p: StoredPasskey) -> Self {
        PasskeyView {
            id: p.id,
            name: p.name,
            created_at: p.created_at,
            last_used_at: p.last_used_at,
            synced: p.backed_up,
        }
    }
}

impl PasskeyView {
    pub fn list(passkeys: Vec<StoredPasskey>) -> Vec<PasskeyView> {
        passkeys.into_iter().map(Into::into).collect()
    }
}
