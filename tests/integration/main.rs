//! One integration-test binary (one link), with a module per area of the
//! app; each area's `mod.rs` says which file tests what.
//!
//! | area | routes or part |
//! |---|---|
//! | [`signin`] | `/login`, `/logout`: the form, CSRF, `next`, lockout and rate limits |
//! | [`tokens`] | cookies and the Bearer header on pages: refused, renewed, revoked, CSRF |
//! | [`api`] | `/api/v1/...` and `/auth`: login, refresh, logout, an app's own routes, JWT settings |
//! | [`account`] | `/account`: profile, password, own sessions |
//! | [`register`] | `/register`, `/register/confirm`: request, the mailed link, limits, mail |
//! | [`password_reset`] | `/password/forgot`, `/password/reset` and their JSON: the mailed link, limits |
//! | [`google`] | `/auth/google...`, `/api/v1/auth/google`, with a loopback OpenID Connect provider |
//! | [`admin`] | `/admin...` pages and `/api/v1/admin/...` |
//! | [`items`] | `/items`, `/api/v1/items`: the example resource |
//! | [`guards`] | guards on an app's own routes, deny by default, an app's own catchers |
//! | [`catchers`] | error pages, JSON errors, security headers |
//! | [`keys`] | algorithms, `kid`, JWKS, key rotation |
//! | [`setup`] | settings checked at ignite |
//! | [`cli`] | the command line |
//! | [`passkeys`] | `/account/passkeys`, the passkey ceremonies (browser and API), with a software authenticator |
//! | [`two_factor`] | `/account/two-factor`, `/login/two-factor`, `/api/v1/login/two-factor`: TOTP and recovery codes |
//! | [`ops`] | `/metrics` and the request log |
//! | [`hardening`] | hostile input and clients, a busy SQLite, a restarting PostgreSQL, shared limits |
//! | [`browser`] | the journeys in Chromium, against the real binary |
//!
//! [`common`] holds the helpers: [`common::TestApp`], `db_tests!`, forms,
//! more browsers, the mailbox and an SMTP server. [`harness`] runs the tests
//! (this target has `harness = false`) and says which did not run, and why.

mod common;
mod harness;

mod account;
mod admin;
mod api;
#[cfg(all(feature = "google", feature = "mail"))]
mod browser;
mod catchers;
mod cli;
#[cfg(feature = "google")]
mod google;
mod guards;
mod hardening;
mod items;
mod keys;
mod ops;
mod passkeys;
#[cfg(feature = "mail")]
mod password_reset;
#[cfg(feature = "mail")]
mod register;
mod setup;
mod signin;
mod tokens;
mod two_factor;

fn main() -> std::process::ExitCode {
    harness::main()
}
