//! The JSON API (`/api/v1/...`, `/auth`) and the token locations, as an API
//! client uses them.
//!
//! - [`session`]: login, `me`, `private`, logout (here and everywhere),
//!   Flask-JWT's `/auth`, the password change;
//! - [`refresh`]: `/api/v1/refresh`: rotation, reuse, CSRF with cookies, the
//!   absolute lifetime;
//! - [`own_routes`]: an app's own routes behind `FreshLogin`, `JwtOptional`,
//!   `CurrentUser` with additional claims, and the `testing` module;
//! - [`settings`]: token locations, required claims, CSRF methods;
//! - [`openapi`]: the OpenAPI document, validated, and the fuzzer against a live server;
//! - [`flask`]: what people porting from Flask expect.

mod flask;
pub mod openapi;
mod own_routes;
mod refresh;
mod session;
mod settings;

use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use serde_json::{json, Value};

use crate::common::PASSWORD;

async fn post_json<'c>(
    client: &'c Client,
    uri: &str,
    body: Value,
    bearer: Option<&str>,
) -> LocalResponse<'c> {
    let mut req = client
        .post(uri.to_owned())
        .header(ContentType::JSON)
        .body(body.to_string());
    if let Some(token) = bearer {
        req = req.header(Header::new("Authorization", format!("Bearer {token}")));
    }
    req.dispatch().await
}

async fn get_bearer<'c>(client: &'c Client, uri: &str, token: &str) -> LocalResponse<'c> {
    client
        .get(uri.to_owned())
        .header(Header::new("Authorization", format!("Bearer {token}")))
        .header(Header::new("Accept", "application/json"))
        .dispatch()
        .await
}

async fn json_of(res: LocalResponse<'_>) -> Value {
    res.into_json().await.expect("a JSON body")
}

async fn api_login(client: &Client, email: &str) -> (String, String) {
    let res = post_json(
        client,
        "/api/v1/login",
        json!({"email": email, "password": PASSWORD}),
        None,
    )
    .await;
    assert_eq!(res.status(), Status::Ok);
    let body = json_of(res).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    (
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    )
}
