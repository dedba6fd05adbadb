//! Authentication: passwords, tokens, cookies, guards, CSRF, sign-in and
//! sign-out.

pub mod cookies;
pub mod csrf;
pub mod guard;
pub mod password;
pub mod redirect;
pub mod signin;
pub mod token;

pub use csrf::{CsrfForm, CsrfProtected, CsrfToken};
pub use guard::{failure_reason, AdminUser, CurrentUser, LoginRequired};
pub use token::{AuthFailure, Claims, TokenType};
