//! Guessing is limited: a lockout after repeated failures (kept in the
//! database), the per-address rate limit on every sign-in endpoint, and
//! simultaneous guesses all counted.

use gatehouse::domain::Role;
use rocket::http::{ContentType, Status};

use crate::common::{TestApp, PASSWORD};
use crate::db_tests;

db_tests!(
    lockout_after_repeated_failures,
    rate_limit_per_address,
    concurrent_failures_all_count,
);

async fn lockout_after_repeated_failures(app: TestApp) {
    let backend = app.backend;
    drop(app);
    let app = TestApp::spawn_with(backend, |f| f.merge(("login.max_failures", 3)))
        .await
        .unwrap();
    let user = app.create_user("ada@example.com", "Ada", Role::User).await;
    for _ in 0..3 {
        let res = app.sign_in_form("ada@example.com", "wrong guess 1", &[]).await;
        assert_eq!(res.status(), Status::Unauthorized);
    }
    // Locked: even the right password gets the same answer as an unknown
    // email, so the lock reveals nothing.
    let locked = app.sign_in_form("ada@example.com", PASSWORD, &[]).await;
    assert_eq!(locked.status(), Status::Unauthorized);
    let locked = locked.into_string().await.unwrap();
    let unknown = app
        .sign_in_form("nobody@example.com", PASSWORD, &[])
        .await
        .into_string()
        .await
        .unwrap();
    let strip = |body: &str, email: &str| {
        body.replace(email, "EMAIL")
            .lines()
            .filter(|l| !l.contains("csrf_token"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        strip(&locked, "ada@example.com"),
        strip(&unknown, "nobody@example.com")
    );
    assert!(app.access_cookie().is_none());
    let kinds = app.audit_kinds().await;
    assert_eq!(kinds.iter().filter(|k| *k == "account_locked").count(), 1);

    // The lock lives in the database: another instance agrees.
    let res = app
        .bare
        .post("/api/v1/login")
        .header(ContentType::JSON)
        .body(serde_json::json!({"email": "ada@example.com", "password": PASSWORD}).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Unauthorized);

    // Lockouts expire.
    app.state()
        .db
        .run(move |conn| {
            use diesel::prelude::*;
            use gatehouse::db::schema::users;
            diesel::update(users::table.find(user.id))
                .set(users::locked_until.eq(gatehouse::domain::now() - 1))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    app.sign_in("ada@example.com").await;

    // And an admin can lift one early.
    for _ in 0..3 {
        app.sign_in_form("ada@example.com", "wrong guess 2", &[]).await;
    }
    assert_eq!(
        app.sign_in_form("ada@example.com", PASSWORD, &[]).await.status(),
        Status::Unauthorized
    );
    app.state()
        .db
        .run(move |conn| gatehouse::db::user::User::unlock(conn, user.id))
        .await
        .unwrap();
    app.sign_in("ada@example.com").await;
}

async fn rate_limit_per_address(app: TestApp) {
    let backend = app.backend;
    drop(app);
    let app = TestApp::spawn_with(backend, |f| f.merge(("login.rate_limit_per_minute", 3)))
        .await
        .unwrap();
    app.create_user("ada@example.com", "Ada", Role::User).await;
    for _ in 0..3 {
        app.sign_in_form("nobody@example.com", "wrong guess", &[]).await;
    }
    // The fourth attempt from this address is refused, on every sign-in
    // endpoint, whatever the account and even with the right password.
    let res = app.sign_in_form("ada@example.com", PASSWORD, &[]).await;
    assert_eq!(res.status(), Status::TooManyRequests);
    assert!(res
        .into_string()
        .await
        .unwrap()
        .contains("Too many sign-in attempts"));
    let res = app
        .client
        .post("/api/v1/login")
        .header(ContentType::JSON)
        .body(serde_json::json!({"email": "ada@example.com", "password": PASSWORD}).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::TooManyRequests);
    let res = app
        .client
        .post("/auth")
        .header(ContentType::JSON)
        .body(serde_json::json!({"username": "ada@example.com", "password": PASSWORD}).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::TooManyRequests);
    let kinds = app.audit_kinds().await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "rate_limited").count(),
        1,
        "one audit event, not one per attempt"
    );
}

/// Guesses sent at once are all counted (no lost update) and none fails
/// with a server error; the account ends up locked.
async fn concurrent_failures_all_count(app: TestApp) {
    let backend = app.backend;
    drop(app);
    let app = TestApp::spawn_with(backend, |f| {
        f.merge(("login.max_failures", 4))
            .merge(("login.rate_limit_per_minute", 100))
    })
    .await
    .unwrap();
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let attempts = (0..4).map(|i| {
        app.bare
            .post("/api/v1/login")
            .header(ContentType::JSON)
            .body(
                serde_json::json!({"email": "ada@example.com", "password": format!("wrong guess {i}")})
                    .to_string(),
            )
            .dispatch()
    });
    for res in rocket::futures::future::join_all(attempts).await {
        assert_eq!(res.status(), Status::Unauthorized);
    }
    let res = app
        .bare
        .post("/api/v1/login")
        .header(ContentType::JSON)
        .body(serde_json::json!({"email": "ada@example.com", "password": PASSWORD}).to_string())
        .dispatch()
        .await;
    assert_eq!(
        res.status(),
        Status::Unauthorized,
        "locked after exactly four failures"
    );
    assert_eq!(
        app.audit_kinds()
            .await
            .iter()
            .filter(|k| *k == "account_locked")
            .count(),
        1
    );
}
