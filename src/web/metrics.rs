//! `GET /metrics`: the Prometheus text format, mounted only with `metrics =
//! true`. Open under `deny_by_default` (a scraper has no token): keep it
//! from the public at the proxy (`deploy/nginx.conf`).

use rocket::http::ContentType;
use rocket::{get, routes, Route, State};

use crate::state::Gatehouse;

/// The text format's content type (Prometheus 0.0.4, which OpenMetrics
/// scrapers read too).
fn text_format() -> ContentType {
    ContentType::new("text", "plain").with_params([("version", "0.0.4"), ("charset", "utf-8")])
}

/// The gauges read at scrape time (the password queue, the pools), then
/// every family.
#[get("/metrics")]
async fn metrics(app: &State<Gatehouse>) -> Option<(ContentType, String)> {
    let metrics = app.metrics.as_ref()?;
    metrics.hash_queue.set(app.passwords.queued() as i64);
    for (pool, in_use, idle) in app.db.pool_use() {
        let labels = crate::metrics::Pool { pool };
        metrics.pool_in_use.get_or_create(&labels).set(in_use.into());
        metrics.pool_idle.get_or_create(&labels).set(idle.into());
    }
    Some((text_format(), metrics.encode()))
}

pub fn routes() -> Vec<Route> {
    routes![metrics]
}
