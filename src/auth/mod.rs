//! Security primitives, below any request: tokens and their claims,
//! password hashing, the sign-in limiter, and the OpenID Connect client.

pub mod limit;
pub mod oidc;
pub mod password;
pub mod token;

pub use token::{AuthFailure, Claims, TokenType};
