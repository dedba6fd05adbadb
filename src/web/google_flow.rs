//! A started sign-in, kept until its callback in a private (encrypted and
//! authenticated) cookie bound to this browser: `state`, `nonce`, the PKCE
//! verifier and where to go afterwards. Short-lived, and taken (removed) by
//! the first callback, whatever its outcome, so it is used at most once.

use rocket::http::{Cookie, CookieJar, SameSite};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::auth::oidc::{OidcError, Started};
use crate::domain::now;

pub const COOKIE: &str = "gatehouse_oidc";
/// Sent only to the routes that need it.
const PATH: &str = "/auth/google";

#[derive(Debug, Serialize, Deserialize)]
pub struct Flow {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    pub next: Option<String>,
    pub started_at: i64,
    /// Set when a signed-in person links Google to their account (from the
    /// account page) rather than signing in with it.
    #[serde(default)]
    pub link_user: Option<i32>,
}

/// Remembers a started sign-in in this browser.
pub fn keep(
    jar: &CookieJar<'_>,
    started: &Started,
    next: Option<String>,
    link_user: Option<i32>,
    secure: bool,
    lifetime: i64,
) {
    let flow = Flow {
        state: started.state.clone(),
        nonce: started.nonce.clone(),
        verifier: started.verifier.clone(),
        next,
        started_at: now(),
        link_user,
    };
    let value = serde_json::to_string(&flow).unwrap_or_default();
    // Lax, not Strict: the callback is a top-level navigation coming back
    // from the provider's site.
    let cookie = Cookie::build((COOKIE, value))
        .path(PATH)
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(rocket::time::Duration::seconds(lifetime));
    jar.add_private(cookie);
}

/// Takes the started sign-in (removing it) and checks the callback's
/// `state` against it.
pub fn take(jar: &CookieJar<'_>, state: Option<&str>, lifetime: i64) -> Result<Flow, OidcError> {
    let cookie = jar.get_private(COOKIE);
    jar.remove_private(Cookie::build(COOKIE).path(PATH));
    let flow: Flow = cookie
        .and_then(|c| serde_json::from_str(c.value()).ok())
        .ok_or(OidcError::FlowMissing)?;
    if now() - flow.started_at > lifetime {
        return Err(OidcError::FlowMissing);
    }
    let state = state.ok_or(OidcError::StateMismatch)?;
    if !bool::from(state.as_bytes().ct_eq(flow.state.as_bytes())) {
        return Err(OidcError::StateMismatch);
    }
    Ok(flow)
}
