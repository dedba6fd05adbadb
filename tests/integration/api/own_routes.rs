//! An app's own routes behind Gatehouse's guards (`FreshLogin`,
//! `JwtOptional`, `CurrentUser` with additional claims), and the public
//! `testing` module as an app's tests would use it.

use gatehouse::domain::Role;
use gatehouse::{AdditionalClaims, CurrentUser, FreshLogin, JwtOptional};
use rocket::http::{Header, Status};
use serde_json::json;

use super::{api_login, get_bearer, json_of, post_json};
use crate::common::TestApp;
use crate::db_tests;
use crate::tests;

db_tests!(fresh_optional_and_additional_claims);

tests!(the_testing_module_mints_headers_and_cookies);

#[rocket::get("/fresh")]
fn fresh_only(user: FreshLogin) -> String {
    format!("fresh {}", user.user.email)
}

#[rocket::get("/optional")]
fn optional(user: JwtOptional) -> String {
    match user.0 {
        Some(user) => format!("hi {}", user.user.email),
        None => "hi anonymous".into(),
    }
}

#[rocket::get("/claims")]
fn claims(user: CurrentUser) -> String {
    format!(
        "is_admin={} sub={}",
        user.claims.extra["is_admin"], user.claims.sub
    )
}

async fn fresh_optional_and_additional_claims(app: TestApp) {
    let backend = app.backend;
    drop(app);
    let app = TestApp::spawn_rocket(backend, |f| {
        gatehouse::build(f)
            .mount("/", rocket::routes![fresh_only, optional, claims])
            .manage(AdditionalClaims::new(|user| {
                let mut extra = serde_json::Map::new();
                extra.insert("is_admin".into(), user.is_admin().into());
                extra.insert("sub".into(), "forged".into()); // reserved: dropped
                extra
            }))
    })
    .await
    .unwrap();
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let (access, refresh) = api_login(&app.bare, "ada@example.com").await;
    let res = get_bearer(&app.bare, "/fresh", &access).await;
    assert_eq!(res.into_string().await.unwrap(), "fresh ada@example.com");
    let body = json_of(
        post_json(
            &app.bare,
            "/api/v1/refresh",
            json!({"refresh_token": refresh}),
            None,
        )
        .await,
    )
    .await;
    let renewed = body["access_token"].as_str().unwrap();
    let res = app
        .bare
        .get("/fresh")
        .header(Header::new("Authorization", format!("Bearer {renewed}")))
        .header(Header::new("Accept", "application/json"))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(json_of(res).await["description"], "Fresh token required");

    assert_eq!(
        app.bare
            .get("/optional")
            .dispatch()
            .await
            .into_string()
            .await
            .unwrap(),
        "hi anonymous"
    );
    assert_eq!(
        get_bearer(&app.bare, "/optional", &access)
            .await
            .into_string()
            .await
            .unwrap(),
        "hi ada@example.com"
    );
    assert_eq!(
        get_bearer(&app.bare, "/optional", "junk").await.status(),
        Status::Unauthorized
    );

    let res = get_bearer(&app.bare, "/claims", renewed)
        .await
        .into_string()
        .await
        .unwrap();
    assert!(res.starts_with("is_admin=false sub="), "{res}");
    assert!(!res.contains("forged"));
}

/// The public testing module, as an app's own tests would use it.
async fn the_testing_module_mints_headers_and_cookies() {
    use gatehouse::testing;
    let app = TestApp::spawn_rocket(crate::common::Backend::Sqlite, |f| {
        gatehouse::build(f).mount("/", rocket::routes![fresh_only])
    })
    .await
    .unwrap();
    let state = testing::state(&app.bare);
    let user = testing::create_user(state, "ada@example.com", "a long passphrase", Role::User)
        .await
        .unwrap();
    let tokens = testing::sign_in(state, &user).await.unwrap();
    let res = app
        .bare
        .get("/api/v1/me")
        .header(tokens.authorization())
        .dispatch()
        .await;
    assert_eq!(json_of(res).await["identity"]["email"], "ada@example.com");
    let mut req = app.bare.get("/fresh");
    for cookie in tokens.cookies() {
        req = req.cookie(cookie);
    }
    assert_eq!(
        req.dispatch().await.into_string().await.unwrap(),
        "fresh ada@example.com"
    );
    let mut req = app.bare.post("/api/v1/logout").header(tokens.csrf_header());
    for cookie in tokens.cookies() {
        req = req.cookie(cookie);
    }
    assert_eq!(req.dispatch().await.status(), Status::Ok);
    let stale = testing::sign_in_stale(state, &user).await.unwrap();
    let res = app
        .bare
        .get("/fresh")
        .header(stale.authorization())
        .header(Header::new("Accept", "application/json"))
        .dispatch()
        .await;
    assert_eq!(json_of(res).await["description"], "Fresh token required");
}
