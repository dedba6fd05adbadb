//! Prometheus metrics (`metrics = true`), on a low floor so the services,
//! the limiter and the request fairing can count. Off (the default), there
//! is no [`Metrics`] at all: each count is a check of an `Option` that is
//! `None`, and `/metrics` is not mounted.
//!
//! Labels are bounded: a route is Rocket's URI template (`/api/v1/users/<id>`),
//! never the path asked for; a method is one of Gatehouse's own names.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// A request's route template and its answer's status.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteStatus {
    pub route: String,
    pub status: u16,
}

/// A request's route template (for the latency histogram).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Route {
    pub route: String,
}

/// How someone signed in (or tried): `password`, `google`, `passkey`,
/// `two-factor`, `refresh`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Method {
    pub method: &'static str,
}

/// Which database pool (`writer`, or SQLite's `reader`s).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Pool {
    pub pool: &'static str,
}

/// Every family, registered under `gatehouse_`.
pub struct Metrics {
    registry: Registry,
    requests: Family<RouteStatus, Counter>,
    latency: Family<Route, Histogram>,
    sign_ins: Family<Method, Counter>,
    sign_in_failures: Family<Method, Counter>,
    lockouts: Counter,
    rate_limited: Counter,
    refresh_reuse: Counter,
    /// Set when scraped (from the hasher's own count).
    pub hash_queue: Gauge,
    /// Set when scraped (from r2d2's state).
    pub pool_in_use: Family<Pool, Gauge>,
    pub pool_idle: Family<Pool, Gauge>,
}

fn latency_histogram() -> Histogram {
    // 1 ms to about 16 s: a page, and a sign-in waiting for bcrypt.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("gatehouse");
        let requests = Family::<RouteStatus, Counter>::default();
        let latency =
            Family::<Route, Histogram>::new_with_constructor(latency_histogram as fn() -> Histogram);
        let sign_ins = Family::<Method, Counter>::default();
        let sign_in_failures = Family::<Method, Counter>::default();
        let (lockouts, rate_limited, refresh_reuse) =
            (Counter::default(), Counter::default(), Counter::default());
        let hash_queue = Gauge::default();
        let (pool_in_use, pool_idle) = (Family::default(), Family::default());
        registry.register(
            "http_requests",
            "HTTP requests by route template and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer, by route template",
            latency.clone(),
        );
        registry.register("sign_ins", "Sign-ins by method", sign_ins.clone());
        registry.register(
            "sign_in_failures",
            "Refused sign-ins by method",
            sign_in_failures.clone(),
        );
        registry.register("lockouts", "Accounts locked after failures", lockouts.clone());
        registry.register(
            "rate_limited",
            "Sign-in attempts refused by the per-address limit",
            rate_limited.clone(),
        );
        registry.register(
            "refresh_reuse",
            "Replaced refresh tokens presented again (session revoked)",
            refresh_reuse.clone(),
        );
        registry.register(
            "password_queue",
            "Password checks waiting for a bcrypt thread",
            hash_queue.clone(),
        );
        registry.register(
            "db_connections_in_use",
            "Database connections checked out",
            pool_in_use.clone(),
        );
        registry.register(
            "db_connections_idle",
            "Database connections open and idle",
            pool_idle.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            sign_ins,
            sign_in_failures,
            lockouts,
            rate_limited,
            refresh_reuse,
            hash_queue,
            pool_in_use,
            pool_idle,
        }
    }

    /// One answered request.
    pub fn request(&self, route: &str, status: u16, seconds: f64) {
        let labels = RouteStatus {
            route: route.to_owned(),
            status,
        };
        self.requests.get_or_create(&labels).inc();
        let route = Route { route: labels.route };
        self.latency.get_or_create(&route).observe(seconds);
    }

    pub fn sign_in(&self, method: &'static str) {
        self.sign_ins.get_or_create(&Method { method }).inc();
    }

    pub fn sign_in_failed(&self, method: &'static str) {
        self.sign_in_failures.get_or_create(&Method { method }).inc();
    }

    pub fn lockout(&self) {
        self.lockouts.inc();
    }

    pub fn rate_limited(&self) {
        self.rate_limited.inc();
    }

    pub fn refresh_reused(&self) {
        self.refresh_reuse.inc();
    }

    /// The text exposition format (with `# EOF`).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String can't fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// The method label of a session's `method` (`password+otp` and the like
/// are `two-factor`).
pub fn method_label(session_method: &str) -> &'static str {
    match session_method {
        "password" => "password",
        "google" => "google",
        "passkey" => "passkey",
        m if m.contains('+') => "two-factor",
        _ => "other",
    }
}
