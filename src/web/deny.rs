//! Refusing a request before routing, and deny by default (Flask-JWT-Router): with `deny_by_default` on, every
//! request needs a valid token unless its route is in `white_list_routes`
//! (method and path, as written or under `api_prefix`) or `ignored_routes`
//! (a path for any method, or `[method, path]`); see
//! [`crate::config::net::routes`]. Checked before routing, so a route added
//! later without a guard is still protected.

use std::sync::Mutex;

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::uri::Origin;
use rocket::http::Method;
use rocket::{get, routes, Data, Request, Route};

use super::guards::{authenticate, set_failure_reason};
use crate::auth::token::AuthFailure;
use crate::state::Gatehouse;

/// Where a denied request is sent internally, to fail with its reason.
const DENIED: &str = "/__gatehouse/denied";

/// The request as it arrived, before a denial rewrote it.
#[derive(Debug, Clone)]
pub struct Original {
    pub method: Method,
    pub uri: String,
}

struct OriginalSlot(Mutex<Option<Original>>);

fn slot<'r>(req: &'r Request<'_>) -> &'r OriginalSlot {
    req.local_cache(|| OriginalSlot(Mutex::new(None)))
}

/// The method and URI the client sent, if the request was refused before
/// routing (catchers use it for `next` and to choose JSON).
pub fn original(req: &Request<'_>) -> Option<Original> {
    slot(req).0.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Whether `path` matches a configured pattern: exact, or a prefix when the
/// pattern ends in `/*`.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    match pattern.strip_suffix("/*") {
        Some(prefix) => path == prefix || path.starts_with(&format!("{prefix}/")),
        None => pattern == path,
    }
}

/// Gatehouse's own routes that must work without a token.
fn builtin_public(config: &crate::config::Config, method: Method, path: &str) -> bool {
    let api = config.api_prefix.trim_end_matches('/');
    if config.registration
        && matches!(path, "/register" | "/register/confirm")
        && matches!(method, Method::Get | Method::Head | Method::Post)
    {
        return true;
    }
    if config.password_reset {
        let pages = matches!(path, "/password/forgot" | "/password/reset")
            && matches!(method, Method::Get | Method::Head | Method::Post);
        let api = method == Method::Post
            && path
                .strip_prefix(api)
                .is_some_and(|p| matches!(p, "/password/forgot" | "/password/reset"));
        if pages || api {
            return true;
        }
    }
    match method {
        Method::Get | Method::Head => {
            matches!(
                path,
                "/" | "/login"
                    | "/login/two-factor"
                    | "/health"
                    | "/health/ready"
                    | "/metrics"
                    | "/.well-known/jwks.json"
                    | "/auth/google"
                    | "/auth/google/callback"
                    | DENIED
            ) || path_matches("/static/*", path)
                || path == format!("{api}/openapi.json")
        }
        Method::Post => {
            matches!(path, "/login" | "/login/two-factor" | "/logout")
                || path == config.auth_url_rule
                || path == format!("{api}/login")
                || path == format!("{api}/login/two-factor")
                || path == format!("{api}/refresh")
                || path == format!("{api}/auth/google")
        }
        _ => false,
    }
}

pub struct DenyByDefault;

#[rocket::async_trait]
impl Fairing for DenyByDefault {
    fn info(&self) -> Info {
        Info {
            name: "Gatehouse deny by default",
            kind: Kind::Request,
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        let Some(app) = req.rocket().state::<Gatehouse>() else {
            return;
        };
        let config = &app.config;
        if !config.deny_by_default {
            return;
        }
        let path = req.uri().path().to_string();
        let method = req.method();
        let public = builtin_public(config, method, &path)
            || config.ignored_routes.iter().any(|e| e.matches(method, &path))
            || config.white_list_routes.iter().any(|e| e.matches(method, &path));
        if public {
            return;
        }
        let failure = match authenticate(req).await {
            Ok(_) => return,
            Err(failure) => *failure,
        };
        set_failure_reason(req, failure);
        reject(req);
    }
}

/// Sends a refused request to the internal route that fails with the
/// recorded reason (so no handler of the app runs), keeping what it was
/// for the catchers.
pub fn reject(req: &mut Request<'_>) {
    {
        let mut original = slot(req).0.lock().unwrap_or_else(|e| e.into_inner());
        if original.is_some() {
            return;
        }
        *original = Some(Original {
            method: req.method(),
            uri: req.uri().to_string(),
        });
    }
    req.set_method(Method::Get);
    req.set_uri(Origin::parse(DENIED).expect("a valid path"));
}

/// The internal route denied requests land on: it fails with the reason's
/// status, so the usual catchers answer (sign-in page or JSON error).
#[get("/__gatehouse/denied")]
fn denied(req: DeniedRequest) -> rocket::http::Status {
    req.0
}

struct DeniedRequest(rocket::http::Status);

#[rocket::async_trait]
impl<'r> rocket::request::FromRequest<'r> for DeniedRequest {
    type Error = AuthFailure;

    async fn from_request(req: &'r Request<'_>) -> rocket::request::Outcome<Self, AuthFailure> {
        let failure = super::guards::failure_reason(req).unwrap_or(AuthFailure::Missing);
        if original(req).is_none() {
            // Asked for directly: there is nothing here.
            return rocket::outcome::Outcome::Forward(rocket::http::Status::NotFound);
        }
        rocket::outcome::Outcome::Error((failure.status(), failure))
    }
}

pub fn routes() -> Vec<Route> {
    routes![denied]
}

#[cfg(test)]
mod tests {
    use super::path_matches;

    #[test]
    fn patterns() {
        assert!(path_matches("/health", "/health"));
        assert!(!path_matches("/health", "/health/x"));
        assert!(path_matches("/static/*", "/static/style.css"));
        assert!(path_matches("/static/*", "/static"));
        assert!(!path_matches("/static/*", "/statics"));
    }
}
