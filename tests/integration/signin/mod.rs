//! The sign-in form, sessions and sign-out, as a browser uses them
//! (`/login`, `/logout`).
//!
//! - [`form`]: signing in and out, CSRF, `next`, "remember me", errors;
//! - [`limits`]: lockout after failures, the per-address rate limit,
//!   simultaneous guesses;
//! - [`busy`]: a full password queue answers 503 at once.

mod busy;
mod form;
mod limits;
