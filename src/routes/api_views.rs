//! The typed answers of the JSON API (`routes::api`), so the OpenAPI
//! document describes each one's fields exactly.

use serde::Serialize;

use crate::auth::claims::Claims;
use crate::db::user::User;

/// `{"msg"}`: what was done (sign-out).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Done {
    pub msg: &'static str,
}

/// `{"msg", "sessions_revoked"}`: sign-out everywhere, a password change.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionsRevoked {
    pub msg: &'static str,
    /// How many sessions were signed out.
    pub sessions_revoked: usize,
}

/// Who is signed in (Flask-JWT's `current_identity`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Identity {
    pub id: i32,
    pub email: String,
    pub name: String,
    /// `user` or `admin`.
    pub role: String,
}

/// `GET {api}/me`: the identity and the access token's claims (with the
/// app's additional claims among them).
#[derive(Serialize, utoipa::ToSchema)]
pub struct MeView {
    pub identity: Identity,
    pub claims: Claims,
}

impl MeView {
    pub fn new(user: &User, claims: Claims) -> Self {
        Self {
            identity: Identity {
                id: user.id,
                email: user.email.clone(),
                name: user.name.clone(),
                role: user.role.clone(),
            },
            claims,
        }
    }
}

/// The blog post's example: `{"meaning_of_life": 42}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeaningOfLife {
    pub meaning_of_life: u8,
}

/// Flask-JWT's `POST /auth` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccessToken {
    pub access_token: String,
}

/// The JSON Web Key Set (`/.well-known/jwks.json`), as described in the
/// document (the handler answers `jsonwebtoken`'s `JwkSet`).
#[derive(Debug, utoipa::ToSchema)]
pub struct Jwks {
    /// One JSON Web Key (RFC 7517) each; none for HMAC.
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<serde_json::Value>,
}

/// `GET {api}/items`, as described in the document: `{"id", "name"}` each
/// for an anonymous caller; whole items (with `description`, `created_by`,
/// `created_at`) for a signed-in one.
#[derive(Debug, utoipa::ToSchema)]
pub struct ItemList {
    pub items: Vec<ItemSummary>,
}

/// What every caller sees of an item.
#[derive(Debug, utoipa::ToSchema)]
pub struct ItemSummary {
    pub id: i32,
    pub name: String,
}
