//! Signing in and out over the API: login, `me` and `private`, logout here
//! and everywhere, Flask-JWT's `/auth`, and the password change.

use gatehouse::domain::Role;
use rocket::http::{Header, Status};
use serde_json::json;

use super::{api_login, get_bearer, json_of, post_json};
use crate::common::{assert_redirect_to, TestApp, PASSWORD};
use crate::db_tests;

db_tests!(
    login_me_private_and_logout,
    flask_jwt_auth_endpoint,
    logout_everywhere_ends_every_session,
    password_change_signs_out_other_sessions,
);

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
