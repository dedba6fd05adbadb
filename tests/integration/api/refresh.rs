//! `/api/v1/refresh`: rotation and reuse, CSRF when the refresh token is a
//! cookie, and the session's absolute lifetime.

use gatehouse::domain::Role;
use rocket::http::{Header, Status};
use serde_json::json;

use super::{api_login, get_bearer, json_of, post_json};
use crate::common::TestApp;
use crate::db_tests;

db_tests!(
    refresh_rotates_and_reuse_revokes,
    cookie_refresh_needs_csrf,
    absolute_lifetime_ends_sessions,
);

async fn refresh_rotates_and_reuse_revokes(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let api = &app.bare;
    let (_, rt1) = api_login(api, "ada@example.com").await;
    // RT1 gives RT2 (header or body).
    let res = post_json(api, "/api/v1/refresh", json!({}), Some(&rt1)).await;
    assert_eq!(res.status(), Status::Ok);
    let body = json_of(res).await;
    let rt2 = body["refresh_token"].as_str().unwrap().to_owned();
    let access2 = body["access_token"].as_str().unwrap().to_owned();
    assert_ne!(rt1, rt2);
    let me = json_of(get_bearer(api, "/api/v1/me", &access2).await).await;
    assert_eq!(me["claims"]["fresh"], false, "a refreshed token is not fresh");
    // RT1 again, past the grace window: refused, and RT2 fails too.
    app.age_sessions(3600).await;
    let res = post_json(api, "/api/v1/refresh", json!({"refresh_token": rt1}), None).await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(json_of(res).await["description"], "Token has been revoked");
    let res = post_json(api, "/api/v1/refresh", json!({"refresh_token": rt2}), None).await;
    assert_eq!(res.status(), Status::Unauthorized);
    let res = get_bearer(api, "/api/v1/me", &access2).await;
    assert_eq!(res.status(), Status::Unauthorized);
}

async fn cookie_refresh_needs_csrf(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    app.sign_in("ada@example.com").await;
    let csrf = app.csrf("/").await;
    let res = app.client.post("/api/v1/refresh").dispatch().await;
    assert_eq!(res.status(), Status::Forbidden);
    assert_eq!(
        json_of(res).await["description"],
        "CSRF double submit tokens do not match"
    );
    let before = app.access_cookie().unwrap();
    let res = app
        .client
        .post("/api/v1/refresh")
        .header(Header::new("X-CSRF-TOKEN", csrf))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    assert_ne!(
        app.access_cookie().unwrap(),
        before,
        "the cookies were renewed too"
    );
}

async fn absolute_lifetime_ends_sessions(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let (access, refresh) = api_login(&app.bare, "ada@example.com").await;
    // The session reaches its absolute end (however active it was).
    app.state()
        .db
        .run(|conn| {
            use diesel::prelude::*;
            use gatehouse::db::schema::sessions;
            diesel::update(sessions::table)
                .set(sessions::expires_at.eq(gatehouse::domain::now() - 1))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(
        get_bearer(&app.bare, "/api/v1/me", &access).await.status(),
        Status::Unauthorized
    );
    let res = post_json(
        &app.bare,
        "/api/v1/refresh",
        json!({"refresh_token": refresh}),
        None,
    )
    .await;
    assert_eq!(res.status(), Status::Unauthorized);
}
