//! Rocket plumbing shared by routes and catchers: request guards, CSRF,
//! fairings, cookies, page context and the JSON error. No SQL and no
//! business rules: those are in `services`.

pub mod assets; // templates and static files: compiled in, overridable one file at a time
pub mod client_ip; // ClientIp: the peer's address, or a trusted proxy's header
pub mod cookies; // the token cookies, and cookies set by guards
pub mod csrf; // CSRF values, the form guard and the fairing that checks writes
pub mod deny; // deny-by-default: refuse unlisted routes without a sign-in
mod embedded; // the compiled-in files (include_str!)
pub mod events; // audit events in words a person reads (who, what, badges)
#[cfg(feature = "google")]
pub mod google_flow; // a started Google sign-in, kept in a private cookie
pub mod guards; // CurrentUser, AdminUser, FreshLogin, FreshAdmin, JwtOptional, Actor, Device
pub mod headers; // the security headers on every response
pub mod json; // ApiError: the one JSON error answer
pub mod json_auth; // JsonAuth: a token in a JSON body
pub mod json_body; // JsonBody: a JSON body whose refusal names the field
pub mod json_doc; // the OpenAPI document's error schema, error answers and security schemes
pub mod metrics; // GET /metrics (with `metrics = true`)
pub mod must_change; // a password that must change before anything else
pub mod page; // PageContext and FormOutcome, for templates
pub mod passkeys; // PasskeysOn (off: a 404) and CsrfJson (a JSON body with its CSRF value)
pub mod qr; // QR codes as inline SVG (the two-factor secret)
pub mod redirect; // safe `next` values
pub mod request_log; // one log line per request, X-Request-Id, request metrics
pub mod second_factor; // SecondFactor: a session signed in with a second factor
pub mod when; // the `when` Tera filter: relative times, the exact time on hover

pub use csrf::{CsrfForm, CsrfProtected, CsrfToken};
pub use guards::{
    failure_reason, AdminUser, CurrentUser, FreshAdmin, FreshLogin, JwtOptional, LoginRequired,
};
pub use json_auth::JsonAuth;
pub use second_factor::SecondFactor;
