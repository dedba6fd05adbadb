//! Operations: Prometheus metrics at `/metrics` and one log line per request.
//!
//! - [`metrics`]: off is a 404; on, every family moves (a scrape parsed from
//!   the text format), and `/metrics` stays open under `deny_by_default`;
//! - [`request_log`]: the line per request and its `X-Request-Id`.

mod metrics;
mod request_log;

use std::collections::BTreeMap;

use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use serde_json::Value;

use crate::common::{Backend, TestApp};

/// The app with `metrics = true` and `adjust`ed settings.
async fn with_metrics(
    backend: Backend,
    adjust: impl Fn(rocket::figment::Figment) -> rocket::figment::Figment,
) -> TestApp {
    TestApp::spawn_with(backend, |f| adjust(f.merge(("metrics", true))))
        .await
        .expect("the app with metrics starts")
}

/// One scrape: each sample's `name{label="value",...}` (labels sorted) and
/// its value. Comment lines are checked for shape; a sample line that does
/// not parse fails the test.
struct Scrape(BTreeMap<String, f64>);

impl Scrape {
    async fn of(client: &Client) -> Scrape {
        let res = client.get("/metrics").dispatch().await;
        assert_eq!(res.status(), Status::Ok);
        let ct = res.content_type().expect("a content type");
        assert!(ct.is_text(), "{ct}");
        Scrape::parse(&res.into_string().await.unwrap())
    }

    fn parse(text: &str) -> Scrape {
        let mut samples = BTreeMap::new();
        for line in text.lines().filter(|l| !l.is_empty()) {
            if let Some(comment) = line.strip_prefix('#') {
                let word = comment.split_whitespace().next().unwrap_or_default();
                assert!(matches!(word, "HELP" | "TYPE" | "UNIT" | "EOF"), "{line}");
                continue;
            }
            let (series, value) = line.rsplit_once(' ').expect("a sample line: series value");
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("a number in {line}"));
            samples.insert(normalise(series), value);
        }
        Scrape(samples)
    }

    /// A sample's value (0 when the series is not there yet).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.0.get(&key(name, labels)).copied().unwrap_or(0.0)
    }

    fn has(&self, name: &str, labels: &[(&str, &str)]) -> bool {
        self.0.contains_key(&key(name, labels))
    }

    fn names(&self) -> impl Iterator<Item = &String> {
        self.0.keys()
    }
}

fn key(name: &str, labels: &[(&str, &str)]) -> String {
    let mut labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    labels.sort();
    if labels.is_empty() {
        name.to_owned()
    } else {
        format!("{name}{{{}}}", labels.join(","))
    }
}

/// `name{b="2",a="1"}` -> `name{a="1",b="2"}`.
fn normalise(series: &str) -> String {
    let Some((name, rest)) = series.split_once('{') else {
        return series.to_owned();
    };
    let inner = rest.strip_suffix('}').expect("labels end with }");
    let mut labels: Vec<&str> = inner.split(',').filter(|l| !l.is_empty()).collect();
    for label in &labels {
        let (_, value) = label.split_once('=').expect("label=value");
        assert!(value.starts_with('"') && value.ends_with('"'), "{series}");
    }
    labels.sort();
    format!("{name}{{{}}}", labels.join(","))
}

async fn post_json<'c>(client: &'c Client, uri: &str, body: Value) -> LocalResponse<'c> {
    client
        .post(uri.to_owned())
        .header(ContentType::JSON)
        .header(Header::new("Accept", "application/json"))
        .body(body.to_string())
        .dispatch()
        .await
}
