//! Gatehouse: sign people in to a Rocket app with JSON Web Tokens.
//!
//! [`build`] makes the whole app from a figment (see [`config::figment`]);
//! protect a route of your own by taking a guard:
//!
//! ```no_run
//! use gatehouse::CurrentUser;
//!
//! #[rocket::get("/dashboard")]
//! fn dashboard(user: CurrentUser) -> String {
//!     format!("Hello, {}", user.user.display_name())
//! }
//!
//! #[rocket::launch]
//! fn rocket() -> _ {
//!     gatehouse::build(gatehouse::config::figment()).mount("/", rocket::routes![dashboard])
//! }
//! ```
//!
//! The modules are floors: a module imports only the ones below it.
//!
//! | floor | module | what it holds |
//! |---|---|---|
//! | binary | [`cli`], [`logging`] | the command line: serve, migrate, `user ...`; the logger |
//! | wiring | [`app`] | state, fairings, routes and catchers on a Rocket |
//! | handlers | [`routes`], [`catchers`] | a guard or form in, one service call, a page or JSON out |
//! | web | [`web`] | Rocket plumbing: guards, CSRF, fairings, cookies, page context, the JSON error |
//! | services | [`services`] | what a request does, on `&Gatehouse` and plain data |
//! | state | [`state`] | [`Gatehouse`], the managed state |
//! | primitives | [`auth`], [`mail`], [`db`] | tokens, passwords, limiter, OIDC client; mail; tables |
//! | settings | [`config`] | every settings section, checked at ignite |
//! | bottom | [`domain`], [`error`], [`metrics`] | `Email`, `Role`, `now()`; the one error type; Prometheus counters |
//!
//! [`testing`] helps an app's own tests (and Gatehouse's) make users and
//! tokens.

pub mod app;
pub mod auth;
pub mod catchers;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod logging;
pub mod mail;
pub mod metrics;
pub mod routes;
pub mod services;
pub mod state;
pub mod testing;
pub mod web;

pub use app::{build, stage};
pub use auth::{AuthFailure, Claims};
pub use error::Error;
pub use state::{AdditionalClaims, Gatehouse};
pub use web::page::{Page, PageContext};
pub use web::{
    failure_reason, AdminUser, CsrfForm, CsrfProtected, CsrfToken, CurrentUser, FreshAdmin, FreshLogin,
    JsonAuth, JwtOptional, LoginRequired, SecondFactor,
};
