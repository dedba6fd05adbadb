//! Gatehouse: sign people in to a Rocket app with JSON Web Tokens.
//!
//! [`build`] makes the whole app from a figment (see [`config::figment`]);
//! protect a route of your own by taking a guard:
//!
//! ```no_run
//! use gatehouse::auth::CurrentUser;
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

pub mod admin;
pub mod app;
pub mod auth;
pub mod catchers;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod mail;
pub mod routes;
pub mod testing;
pub mod view;

pub use app::{build, stage, Gatehouse};
pub use error::Error;
