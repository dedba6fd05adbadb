//! Reaching the provider and configuring it: settings checked at launch, the
//! discovery document, a provider that never answers.

use std::time::{Duration, Instant};

use rocket::http::Status;

use super::provider::{Provider, REDIRECT_URI};
use super::{assert_refused, spawn};
use crate::backend_tests;
use crate::common::{Backend, TestApp};
use crate::tests;

backend_tests!(discovery_is_checked);

tests!(
    a_provider_that_never_answers_fails_in_bounded_time,
    configuration_is_checked_at_launch
);

async fn discovery_is_checked(backend: Backend) {
    // A discovery document naming another issuer.
    let provider = Provider::start();
    provider.set(|s| s.discovery_issuer = Some("https://accounts.google.com".into()));
    let app = spawn(backend, &provider, &[]).await;
    let body = assert_refused(
        app.get("/auth/google").await,
        Status::BadGateway,
        "provider_unreachable",
    )
    .await;
    assert!(
        !body.contains("accounts.google.com"),
        "details are logged, not shown"
    );
    // A redirect is not followed.
    let provider = Provider::start();
    provider.set(|s| s.redirect_discovery = true);
    let app = spawn(backend, &provider, &[]).await;
    assert_refused(
        app.get("/auth/google").await,
        Status::BadGateway,
        "provider_unreachable",
    )
    .await;
}

async fn a_provider_that_never_answers_fails_in_bounded_time() {
    let silent = super::provider::silent_server();
    let app = TestApp::spawn_with(Backend::Sqlite, |f| {
        Provider {
            issuer: silent.clone(),
            state: Provider::start().state,
        }
        .configure(f)
        .merge(("google.timeout", 2))
    })
    .await
    .unwrap();
    let began = Instant::now();
    let (slow, health_done) = rocket::tokio::join!(
        async {
            let res = app.get("/auth/google").await;
            (res.status(), res.into_string().await.unwrap(), Instant::now())
        },
        async {
            rocket::tokio::time::sleep(Duration::from_millis(200)).await;
            assert_eq!(app.bare.get("/health").dispatch().await.status(), Status::Ok);
            Instant::now()
        }
    );
    let (status, body, slow_done) = slow;
    assert_eq!(status, Status::BadGateway);
    assert!(body.contains("data-code=\"provider_timeout\""), "{body}");
    assert!(body.contains("did not answer in time"), "{body}");
    assert!(
        began.elapsed() < Duration::from_secs(8),
        "bounded by the 2-second timeout"
    );
    // Meanwhile, the next sign-in fails at once rather than waiting again.
    let again = Instant::now();
    assert_eq!(app.get("/auth/google").await.status(), Status::BadGateway);
    assert!(
        again.elapsed() < Duration::from_millis(1900),
        "the failure is remembered for a few seconds"
    );
    assert!(health_done < slow_done, "other requests are served meanwhile");
}

async fn configuration_is_checked_at_launch() {
    // No provider: no button, and the routes say so.
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let login = app.get("/login").await.into_string().await.unwrap();
    assert!(!login.contains("google-sign-in"));
    assert_eq!(app.get("/auth/google").await.status(), Status::BadRequest);
    drop(app);
    // Half configured: the launch stops, naming the missing key.
    let (_db, url) = crate::common::TestDb::new(Backend::Sqlite).unwrap();
    let half = crate::common::figment(&url).merge(("google.client_id", "only-the-id"));
    let err = gatehouse::config::Config::from_figment(&half).unwrap_err();
    assert_eq!(err.key, "google.client_secret");
    assert!(
        err.to_string().contains("GATEHOUSE_GOOGLE__CLIENT_SECRET"),
        "{err}"
    );
    match rocket::local::asynchronous::Client::untracked(gatehouse::build(half)).await {
        Ok(_) => panic!("a half-configured provider must stop the launch"),
        Err(e) => assert!(
            matches!(e.kind(), rocket::error::ErrorKind::FailedFairings(_)),
            "{e}"
        ),
    }
    let plain_http = crate::common::figment(&url)
        .merge(("google.client_id", "id"))
        .merge(("google.client_secret", "secret"))
        .merge(("google.redirect_uri", REDIRECT_URI))
        .merge(("google.issuer", "http://accounts.example.com"));
    assert_eq!(
        gatehouse::config::Config::from_figment(&plain_http)
            .unwrap_err()
            .key,
        "google.issuer",
        "plain http off loopback"
    );
    let with_registration = crate::common::figment(&url)
        .merge(("google.client_id", "id"))
        .merge(("google.client_secret", "secret"))
        .merge(("google.redirect_uri", REDIRECT_URI))
        .merge(("google.link_by_email", true))
        .merge(("registration", true));
    assert_eq!(
        gatehouse::config::Config::from_figment(&with_registration)
            .unwrap_err()
            .key,
        "google.link_by_email",
        "linking by email with self-registered accounts"
    );
}
