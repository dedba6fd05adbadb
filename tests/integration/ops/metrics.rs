//! `/metrics`: a 404 when off; when on, the counters move with what happens,
//! labelled with route templates, and the scrape needs no token.

use gatehouse::domain::Role;
use rocket::http::Status;
use serde_json::json;

use super::{post_json, with_metrics, Scrape};
use crate::backend_tests;
use crate::common::{Backend, TestApp, PASSWORD};

backend_tests!(
    off_by_default_is_a_404,
    sign_ins_failures_and_lockouts_count,
    refresh_and_reuse_count,
    rate_limit_refusals_count,
    requests_count_by_route_template,
    open_under_deny_by_default,
);

async fn off_by_default_is_a_404(backend: Backend) {
    let app = TestApp::spawn(backend).await.expect("the app starts");
    assert!(app.state().metrics.is_none());
    assert_eq!(app.get("/metrics").await.status(), Status::NotFound);
    // Said so, too.
    let app = TestApp::spawn_with(backend, |f| f.merge(("metrics", false)))
        .await
        .unwrap();
    assert_eq!(app.get("/metrics").await.status(), Status::NotFound);
}

async fn sign_ins_failures_and_lockouts_count(backend: Backend) {
    let app = with_metrics(backend, |f| f.merge(("login.max_failures", 2))).await;
    app.create_user("ada@example.com", "Ada", Role::User).await;
    app.create_user("bob@example.com", "Bob", Role::User).await;
    let before = Scrape::of(&app.client).await;
    let signed = |s: &Scrape, m: &str| s.value("gatehouse_sign_ins_total", &[("method", m)]);
    let failed = |s: &Scrape, m: &str| s.value("gatehouse_sign_in_failures_total", &[("method", m)]);
    assert_eq!(signed(&before, "password"), 0.0);
    assert_eq!(before.value("gatehouse_lockouts_total", &[]), 0.0);
    assert!(
        before.has("gatehouse_lockouts_total", &[]),
        "unlabelled counters are there from the start"
    );

    let login = |email: &'static str, password: &'static str| {
        post_json(
            &app.client,
            "/api/v1/login",
            json!({"email": email, "password": password}),
        )
    };
    assert_eq!(login("ada@example.com", PASSWORD).await.status(), Status::Ok);
    assert_eq!(
        login("bob@example.com", "wrong guess").await.status(),
        Status::Unauthorized
    );
    let after = Scrape::of(&app.client).await;
    assert_eq!(signed(&after, "password"), 1.0);
    assert_eq!(failed(&after, "password"), 1.0);
    assert_eq!(after.value("gatehouse_lockouts_total", &[]), 0.0);

    // The second wrong guess locks Bob's account.
    assert_eq!(
        login("bob@example.com", "wrong again").await.status(),
        Status::Unauthorized
    );
    let locked = Scrape::of(&app.client).await;
    assert_eq!(locked.value("gatehouse_lockouts_total", &[]), 1.0);
    assert_eq!(failed(&locked, "password"), 2.0);
    // A right guess on the locked account is a failure, not a sign-in.
    assert_eq!(
        login("bob@example.com", PASSWORD).await.status(),
        Status::Unauthorized
    );
    let later = Scrape::of(&app.client).await;
    assert_eq!(failed(&later, "password"), 3.0);
    assert_eq!(signed(&later, "password"), 1.0);
    assert_eq!(later.value("gatehouse_lockouts_total", &[]), 1.0);
}

async fn refresh_and_reuse_count(backend: Backend) {
    let app = with_metrics(backend, |f| f).await;
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let res = post_json(
        &app.client,
        "/api/v1/login",
        json!({"email": "ada@example.com", "password": PASSWORD}),
    )
    .await;
    assert_eq!(res.status(), Status::Ok);
    let body: serde_json::Value = res.into_json().await.unwrap();
    let rt1 = body["refresh_token"].as_str().unwrap().to_owned();
    let res = post_json(&app.client, "/api/v1/refresh", json!({"refresh_token": rt1})).await;
    assert_eq!(res.status(), Status::Ok);
    let scrape = Scrape::of(&app.client).await;
    assert_eq!(
        scrape.value("gatehouse_sign_ins_total", &[("method", "refresh")]),
        1.0
    );
    assert_eq!(scrape.value("gatehouse_refresh_reuse_total", &[]), 0.0);
    // The replaced token again, past the grace window: a reuse.
    app.age_sessions(3600).await;
    let res = post_json(&app.client, "/api/v1/refresh", json!({"refresh_token": rt1})).await;
    assert_eq!(res.status(), Status::Unauthorized);
    let scrape = Scrape::of(&app.client).await;
    assert_eq!(scrape.value("gatehouse_refresh_reuse_total", &[]), 1.0);
    assert_eq!(
        scrape.value("gatehouse_sign_in_failures_total", &[("method", "refresh")]),
        1.0
    );
    assert_eq!(
        scrape.value("gatehouse_sign_ins_total", &[("method", "refresh")]),
        1.0
    );
}

async fn rate_limit_refusals_count(backend: Backend) {
    let app = with_metrics(backend, |f| f.merge(("login.rate_limit_per_minute", 2))).await;
    let attempt = || {
        post_json(
            &app.client,
            "/api/v1/login",
            json!({"email": "nobody@example.com", "password": "guess"}),
        )
    };
    assert_eq!(attempt().await.status(), Status::Unauthorized);
    assert_eq!(attempt().await.status(), Status::Unauthorized);
    assert_eq!(
        Scrape::of(&app.client)
            .await
            .value("gatehouse_rate_limited_total", &[]),
        0.0
    );
    assert_eq!(attempt().await.status(), Status::TooManyRequests);
    assert_eq!(attempt().await.status(), Status::TooManyRequests);
    let scrape = Scrape::of(&app.client).await;
    assert_eq!(scrape.value("gatehouse_rate_limited_total", &[]), 2.0);
    assert_eq!(
        scrape.value(
            "gatehouse_http_requests_total",
            &[("route", "/api/v1/login"), ("status", "429")]
        ),
        2.0
    );
}

async fn requests_count_by_route_template(backend: Backend) {
    let app = with_metrics(backend, |f| f).await;
    let user = app.create_user("ada@example.com", "Ada", Role::Admin).await;
    for _ in 0..3 {
        assert_eq!(app.get("/health").await.status(), Status::Ok);
    }
    // Three different paths, one template; a query never makes a label.
    for path in ["/no/such/page?x=1", "/another/missing", "/health?probe=1"] {
        app.get(path).await;
    }
    let admin_path = format!("/api/v1/admin/users/{}", user.id);
    let admin_res = app.client.get(admin_path.clone()).dispatch().await;
    let admin_status = admin_res.status().code.to_string();
    let scrape = Scrape::of(&app.client).await;
    let requests = |route: &str, status: &str| {
        scrape.value(
            "gatehouse_http_requests_total",
            &[("route", route), ("status", status)],
        )
    };
    assert_eq!(requests("/health", "200"), 4.0);
    assert_eq!(requests("unmatched", "404"), 2.0);
    let templated: Vec<&String> = scrape
        .names()
        .filter(|n| n.starts_with("gatehouse_http_requests_total") && n.contains("/api/v1/admin/users/"))
        .collect();
    assert_eq!(templated.len(), 1, "{templated:?}");
    assert!(
        templated[0].contains(&format!("status=\"{admin_status}\"")),
        "{templated:?}"
    );
    assert!(
        !templated[0].contains(&admin_path),
        "the id is not a label: {templated:?}"
    );
    // The latency histogram: one observation per request, in buckets.
    let count = scrape.value(
        "gatehouse_http_request_duration_seconds_count",
        &[("route", "/health")],
    );
    assert_eq!(count, 4.0);
    let inf = scrape.value(
        "gatehouse_http_request_duration_seconds_bucket",
        &[("route", "/health"), ("le", "+Inf")],
    );
    assert_eq!(inf, 4.0);
    assert!(scrape.has(
        "gatehouse_http_request_duration_seconds_sum",
        &[("route", "/health")]
    ));
    assert!(scrape
        .names()
        .all(|n| !n.contains("no/such") && !n.contains("probe")));
    // Gauges read at scrape time: the password queue and the pools.
    assert!(scrape.has("gatehouse_password_queue", &[]));
    assert!(scrape.has("gatehouse_db_connections_in_use", &[("pool", "writer")]));
    assert!(scrape.has("gatehouse_db_connections_idle", &[("pool", "writer")]));
    let open = scrape.value("gatehouse_db_connections_in_use", &[("pool", "writer")])
        + scrape.value("gatehouse_db_connections_idle", &[("pool", "writer")]);
    assert!(open >= 1.0, "at least one writer connection is open: {open}");
}

async fn open_under_deny_by_default(backend: Backend) {
    let app = with_metrics(backend, |f| f.merge(("deny_by_default", true))).await;
    let me = app.client.get("/api/v1/me").dispatch().await;
    assert_eq!(me.status(), Status::Unauthorized);
    let scrape = Scrape::of(&app.client).await;
    assert!(scrape.has("gatehouse_lockouts_total", &[]));
    // Off, under deny_by_default: a 404, not a 401.
    let off = TestApp::spawn_with(backend, |f| f.merge(("deny_by_default", true)))
        .await
        .expect("the app starts");
    assert_eq!(off.get("/metrics").await.status(), Status::NotFound);
}
