//! The client's address, worked out once per request: the TCP peer's, or,
//! from a trusted proxy, the one its `ip_header` names (see
//! [`ClientAddress`](crate::config::proxy::ClientAddress)). Sessions, the
//! audit log and every per-IP limit take it from here; never from Rocket's
//! `client_ip()`, which believes `X-Real-IP` from anyone by default.

use std::net::IpAddr;

use rocket::request::{FromRequest, Outcome, Request};

use crate::state::Gatehouse;

/// The client's address (`None` for a request without a peer, such as a
/// local test client's). Always succeeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

/// This request's client address, cached.
pub fn client_ip(req: &Request<'_>) -> Option<IpAddr> {
    req.local_cache(|| ClientIp(resolve(req))).0
}

/// The client address as sessions and the audit log store it (empty when
/// there is none).
pub fn as_stored(req: &Request<'_>) -> String {
    client_ip(req).map(|ip| ip.to_string()).unwrap_or_default()
}

fn resolve(req: &Request<'_>) -> Option<IpAddr> {
    let peer = req.remote().map(|addr| addr.ip());
    let Some(app) = req.rocket().state::<Gatehouse>() else {
        return peer;
    };
    let rule = &app.config.client_address;
    // Every line of the header, as one list: a proxy that adds its own line
    // (HAProxy's `option forwardfor`) leaves the client's first.
    let header = rule.header.as_deref().and_then(|name| {
        let lines: Vec<&str> = req.headers().get(name).collect();
        (!lines.is_empty()).then(|| lines.join(","))
    });
    rule.resolve(peer, header.as_deref())
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClientIp {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(ClientIp(client_ip(req)))
    }
}
