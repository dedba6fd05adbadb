//! Tokens in a JSON request body (the `json` token location, and refresh
//! tokens sent as `{"refresh_token": ...}`). Guards can't read the body, so
//! a fairing peeks at it before routing; the body is left for the handler.

use rocket::data::Data;
use rocket::fairing::{Fairing, Info, Kind};
use rocket::Request;

use crate::app::Gatehouse;
use crate::config::Location;

/// What a JSON body carried.
#[derive(Debug, Default)]
pub struct BodyTokens {
    pub access: Option<String>,
    pub refresh: Option<String>,
}

/// The tokens of this request's JSON body (none if it had none).
pub fn tokens<'r>(req: &'r Request<'_>) -> &'r BodyTokens {
    req.local_cache(BodyTokens::default)
}

/// Reads `json_key` and `refresh_json_key` from JSON bodies.
pub struct JsonBodyTokens;

#[rocket::async_trait]
impl Fairing for JsonBodyTokens {
    fn info(&self) -> Info {
        Info {
            name: "Gatehouse JSON body tokens",
            kind: Kind::Request,
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, data: &mut Data<'_>) {
        if !req.content_type().is_some_and(|ct| ct.is_json()) {
            return;
        }
        let Some(app) = req.rocket().state::<Gatehouse>() else {
            return;
        };
        let config = &app.config.jwt;
        // Refresh tokens in the body are read wherever the JSON location is
        // configured or not (the refresh endpoint accepts them); access
        // tokens only where it is.
        let want_access = config.token_location.contains(&Location::Json);
        let limit = config.max_token_size * 2 + 1024;
        let peeked = data.peek(limit).await.to_vec();
        if !data.peek_complete() {
            return;
        }
        let Ok(serde_json::Value::Object(body)) = serde_json::from_slice::<serde_json::Value>(&peeked) else {
            return;
        };
        let get = |key: &str| body.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        let tokens = BodyTokens {
            access: want_access.then(|| get(&config.json_key)).flatten(),
            refresh: get(&config.refresh_json_key),
        };
        req.local_cache(|| tokens);
    }
}
