//! `JsonBody<T>`: a JSON request body whose refusal says what is wrong.
//! Rocket's `Json<T>` answers a bad body with a bare 422 (the serde message
//! is lost); this guard answers in the API's JSON error shape: 400 for a
//! body that is not JSON, 413 over the `json` limit, 422 naming the field
//! that is missing or malformed (`missing field `password``, `remember:
//! invalid type: ...`). The catchers read the refusal with [`refusal`].

use std::ops::Deref;
use std::sync::Mutex;

use rocket::data::{self, Data, FromData, Limits, ToByteUnit};
use rocket::http::Status;
use rocket::outcome::Outcome;
use rocket::request::Request;
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use crate::web::json::ApiError;

/// A JSON body, read and checked.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T> JsonBody<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for JsonBody<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// Why the body was refused, for the catcher.
struct Refusal(Mutex<Option<(Status, String)>>);

fn slot<'r>(req: &'r Request<'_>) -> &'r Refusal {
    req.local_cache(|| Refusal(Mutex::new(None)))
}

/// The JSON error of a body this guard refused, if it refused one.
pub fn refusal(req: &Request<'_>) -> Option<ApiError> {
    let refused = slot(req).0.lock().unwrap_or_else(|e| e.into_inner()).clone();
    refused.map(|(status, description)| ApiError::new(status, description))
}

fn refuse<'r, T>(req: &'r Request<'_>, status: Status, description: String) -> data::Outcome<'r, T, String> {
    *slot(req).0.lock().unwrap_or_else(|e| e.into_inner()) = Some((status, description.clone()));
    Outcome::Error((status, description))
}

/// serde_json's message without its " at line 1 column 7".
fn message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rsplit_once(" at line ") {
        Some((message, _)) => message.to_owned(),
        None => text,
    }
}

/// What a refused body gets: its status and a description naming the field.
pub fn describe(error: &serde_path_to_error::Error<serde_json::Error>) -> (Status, String) {
    let inner = error.inner();
    match inner.classify() {
        Category::Syntax | Category::Eof | Category::Io => (
            Status::BadRequest,
            format!("The body is not valid JSON: {}", inner),
        ),
        Category::Data => {
            let path = error.path().to_string();
            let description = if path == "." {
                message(inner)
            } else {
                format!("`{path}`: {}", message(inner))
            };
            (Status::UnprocessableEntity, description)
        }
    }
}

#[rocket::async_trait]
impl<'r, T: DeserializeOwned> FromData<'r> for JsonBody<T> {
    type Error = String;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self, String> {
        let limit = req.limits().get("json").unwrap_or(Limits::JSON);
        let bytes = match data.open(limit).into_bytes().await {
            Ok(bytes) if bytes.is_complete() => bytes.into_inner(),
            Ok(_) => {
                let description = format!("The body is over the limit of {}", limit.max(1.bytes()));
                return refuse(req, Status::PayloadTooLarge, description);
            }
            Err(e) => {
                return refuse(
                    req,
                    Status::BadRequest,
                    format!("The body could not be read: {e}"),
                )
            }
        };
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        let parsed = serde_path_to_error::deserialize(&mut deserializer)
            .map_err(|e| describe(&e))
            .and_then(|value| {
                deserializer
                    .end()
                    .map(|()| value)
                    .map_err(|e| (Status::BadRequest, format!("The body is not valid JSON: {e}")))
            });
        match parsed {
            Ok(value) => Outcome::Success(JsonBody(value)),
            Err((status, description)) => refuse(req, status, description),
        }
    }
}
