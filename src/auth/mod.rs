//! Authentication: passwords, tokens, cookies, guards, CSRF, sign-in and
//! sign-out.

pub mod body;
pub mod cookies;
pub mod csrf;
pub mod deny;
pub mod guard;
pub mod keys;
pub mod limit;
pub mod must_change;
pub mod oidc;
pub mod password;
pub mod redirect;
pub mod refresh;
pub mod register;
pub mod signin;
pub mod token;

pub use crate::app::AdditionalClaims;
pub use body::JsonAuth;
pub use csrf::{CsrfForm, CsrfProtected, CsrfToken};
pub use guard::{failure_reason, AdminUser, CurrentUser, FreshAdmin, FreshLogin, JwtOptional, LoginRequired};
pub use token::{AuthFailure, Claims, TokenType};
