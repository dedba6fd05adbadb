//! The `json` token location: a token in the JSON request body (Flask-JWT-
//! Extended's `JWT_JSON_KEY`). Request guards can't read the body, so this
//! is a data guard: take `JsonAuth<T>` instead of `CurrentUser` plus
//! `Json<T>`.

use rocket::data::{self, Data, FromData};
use rocket::http::Status;
use rocket::outcome::Outcome;
use rocket::request::Request;
use rocket::serde::json::Json;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::guards::CurrentUser;
use super::guards::{authenticate, from_token, set_failure_reason};
use crate::auth::token::AuthFailure;
use crate::config::Location;
use crate::state::Gatehouse;

/// A JSON body and the user it is sent by.
///
/// The token comes from the locations `CurrentUser` reads (cookies, header,
/// query string, in the configured order); when none holds one and `json`
/// is a configured location, from the body's `json_key` (`access_token`),
/// which is removed before the rest becomes `T`. Fails like `CurrentUser`
/// (401 and its reason), or 422 for a body that isn't `T`.
pub struct JsonAuth<T> {
    pub user: CurrentUser,
    pub body: T,
}

#[rocket::async_trait]
impl<'r, T: DeserializeOwned + Send> FromData<'r> for JsonAuth<T> {
    type Error = AuthFailure;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        let Some(app) = req.rocket().state::<Gatehouse>() else {
            return Outcome::Error((Status::InternalServerError, AuthFailure::Internal));
        };
        let mut value = match Json::<Value>::from_data(req, data).await {
            Outcome::Success(json) => json.into_inner(),
            _ => return Outcome::Error((Status::UnprocessableEntity, AuthFailure::Malformed)),
        };
        let config = &app.config.jwt;
        let from_body = value
            .as_object_mut()
            .filter(|_| config.token_location.contains(&Location::Json))
            .and_then(|map| map.remove(&config.json_key));
        let user = match (authenticate(req).await, from_body) {
            (Ok(user), _) => Ok(user.clone()),
            (Err(AuthFailure::Missing), Some(Value::String(token))) => from_token(app, &token).await,
            (Err(AuthFailure::Missing), Some(_)) => Err(AuthFailure::Malformed),
            (Err(failure), _) => Err(*failure),
        };
        let user = match user {
            Ok(user) => user,
            Err(failure) => {
                set_failure_reason(req, failure);
                return Outcome::Error((failure.status(), failure));
            }
        };
        match serde_json::from_value(value) {
            Ok(body) => Outcome::Success(JsonAuth { user, body }),
            Err(_) => Outcome::Error((Status::UnprocessableEntity, AuthFailure::Malformed)),
        }
    }
}
