//! The JSON API and the token locations, as an API client uses them.

use gatehouse::domain::Role;
use gatehouse::{AdditionalClaims, CurrentUser, FreshLogin, JsonAuth, JwtOptional};
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use serde_json::{json, Value};

use crate::common::{assert_redirect_to, TestApp, PASSWORD};
use crate::db_tests;

db_tests!(
    login_me_private_and_logout,
    flask_jwt_auth_endpoint,
    refresh_rotates_and_reuse_revokes,
    logout_everywhere_ends_every_session,
    fresh_optional_and_additional_claims,
    token_locations_in_order,
    cookie_refresh_needs_csrf,
);

async fn post_json<'c>(
    client: &'c Client,
    uri: &str,
    body: Value,
    bearer: Option<&str>,
) -> LocalResponse<'c> {
    let mut req = client
        .post(uri.to_owned())
        .header(ContentType::JSON)
        .body(body.to_string());
    if let Some(token) = bearer {
        req = req.header(Header::new("Authorization", format!("Bearer {token}")));
    }
    req.dispatch().await
}

async fn get_bearer<'c>(client: &'c Client, uri: &str, token: &str) -> LocalResponse<'c> {
    client
        .get(uri.to_owned())
        .header(Header::new("Authorization", format!("Bearer {token}")))
        .header(Header::new("Accept", "application/json"))
        .dispatch()
        .await
}

async fn json_of(res: LocalResponse<'_>) -> Value {
    res.into_json().await.expect("a JSON body")
}

async fn api_login(client: &Client, email: &str) -> (String, String) {
    let res = post_json(
        client,
        "/api/v1/login",
        json!({"email": email, "password": PASSWORD}),
        None,
    )
    .await;
    assert_eq!(res.status(), Status::Ok);
    let body = json_of(res).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    (
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

async fn login_me_private_and_logout(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let api = &app.bare;
    let res = post_json(
        api,
        "/api/v1/login",
        json!({"email": "ada@example.com", "password": "nope"}),
        None,
    )
    .await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(json_of(res).await["description"], "Invalid credentials");
    let res = post_json(
        api,
        "/api/v1/login",
        json!({"email": "nobody@example.com", "password": "nope"}),
        None,
    )
    .await;
    assert_eq!(json_of(res).await["description"], "Invalid credentials");

    let (access, refresh) = api_login(api, "ada@example.com").await;
    let me = json_of(get_bearer(api, "/api/v1/me", &access).await).await;
    assert_eq!(me["identity"]["email"], "ada@example.com");
    assert_eq!(me["claims"]["type"], "access");
    assert_eq!(me["claims"]["fresh"], true);
    let private = json_of(get_bearer(api, "/api/v1/private", &access).await).await;
    assert_eq!(private, json!({"meaning_of_life": 42}));
    let res = api.get("/api/v1/private").dispatch().await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(
        json_of(res).await["description"],
        "Request does not contain an access token"
    );
    // A refresh token is not an access token, and the reverse.
    let res = get_bearer(api, "/api/v1/private", &refresh).await;
    assert_eq!(
        json_of(res).await["description"],
        "Only access tokens are allowed"
    );
    let res = post_json(api, "/api/v1/refresh", json!({}), Some(&access)).await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(
        json_of(res).await["description"],
        "Only refresh tokens are allowed"
    );
    let res = post_json(api, "/api/v1/refresh", json!({}), None).await;
    assert_eq!(
        json_of(res).await["description"],
        "Request does not contain a refresh token"
    );

    // Sign-out revokes both tokens at once.
    let res = post_json(api, "/api/v1/logout", json!({}), Some(&access)).await;
    assert_eq!(res.status(), Status::Ok);
    let res = get_bearer(api, "/api/v1/me", &access).await;
    assert_eq!(json_of(res).await["description"], "Token has been revoked");
    let res = post_json(api, "/api/v1/refresh", json!({"refresh_token": refresh}), None).await;
    assert_eq!(res.status(), Status::Unauthorized);
}

async fn flask_jwt_auth_endpoint(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let res = post_json(
        &app.bare,
        "/auth",
        json!({"username": "ada@example.com", "password": PASSWORD}),
        None,
    )
    .await;
    assert_eq!(res.status(), Status::Ok);
    let token = json_of(res).await["access_token"].as_str().unwrap().to_owned();
    // Flask-JWT's `JWT <token>` header.
    let res = app
        .bare
        .get("/api/v1/private")
        .header(Header::new("Authorization", format!("JWT {token}")))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    let res = post_json(
        &app.bare,
        "/auth",
        json!({"username": "ada@example.com", "password": "x"}),
        None,
    )
    .await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(
        json_of(res).await,
        json!({"error": "Bad Request", "description": "Invalid credentials", "status_code": 401})
    );

    // URL and keys are configurable.
    let custom = TestApp::spawn_rocket(app.backend, |f| {
        gatehouse::build(
            f.merge(("auth_url_rule", "/signin"))
                .merge(("auth_username_key", "login"))
                .merge(("auth_password_key", "secret")),
        )
    })
    .await
    .unwrap();
    custom.create_user("ada@example.com", "Ada", Role::User).await;
    let res = post_json(
        &custom.bare,
        "/signin",
        json!({"login": "ada@example.com", "secret": PASSWORD}),
        None,
    )
    .await;
    assert_eq!(res.status(), Status::Ok);
    let res = post_json(
        &custom.bare,
        "/auth",
        json!({"username": "ada@example.com", "password": PASSWORD}),
        None,
    )
    .await;
    assert_eq!(res.status(), Status::NotFound);
}

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

async fn logout_everywhere_ends_every_session(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let (a1, r1) = api_login(&app.bare, "ada@example.com").await;
    let (a2, _) = api_login(&app.bare, "ada@example.com").await;
    app.sign_in("ada@example.com").await;
    let res = post_json(&app.bare, "/api/v1/logout/all", json!({}), Some(&a2)).await;
    assert_eq!(json_of(res).await["sessions_revoked"], 3);
    for token in [&a1, &a2] {
        assert_eq!(
            get_bearer(&app.bare, "/api/v1/me", token).await.status(),
            Status::Unauthorized
        );
    }
    let res = post_json(&app.bare, "/api/v1/refresh", json!({"refresh_token": r1}), None).await;
    assert_eq!(res.status(), Status::Unauthorized);
    // The browser's session ended too, and its refresh cookie can't revive it.
    let (_, path, _) = app.follow(app.get("/protected").await).await;
    assert!(path.starts_with("/login"), "{path}");
}

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

#[derive(serde::Deserialize)]
struct Note {
    text: String,
}

#[rocket::post("/note", data = "<note>")]
fn note(note: JsonAuth<Note>) -> String {
    format!("{}: {}", note.user.user.email, note.body.text)
}

async fn token_locations_in_order(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let (access, _) = api_login(&app.bare, "ada@example.com").await;
    // The query string is off by default.
    let res = app
        .bare
        .get(format!("/api/v1/private?auth={access}"))
        .dispatch()
        .await;
    assert_eq!(
        json_of(res).await["description"],
        "Request does not contain an access token"
    );
    // A header of the wrong form is malformed, not missing.
    let res = app
        .bare
        .get("/api/v1/private")
        .header(Header::new("Authorization", format!("Token {access}")))
        .dispatch()
        .await;
    assert_eq!(json_of(res).await["description"], "The token is malformed");

    let url = app.url.clone();
    let with = |locations: Vec<&'static str>| {
        let url = url.clone();
        async move {
            Client::untracked(
                gatehouse::build(crate::common::figment(&url).merge(("jwt.token_location", locations)))
                    .mount("/", rocket::routes![note]),
            )
            .await
            .unwrap()
        }
    };
    // Query string and JSON body, when configured.
    let client = with(vec!["query_string", "json"]).await;
    let res = client
        .get(format!("/api/v1/private?auth={access}"))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    let res = post_json(
        &client,
        "/note",
        json!({"access_token": access, "text": "hi"}),
        None,
    )
    .await;
    assert_eq!(res.status(), Status::Ok, "JSON body token");
    assert_eq!(res.into_string().await.unwrap(), "ada@example.com: hi");
    let res = post_json(
        &client,
        "/note",
        json!({"access_token": "junk", "text": "hi"}),
        None,
    )
    .await;
    assert_eq!(res.status(), Status::Unauthorized);
    // Headers are not a location there.
    let res = get_bearer(&client, "/api/v1/private", &access).await;
    assert_eq!(res.status(), Status::Unauthorized);

    // The first location holding a token decides: a bad query token is
    // reported as bad even though a good header follows.
    let client = with(vec!["query_string", "headers"]).await;
    let res = client
        .get("/api/v1/private?auth=junk")
        .header(Header::new("Authorization", format!("Bearer {access}")))
        .dispatch()
        .await;
    assert_eq!(json_of(res).await["description"], "The token is malformed");
    let res = get_bearer(&client, "/api/v1/private", &access).await;
    assert_eq!(res.status(), Status::Ok);

    // Cookies and headers: by default cookies come first, so a junk header
    // beside a good cookie is not even read; the other way round it is.
    app.sign_in("ada@example.com").await;
    let junk_header = || Header::new("Authorization", "Bearer junk");
    let res = app
        .client
        .get("/api/v1/private")
        .header(junk_header())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok, "cookies first");
    let headers_first = TestApp::spawn_rocket(app.backend, |f| {
        gatehouse::build(f.merge(("jwt.token_location", vec!["headers", "cookies"])))
    })
    .await
    .unwrap();
    headers_first
        .create_user("ada@example.com", "Ada", Role::User)
        .await;
    headers_first.sign_in("ada@example.com").await;
    let res = headers_first
        .client
        .get("/api/v1/private")
        .header(junk_header())
        .dispatch()
        .await;
    assert_eq!(
        json_of(res).await["description"],
        "The token is malformed",
        "headers first"
    );
    let res = headers_first.client.get("/api/v1/private").dispatch().await;
    assert_eq!(res.status(), Status::Ok, "then cookies");
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

/// The public testing module, as an app's own tests would use it.
#[rocket::async_test]
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

db_tests!(
    password_change_signs_out_other_sessions,
    absolute_lifetime_ends_sessions
);

async fn password_change_signs_out_other_sessions(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let (access, _) = api_login(&app.bare, "ada@example.com").await;
    let (other, other_refresh) = api_login(&app.bare, "ada@example.com").await;
    app.sign_in("ada@example.com").await;
    let change = |current: &'static str, new: &'static str| {
        post_json(
            &app.bare,
            "/api/v1/password",
            json!({"current_password": current, "new_password": new}),
            Some(&access),
        )
    };
    let res = change("wrong", "a brand new passphrase").await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    assert_eq!(
        json_of(res).await["description"],
        "The current password is incorrect."
    );
    let res = change(PASSWORD, "password").await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    let res = change(PASSWORD, "a brand new passphrase").await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(json_of(res).await["sessions_revoked"], 2);
    // This session lives on; the others are refused on their next request.
    assert_eq!(
        get_bearer(&app.bare, "/api/v1/me", &access).await.status(),
        Status::Ok
    );
    assert_eq!(
        get_bearer(&app.bare, "/api/v1/me", &other).await.status(),
        Status::Unauthorized
    );
    let res = post_json(
        &app.bare,
        "/api/v1/refresh",
        json!({"refresh_token": other_refresh}),
        None,
    )
    .await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_redirect_to(&app.get("/protected").await, "/login?next=/protected");
    // The old password no longer signs in; the new one does.
    let res = post_json(
        &app.bare,
        "/api/v1/login",
        json!({"email": "ada@example.com", "password": PASSWORD}),
        None,
    )
    .await;
    assert_eq!(res.status(), Status::Unauthorized);
    let res = post_json(
        &app.bare,
        "/api/v1/login",
        json!({"email": "ada@example.com", "password": "a brand new passphrase"}),
        None,
    )
    .await;
    assert_eq!(res.status(), Status::Ok);
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

#[rocket::async_test]
async fn required_claims_and_csrf_methods_are_configurable() {
    use crate::common::Backend;
    // A claim the app requires but no hook adds: tokens are refused.
    let app = TestApp::spawn_rocket(Backend::Sqlite, |f| {
        gatehouse::build(f.merge(("jwt.required_claims", vec!["tenant"])))
    })
    .await
    .unwrap();
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let (access, _) = api_login(&app.bare, "ada@example.com").await;
    let res = get_bearer(&app.bare, "/api/v1/me", &access).await;
    assert_eq!(
        json_of(res).await["description"],
        "Token has an invalid issuer, audience or claim"
    );
    // With the hook adding it, they pass.
    let app = TestApp::spawn_rocket(Backend::Sqlite, |f| {
        gatehouse::build(f.merge(("jwt.required_claims", vec!["tenant"]))).manage(AdditionalClaims::new(
            |_| {
                let mut m = serde_json::Map::new();
                m.insert("tenant".into(), "acme".into());
                m
            },
        ))
    })
    .await
    .unwrap();
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let (access, _) = api_login(&app.bare, "ada@example.com").await;
    let me = json_of(get_bearer(&app.bare, "/api/v1/me", &access).await).await;
    assert_eq!(me["claims"]["tenant"], "acme");

    // CSRF only on the configured methods.
    let app = TestApp::spawn_rocket(Backend::Sqlite, |f| {
        gatehouse::build(f.merge(("jwt.csrf_methods", vec!["DELETE"])))
    })
    .await
    .unwrap();
    app.create_user("ada@example.com", "Ada", Role::User).await;
    app.sign_in("ada@example.com").await;
    let res = app.client.post("/api/v1/logout").dispatch().await;
    assert_eq!(res.status(), Status::Ok, "POST is not a CSRF method here");
}
