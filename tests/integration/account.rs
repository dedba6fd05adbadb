//! Account self-service in the browser.

use gatehouse::domain::Role;
use rocket::http::{ContentType, Header, Status};
use serde_json::{json, Value};

use crate::common::{assert_redirect_to, csrf_in, form_body, TestApp, PASSWORD};
use crate::db_tests;

db_tests!(account_self_service);

async fn post_form(app: &TestApp, uri: &str, fields: &[(&str, &str)]) -> (Status, String, String) {
    let res = app
        .client
        .post(uri.to_owned())
        .header(ContentType::Form)
        .body(form_body(fields))
        .dispatch()
        .await;
    app.follow(res).await
}

async fn account_self_service(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    // Another session of Ada's, on an API client.
    let res = app
        .bare
        .post("/api/v1/login")
        .header(ContentType::JSON)
        .body(json!({"email": "ada@example.com", "password": PASSWORD}).to_string())
        .dispatch()
        .await;
    let other: Value = res.into_json().await.unwrap();
    let other = other["access_token"].as_str().unwrap().to_owned();
    let other_alive = || async {
        app.bare
            .get("/api/v1/me")
            .header(Header::new("Authorization", format!("Bearer {other}")))
            .dispatch()
            .await
            .status()
            == Status::Ok
    };

    assert_redirect_to(&app.get("/account").await, "/login?next=/account");
    app.sign_in("ada@example.com").await;
    let page = app.get("/account").await.into_string().await.unwrap();
    assert!(page.contains("ada@example.com") && page.contains("(this device)"));
    let csrf = csrf_in(&page).unwrap();

    // Profile.
    let (status, _, page) = post_form(
        &app,
        "/account/profile",
        &[("name", "Ada Lovelace"), ("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(status, Status::Ok);
    assert!(page.contains("Your name is saved.") && page.contains("value=\"Ada Lovelace\""));

    // Password: the current one is required, the new one must pass the policy.
    let (status, _, page) = post_form(
        &app,
        "/account/password",
        &[
            ("current_password", "wrong"),
            ("new_password", "a new passphrase"),
            ("confirm_password", "a new passphrase"),
            ("csrf_token", &csrf),
        ],
    )
    .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(
        page.contains(r#"id="current_password-error">The current password is incorrect.</p>"#),
        "next to its field: {page}"
    );
    let (status, _, page) = post_form(
        &app,
        "/account/password",
        &[
            ("current_password", PASSWORD),
            ("new_password", "a new passphrase"),
            ("confirm_password", "another passphrase"),
            ("csrf_token", &csrf),
        ],
    )
    .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(page.contains(r#"id="confirm_password-error">The new passwords do not match.</p>"#));
    assert!(
        !page.contains("a new passphrase"),
        "passwords are never sent back"
    );
    let long = "n".repeat(101);
    let (status, _, page) = post_form(
        &app,
        "/account/profile",
        &[("csrf_token", &csrf), ("name", &long)],
    )
    .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(page.contains(r#"id="name-error">Use at most 100 characters.</p>"#));
    assert!(
        page.contains(&format!("value=\"{long}\"")),
        "what was typed is kept"
    );
    let (_, _, page) = post_form(
        &app,
        "/account/password",
        &[
            ("current_password", PASSWORD),
            ("new_password", "password"),
            ("confirm_password", "password"),
            ("csrf_token", &csrf),
        ],
    )
    .await;
    assert!(page.contains("too common") && page.contains(r#"id="new_password-error""#));
    assert!(other_alive().await, "nothing changed yet");
    // Without the CSRF value, nothing happens.
    let (status, _, _) = post_form(
        &app,
        "/account/password",
        &[
            ("current_password", PASSWORD),
            ("new_password", "a new passphrase"),
            ("confirm_password", "a new passphrase"),
        ],
    )
    .await;
    assert_eq!(status, Status::Forbidden);
    let (_, _, page) = post_form(
        &app,
        "/account/password",
        &[
            ("current_password", PASSWORD),
            ("new_password", "a new passphrase"),
            ("confirm_password", "a new passphrase"),
            ("sign_out_others", "true"),
            ("csrf_token", &csrf),
        ],
    )
    .await;
    assert!(
        page.contains("Your password is changed; 1 other session(s) signed out."),
        "{page}"
    );
    assert!(!other_alive().await, "the other session is signed out");
    assert_eq!(app.get("/account").await.status(), Status::Ok, "this one is not");

    // Own sessions: revoke another one; someone else's can't be touched.
    let res = app.sign_in_form("ada@example.com", "a new passphrase", &[]).await;
    assert_redirect_to(&res, "/");
    let page = app.get("/account").await.into_string().await.unwrap();
    let csrf = csrf_in(&page).unwrap();
    let revoke_form = page
        .find("/account/sessions/")
        .expect("another session to revoke");
    let sid = page[revoke_form + "/account/sessions/".len()..]
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let (status, _, page) = post_form(
        &app,
        &format!("/account/sessions/{sid}/revoke"),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(status, Status::Ok);
    assert!(page.contains("That session is signed out."));
    let (status, _, _) = post_form(
        &app,
        &format!("/account/sessions/{sid}/revoke"),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(status, Status::NotFound, "already over");
    // Someone else's session can't be touched from here.
    app.create_user("bob@example.com", "Bob", Role::User).await;
    let bob = api_login(&app, "bob@example.com", PASSWORD).await;
    let bob_sid = app
        .state()
        .tokens
        .decode(&bob, gatehouse::auth::TokenType::Access)
        .unwrap()
        .claims
        .sid;
    let revoke_bob = format!("/account/sessions/{bob_sid}/revoke");
    let (status, _, _) = post_form(&app, &revoke_bob, &[("csrf_token", &csrf)]).await;
    assert_eq!(status, Status::NotFound);
    assert!(alive(&app, &bob).await, "Bob's session lives on");
    // A fresh API session of Ada's, to see "everywhere" reach it.
    let api_token = api_login(&app, "ada@example.com", "a new passphrase").await;

    // Sign out everywhere, this browser included.
    let (_, path, _) = post_form(&app, "/account/sessions/revoke-all", &[("csrf_token", &csrf)]).await;
    assert_eq!(path, "/login");
    assert_redirect_to(&app.get("/account").await, "/login?next=/account");
    assert!(!alive(&app, &api_token).await, "every session, not just this one");
}

async fn api_login(app: &TestApp, email: &str, password: &str) -> String {
    let res = app
        .bare
        .post("/api/v1/login")
        .header(ContentType::JSON)
        .body(json!({"email": email, "password": password}).to_string())
        .dispatch()
        .await;
    let body: Value = res.into_json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

async fn alive(app: &TestApp, token: &str) -> bool {
    app.bare
        .get("/api/v1/me")
        .header(Header::new("Authorization", format!("Bearer {token}")))
        .dispatch()
        .await
        .status()
        == Status::Ok
}
