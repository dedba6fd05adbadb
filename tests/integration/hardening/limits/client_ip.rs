//! The client address is the TCP peer's unless `ip_header` is set and the
//! peer is a trusted proxy: a client can't pick its own address to escape
//! the per-IP limit or to write a false one into the audit log.

use gatehouse::config::Config;
use gatehouse::domain::Role;
use rocket::http::Status;

use super::api_sign_in;
use crate::common::{figment, TestApp, PASSWORD};
use crate::{db_tests, tests};

db_tests!(
    a_forged_header_is_ignored_without_ip_header,
    ip_header_is_believed_from_trusted_proxies_only,
    every_line_of_a_forwarded_header_counts,
);
tests!(sync: a_bad_trusted_proxy_stops_the_launch);

/// The audit log's (kind, ip) pairs, oldest first.
async fn audit_ips(app: &TestApp) -> Vec<(String, String)> {
    let mut events = app
        .state()
        .db
        .run(|conn| gatehouse::db::audit::recent(conn, None, 100))
        .await
        .unwrap();
    events.reverse();
    events.into_iter().map(|e| (e.kind, e.ip)).collect()
}

/// No `ip_header` at all (no Rocket.toml: Rocket's own default would be
/// `X-Real-IP`): each attempt forges another address, and the limit still
/// holds; the audit log and the session show the peer.
async fn a_forged_header_is_ignored_without_ip_header(app: TestApp) {
    let backend = app.backend;
    drop(app);
    let app = TestApp::spawn_with(backend, |f| f.merge(("login.rate_limit_per_minute", 3)))
        .await
        .unwrap();
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let peer = "198.51.100.20:40000";
    for i in 0..3 {
        let forged = format!("10.9.9.{i}");
        let status = api_sign_in(
            &app.client,
            peer,
            Some(&forged),
            "nobody@example.com",
            "wrong guess",
        )
        .await;
        assert_eq!(status, Status::Unauthorized);
    }
    let status = api_sign_in(&app.client, peer, Some("10.9.9.99"), "ada@example.com", PASSWORD).await;
    assert_eq!(
        status,
        Status::TooManyRequests,
        "the forged addresses don't escape the limit"
    );
    let ips = audit_ips(&app).await;
    assert!(!ips.is_empty());
    for (kind, ip) in &ips {
        assert_eq!(
            ip, "198.51.100.20",
            "{kind} records the peer, not the forged header"
        );
    }
    // A session opened through a forged header has the peer's address.
    let status = api_sign_in(
        &app.client,
        "198.51.100.21:1",
        Some("10.9.9.1"),
        "ada@example.com",
        PASSWORD,
    )
    .await;
    assert_eq!(status, Status::Ok);
    let ip = app
        .state()
        .db
        .run(|conn| {
            use diesel::prelude::*;
            use gatehouse::db::schema::sessions;
            Ok(sessions::table.select(sessions::ip).first::<String>(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(ip, "198.51.100.21");
}

/// `ip_header = "X-Real-IP"`: believed from a trusted proxy (by default,
/// one on this host), ignored from anyone else; `trusted_proxies` replaces
/// the default.
async fn ip_header_is_believed_from_trusted_proxies_only(app: TestApp) {
    let backend = app.backend;
    drop(app);
    let app = TestApp::spawn_with(backend, |f| {
        f.merge(("login.rate_limit_per_minute", 2))
            .merge(("ip_header", "X-Real-IP"))
    })
    .await
    .unwrap();
    let (proxy, outsider) = ("127.0.0.1:50000", "198.51.100.30:40000");
    // Behind the proxy, each client has its own limit.
    for _ in 0..2 {
        assert_eq!(
            guess(&app, proxy, Some("203.0.113.1")).await,
            Status::Unauthorized
        );
    }
    assert_eq!(
        guess(&app, proxy, Some("203.0.113.1")).await,
        Status::TooManyRequests
    );
    assert_eq!(
        guess(&app, proxy, Some("203.0.113.2")).await,
        Status::Unauthorized
    );
    // From an untrusted peer the header is ignored: the peer is limited.
    for i in 0..2 {
        assert_eq!(
            guess(&app, outsider, Some(&format!("10.0.0.{i}"))).await,
            Status::Unauthorized
        );
    }
    assert_eq!(
        guess(&app, outsider, Some("10.0.0.9")).await,
        Status::TooManyRequests
    );
    let ips: Vec<String> = audit_ips(&app).await.into_iter().map(|(_, ip)| ip).collect();
    assert!(
        ips.contains(&"203.0.113.1".to_owned()) && ips.contains(&"203.0.113.2".to_owned()),
        "{ips:?}"
    );
    assert!(ips.contains(&"198.51.100.30".to_owned()), "{ips:?}");
    assert!(
        !ips.iter()
            .any(|ip| ip.starts_with("10.0.0.") || ip == "127.0.0.1"),
        "{ips:?}"
    );

    // With trusted_proxies naming another range, this host is no longer trusted.
    let other = TestApp::spawn_with(backend, |f| {
        f.merge(("ip_header", "X-Real-IP"))
            .merge(("trusted_proxies", ["10.1.0.0/16"]))
    })
    .await
    .unwrap();
    assert_eq!(
        guess(&other, proxy, Some("203.0.113.3")).await,
        Status::Unauthorized
    );
    assert_eq!(
        guess(&other, "10.1.2.3:443", Some("203.0.113.4")).await,
        Status::Unauthorized
    );
    let ips: Vec<String> = audit_ips(&other).await.into_iter().map(|(_, ip)| ip).collect();
    assert_eq!(ips, ["127.0.0.1", "203.0.113.4"]);
}

/// `ip_header = "X-Forwarded-For"` behind a proxy that adds its own line
/// (HAProxy's `option forwardfor`) instead of appending: the client's own
/// first line is not believed, the proxy's last one is.
async fn every_line_of_a_forwarded_header_counts(app: TestApp) {
    let backend = app.backend;
    drop(app);
    let app = TestApp::spawn_with(backend, |f| f.merge(("ip_header", "X-Forwarded-For")))
        .await
        .unwrap();
    let status = app
        .client
        .post("/api/v1/login")
        .remote("127.0.0.1:5000".parse().unwrap())
        .header(rocket::http::ContentType::JSON)
        .header(rocket::http::Header::new("X-Forwarded-For", "203.0.113.66"))
        .header(rocket::http::Header::new("X-Forwarded-For", "198.51.100.7"))
        .body(r#"{"email": "nobody@example.com", "password": "wrong guess"}"#)
        .dispatch()
        .await
        .status();
    assert_eq!(status, Status::Unauthorized);
    let ips: Vec<String> = audit_ips(&app).await.into_iter().map(|(_, ip)| ip).collect();
    assert_eq!(ips, ["198.51.100.7"], "the proxy's line, not the client's");
}

/// A wrong guess from `peer`, claiming to be `forged`.
async fn guess(app: &TestApp, peer: &str, forged: Option<&str>) -> Status {
    api_sign_in(&app.client, peer, forged, "nobody@example.com", "wrong guess").await
}

/// A bad range stops the launch, naming the key.
fn a_bad_trusted_proxy_stops_the_launch() {
    let bad = figment("sqlite://unused.db").merge(("trusted_proxies", ["10.0.0.0/8", "10.0.0.0/40"]));
    let err = Config::from_figment(&bad).unwrap_err();
    assert_eq!(err.key, "trusted_proxies[1]");
    let bad = figment("sqlite://unused.db").merge(("ip_header", "Real IP"));
    assert_eq!(Config::from_figment(&bad).unwrap_err().key, "ip_header");
}
