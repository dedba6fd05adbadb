//! Hardening (issue 17): hostile input and clients, a busy SQLite, a
//! restarting PostgreSQL, and limits that hold across instances.
//!
//! - [`input`]: NUL and control characters, email normalisation, bounded
//!   audit rows, display names from every way in;
//! - [`database`]: SQLite write transactions under contention, dead
//!   PostgreSQL connections, `/health/ready`;
//! - [`limits`]: the client address, bcrypt cost changes, the per-IP limit
//!   across instances;
//! - [`clients`]: slow clients, graceful shutdown, the Google link button's
//!   form-action;
//! - [`shutdown`]: sign-ins in flight when the server stops.

pub mod clients;
mod database;
mod input;
mod limits;
#[cfg(all(feature = "google", feature = "mail"))]
mod shutdown;
