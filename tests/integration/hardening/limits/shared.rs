//! The per-IP sign-in limit holds across instances on one PostgreSQL
//! database (kept in the database); on SQLite it is each instance's own
//! (in memory). `TestApp::client` and `TestApp::bare` are two instances of
//! the app on one database.

use std::net::IpAddr;

use gatehouse::Gatehouse;
use rocket::http::Status;
use rocket::local::asynchronous::Client;

use super::api_sign_in;
use crate::common::{Backend, TestApp};
use crate::db_tests;

fn state(client: &Client) -> &Gatehouse {
    client.rocket().state().expect("Gatehouse state")
}

db_tests!(instances_on_one_database_share_the_limit);

async fn instances_on_one_database_share_the_limit(app: TestApp) {
    let backend = app.backend;
    drop(app);
    let app = TestApp::spawn_with(backend, |f| f.merge(("login.rate_limit_per_minute", 3)))
        .await
        .unwrap();
    let peer = "198.51.100.50:1";
    let (one, two) = (&app.client, &app.bare);
    for client in [one, two, one] {
        let status = api_sign_in(client, peer, None, "nobody@example.com", "wrong guess").await;
        assert_eq!(status, Status::Unauthorized);
    }
    let fourth = api_sign_in(two, peer, None, "nobody@example.com", "wrong guess").await;
    let fifth = api_sign_in(one, peer, None, "nobody@example.com", "wrong guess").await;
    match backend {
        Backend::Postgres => {
            assert_eq!(
                fourth,
                Status::TooManyRequests,
                "the other instance counted the first three"
            );
            assert_eq!(fifth, Status::TooManyRequests);
        }
        // Each instance counts its own: two and three attempts so far.
        Backend::Sqlite => {
            assert_eq!(fourth, Status::Unauthorized);
            assert_eq!(fifth, Status::Unauthorized);
        }
    }
    // Passkey starts (five times the attempts) are shared the same way.
    let ip: Option<IpAddr> = Some("198.51.100.51".parse().unwrap());
    for i in 0..15 {
        let instance = if i % 2 == 0 { one } else { two };
        assert!(
            state(instance).limiter.check_start(ip).await.unwrap(),
            "start {i}"
        );
    }
    let sixteenth = state(two).limiter.check_start(ip).await.unwrap();
    assert_eq!(sixteenth, backend == Backend::Sqlite);
    // Another address is not affected.
    assert!(state(one)
        .limiter
        .check_start(Some("198.51.100.52".parse().unwrap()))
        .await
        .unwrap());
    assert_eq!(state(one).limiter.is_shared(), backend == Backend::Postgres);
}
