//! A user whose password an admin set (a new account's temporary password,
//! or a reset) must choose their own before anything else: every other
//! request is refused before routing, browsers are sent to the password
//! change on `/account`, API clients get 403 "Password change required".

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Method;
use rocket::{Data, Request};

use super::deny::{path_matches, reject};
use super::guards::{authenticate, set_failure_reason};
use crate::auth::token::AuthFailure;
use crate::config::Config;
use crate::state::Gatehouse;

/// What such a user may still do: see their account and change the
/// password, sign in or out, renew their tokens.
fn allowed(config: &Config, method: Method, path: &str) -> bool {
    let api = config.api_prefix.trim_end_matches('/');
    match method {
        Method::Get | Method::Head => {
            matches!(
                path,
                "/account" | "/login" | "/login/two-factor" | "/health" | "/.well-known/jwks.json"
            ) || path == format!("{api}/me")
                || path_matches("/static/*", path)
                || path_matches("/__gatehouse/*", path)
        }
        Method::Post => {
            matches!(
                path,
                "/account/password" | "/login" | "/login/two-factor" | "/logout"
            ) || path_matches("/account/sessions/*", path)
                || path == config.auth_url_rule
                || [
                    "login",
                    "login/two-factor",
                    "refresh",
                    "logout",
                    "logout/all",
                    "password",
                ]
                .iter()
                .any(|p| path == format!("{api}/{p}"))
        }
        _ => false,
    }
}

pub struct PasswordChangeRequired;

#[rocket::async_trait]
impl Fairing for PasswordChangeRequired {
    fn info(&self) -> Info {
        Info {
            name: "Gatehouse password change required",
            kind: Kind::Request,
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        let Some(app) = req.rocket().state::<Gatehouse>() else {
            return;
        };
        if allowed(&app.config, req.method(), req.uri().path().as_str()) {
            return;
        }
        // Cached: the route's guards reuse this outcome.
        if matches!(authenticate(req).await, Ok(user) if user.user.must_change_password) {
            set_failure_reason(req, AuthFailure::PasswordChangeRequired);
            reject(req);
        }
    }
}
