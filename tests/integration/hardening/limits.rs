//! See [`super`]: the client address ([`client_ip`]), bcrypt cost changes
//! ([`bcrypt_cost`]), the per-IP limit across instances ([`shared`]).

mod bcrypt_cost;
mod client_ip;
mod shared;

use std::net::SocketAddr;

use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::Client;

/// POSTs a JSON sign-in from `peer`, with `X-Real-IP: forged` if given;
/// the status.
pub async fn api_sign_in(
    client: &Client,
    peer: &str,
    forged: Option<&str>,
    email: &str,
    password: &str,
) -> Status {
    let mut req = client
        .post("/api/v1/login")
        .remote(peer.parse::<SocketAddr>().unwrap())
        .header(ContentType::JSON)
        .body(serde_json::json!({"email": email, "password": password}).to_string());
    if let Some(forged) = forged {
        req = req.header(Header::new("X-Real-IP", forged.to_owned()));
    }
    req.dispatch().await.status()
}
