//! Security primitives, below any request: tokens and their claims,
//! password hashing, the sign-in limiter, and the OpenID Connect client.

pub mod claims; // Claims and TokenType: what a token says
pub mod failure; // AuthFailure: every way a token or its session is refused
pub mod hasher; // bcrypt's own low-priority threads, with a bounded queue
pub mod limit; // the per-IP sign-in limit
#[cfg(feature = "google")]
pub mod oidc; // the OpenID Connect (Google) client
pub mod passkey; // passkeys: the WebAuthn relying party, challenge ids
pub mod password; // bcrypt hashing and the password rules
pub mod token; // Tokens: signing and checking JWTs
pub mod totp; // two-factor sign-in: TOTP codes and recovery codes

pub use token::{AuthFailure, Claims, TokenType};
