//! One line per request at `info` (target `gatehouse::request`): method,
//! path (never the query), status, time taken and a request id, which the
//! answer carries as `X-Request-Id`. The id is the one a trusted proxy sent
//! (`trusted_proxies`), when it is sane, or a new UUID. With `metrics =
//! true` the same timing feeds the request counter and latency histogram,
//! labelled with the route's template.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Header;
use rocket::{Data, Request, Response};

use crate::state::Gatehouse;

pub const HEADER: &str = "X-Request-Id";

/// Lines the fairing also hands to, when the Rocket manages one (tests).
#[derive(Clone, Default)]
pub struct RequestLines(pub Arc<Mutex<Vec<String>>>);

impl RequestLines {
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// When the request arrived and its id.
struct Started {
    at: Instant,
    id: String,
}

/// A proxy's id: 1 to 128 visible ASCII characters, no quotes or
/// backslashes (it goes into a log line and a header as it is).
fn sane(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
}

fn incoming_id(req: &Request<'_>) -> Option<String> {
    let id = req.headers().get_one(HEADER)?;
    let app = req.rocket().state::<Gatehouse>()?;
    let peer = req.remote()?.ip();
    (app.config.client_address.is_trusted(peer) && sane(id)).then(|| id.to_owned())
}

pub struct RequestLog;

#[rocket::async_trait]
impl Fairing for RequestLog {
    fn info(&self) -> Info {
        Info {
            name: "Gatehouse request log",
            kind: Kind::Request | Kind::Response,
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        let id = incoming_id(req).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        req.local_cache(|| Started {
            at: Instant::now(),
            id,
        });
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let started = req.local_cache(|| Started {
            at: Instant::now(),
            id: uuid::Uuid::new_v4().to_string(),
        });
        let elapsed = started.at.elapsed();
        let status = res.status().code;
        res.set_header(Header::new(HEADER, started.id.clone()));
        // Before a denial rewrote it, the request as sent.
        let (method, path) = match super::deny::original(req) {
            Some(o) => (o.method, o.uri.split('?').next().unwrap_or_default().to_owned()),
            None => (req.method(), req.uri().path().to_string()),
        };
        let app = req.rocket().state::<Gatehouse>();
        if let Some(metrics) = app.and_then(|a| a.metrics.as_ref()) {
            let route = req.route().map_or("unmatched", |r| r.uri.path());
            metrics.request(route, status, elapsed.as_secs_f64());
        }
        let record = log::log_enabled!(target: "gatehouse::request", log::Level::Info);
        let lines = req.rocket().state::<RequestLines>();
        if !record && lines.is_none() {
            return;
        }
        let line = format!(
            "{method} {path} {status} {:.1}ms id={}",
            elapsed.as_secs_f64() * 1000.0,
            started.id
        );
        log::info!(target: "gatehouse::request", "{line}");
        if let Some(lines) = lines {
            lines.0.lock().unwrap_or_else(|e| e.into_inner()).push(line);
        }
    }
}
