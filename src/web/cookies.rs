//! The token cookies: HttpOnly, SameSite, Secure as configured, no Domain.
//!
//! Rocket drops cookie changes made during a request that ends in a
//! catcher, so changes a guard makes (a renewal, clearing a dead cookie) are
//! also kept aside and re-applied by the [`PendingCookies`] fairing.

use std::sync::Mutex;

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::{Cookie, CookieJar};
use rocket::time::OffsetDateTime;
use rocket::{Request, Response};

use crate::config::JwtConfig;
use crate::db::session::Session;
use crate::services::signin::SignedIn;

fn build(
    config: &JwtConfig,
    name: &str,
    value: String,
    path: &str,
    http_only: bool,
    expires: Option<i64>,
) -> Cookie<'static> {
    let mut cookie = Cookie::build((name.to_owned(), value))
        .path(path.to_owned())
        .http_only(http_only)
        .secure(config.cookie_secure)
        .same_site(config.cookie_samesite);
    if let Some(at) = expires.and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok()) {
        cookie = cookie.expires(at);
    }
    cookie.build()
}

/// The access cookie, and the readable CSRF cookie that JavaScript echoes in
/// the `X-CSRF-TOKEN` header. `expires` makes them persistent ("remember
/// me"); `None` gives cookies that end with the browser session.
pub fn access(config: &JwtConfig, token: String, csrf: String, expires: Option<i64>) -> Vec<Cookie<'static>> {
    let mut cookies = vec![build(
        config,
        &config.access_cookie_name,
        token,
        &config.access_cookie_path,
        true,
        expires,
    )];
    if config.csrf_in_cookies {
        cookies.push(build(
            config,
            &config.access_csrf_cookie_name,
            csrf,
            "/",
            false,
            expires,
        ));
    }
    cookies
}

/// The refresh cookie, which renews the access cookie when it expires.
pub fn refresh(config: &JwtConfig, token: String, expires: Option<i64>) -> Cookie<'static> {
    build(
        config,
        &config.refresh_cookie_name,
        token,
        &config.refresh_cookie_path,
        true,
        expires,
    )
}

/// All of a session's cookies (access, CSRF, refresh): persistent until the
/// session ends for "remember me", else ending with the browser session.
pub fn for_session(
    config: &JwtConfig,
    session: &Session,
    access_token: &str,
    csrf: &str,
    refresh_token: &str,
) -> Vec<Cookie<'static>> {
    let expires = session.remember.then_some(session.expires_at);
    let mut set = access(config, access_token.to_owned(), csrf.to_owned(), expires);
    set.push(refresh(config, refresh_token.to_owned(), expires));
    set
}

/// Removals for whichever token cookies the request carries.
pub fn removals(jar: &CookieJar<'_>, config: &JwtConfig) -> Vec<Cookie<'static>> {
    [
        (
            config.access_cookie_name.as_str(),
            config.access_cookie_path.as_str(),
        ),
        (
            config.refresh_cookie_name.as_str(),
            config.refresh_cookie_path.as_str(),
        ),
        (config.access_csrf_cookie_name.as_str(), "/"),
    ]
    .into_iter()
    .filter(|(name, _)| jar.get(name).is_some())
    .map(|(name, path)| {
        let mut cookie = build(config, name, String::new(), path, true, None);
        cookie.make_removal();
        cookie
    })
    .collect()
}

/// Puts a new session's tokens in the browser's cookies: persistent for
/// "remember me", else ending with the browser session.
pub fn set_signed_in(jar: &CookieJar<'_>, config: &JwtConfig, signed_in: &SignedIn) {
    let set = for_session(
        config,
        &signed_in.session,
        &signed_in.token,
        &signed_in.claims.csrf,
        &signed_in.refresh_token,
    );
    apply(jar, set);
}

/// The cookie holding a sign-in that waits for its two-factor code: only
/// sent to `/login...`, never cross-site.
pub const PENDING_COOKIE: &str = "gatehouse_mfa";

/// Sets the pending sign-in's cookie: HttpOnly, SameSite=Strict, Path=/login,
/// ending with the token (`lifetime` seconds).
pub fn set_pending(jar: &CookieJar<'_>, config: &JwtConfig, token: String, lifetime: i64) {
    let cookie = Cookie::build((PENDING_COOKIE, token))
        .path("/login")
        .http_only(true)
        .secure(config.cookie_secure)
        .same_site(rocket::http::SameSite::Strict)
        .max_age(rocket::time::Duration::seconds(lifetime));
    jar.add(cookie.build());
}

/// The pending sign-in's token, if the browser sent one.
pub fn pending(jar: &CookieJar<'_>) -> Option<String> {
    jar.get(PENDING_COOKIE).map(|c| c.value().to_owned())
}

/// Removes the pending sign-in's cookie.
pub fn clear_pending(jar: &CookieJar<'_>) {
    jar.remove(Cookie::build(PENDING_COOKIE).path("/login"));
}

/// Removes whichever token cookies the request carries (signing out).
pub fn clear(jar: &CookieJar<'_>, config: &JwtConfig) {
    apply(jar, removals(jar, config));
}

/// Sets cookies from a handler (whose response is a success).
pub fn apply(jar: &CookieJar<'_>, cookies: Vec<Cookie<'static>>) {
    for cookie in cookies {
        jar.add(cookie);
    }
}

struct Pending(Mutex<Vec<Cookie<'static>>>);

/// Sets cookies from a guard: they reach the browser even if the request
/// ends in a catcher.
pub fn apply_from_guard(req: &Request<'_>, cookies: Vec<Cookie<'static>>) {
    let pending = req.local_cache(|| Pending(Mutex::new(Vec::new())));
    let mut pending = pending.0.lock().unwrap_or_else(|e| e.into_inner());
    for cookie in cookies {
        req.cookies().add(cookie.clone());
        pending.push(cookie);
    }
}

/// Re-applies a guard's cookie changes that a catcher's response lost.
pub struct PendingCookies;

#[rocket::async_trait]
impl Fairing for PendingCookies {
    fn info(&self) -> Info {
        Info {
            name: "Gatehouse guard cookies",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let pending = req.local_cache(|| Pending(Mutex::new(Vec::new())));
        let pending = pending.0.lock().unwrap_or_else(|e| e.into_inner());
        for cookie in pending.iter() {
            let prefix = format!("{}=", cookie.name());
            if !res.headers().get("Set-Cookie").any(|h| h.starts_with(&prefix)) {
                res.adjoin_header(cookie.clone());
            }
        }
    }
}
