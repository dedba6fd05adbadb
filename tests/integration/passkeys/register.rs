//! `/account/passkeys`: adding a passkey (a fresh sign-in needed; a
//! discoverable credential with user verification), the list, renaming,
//! removing (audited), bad input, and passkeys turned off.

use gatehouse::domain::Role;
use rocket::http::{ContentType, Header, Status};
use serde_json::json;

use super::{add_passkey, body, Authenticator};
use crate::common::{assert_redirect_to, Backend, TestApp};
use crate::db_tests;

db_tests!(
    add_rename_and_remove_a_passkey,
    adding_needs_a_fresh_sign_in,
    bad_names_are_refused_and_the_challenge_kept,
    one_cannot_touch_anothers_passkey,
);

crate::backend_tests!(passkeys_off_means_404s);

async fn add_rename_and_remove_a_passkey(app: TestApp) {
    let user = app.create_user("ada@example.com", "Ada", Role::User).await;
    app.sign_in("ada@example.com").await;
    let account = app.get("/account").await.into_string().await.unwrap();
    assert!(account.contains("href=\"/account/passkeys\""), "{account}");
    let page = app.get("/account/passkeys").await.into_string().await.unwrap();
    for needle in [
        "<form id=\"passkey-add\" class=\"stack\" method=\"post\" action=\"/account/passkeys/register\"",
        "id=\"passkey-name\" maxlength=\"64\" required",
        "id=\"passkey-add-submit\"",
        "<noscript>",
        "id=\"passkey-error\"",
        "You have no passkeys yet.",
    ] {
        assert!(page.contains(needle), "{needle} in {page}");
    }

    // The options: a discoverable credential, user verification required.
    let csrf = app.csrf_cookie();
    let started = body(
        app.post_json("/account/passkeys/register/start", &json!({ "csrf_token": csrf }))
            .await,
    )
    .await;
    let selection = &started["options"]["publicKey"]["authenticatorSelection"];
    assert_eq!(selection["residentKey"], "required", "{selection}");
    assert_eq!(selection["requireResidentKey"], true);
    assert_eq!(selection["userVerification"], "required");
    assert_eq!(started["options"]["publicKey"]["rp"]["id"], "localhost");

    let mut laptop = Authenticator::new();
    let (status, answer) = add_passkey(&app, &mut laptop, "  Laptop ").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer, json!({ "redirect": "/account/passkeys" }));
    let mut phone = Authenticator::new();
    phone.synced = true;
    assert_eq!(add_passkey(&app, &mut phone, "Phone").await.0, 200);
    // The same authenticator again: excluded, and refused.
    let started = body(
        app.post_json("/account/passkeys/register/start", &json!({ "csrf_token": csrf }))
            .await,
    )
    .await;
    let excluded = started["options"]["publicKey"]["excludeCredentials"].to_string();
    assert!(
        excluded.contains(&super::authenticator::b64(&laptop.credential_id)),
        "{excluded}"
    );
    let mut again = Authenticator::new();
    again.credential_id = laptop.credential_id.clone();
    assert_eq!(add_passkey(&app, &mut again, "Laptop 2").await.0, 422);

    let page = app.get("/account/passkeys").await.into_string().await.unwrap();
    assert!(page.contains("Passkey “Phone” added."), "the flash: {page}");
    let list = gatehouse::services::passkey::list(app.state(), user.id)
        .await
        .unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!((list[0].name.as_str(), list[0].backed_up), ("Laptop", false));
    assert_eq!((list[1].name.as_str(), list[1].backed_up), ("Phone", true));
    for needle in [
        format!("<tr data-passkey-id=\"{}\">", list[0].id),
        "This device only".into(),
        "Synced".into(),
        "never".into(),
        format!("action=\"/account/passkeys/{}/rename\"", list[1].id),
        format!("action=\"/account/passkeys/{}/delete\"", list[1].id),
    ] {
        assert!(page.contains(&needle), "{needle} in {page}");
    }
    assert_eq!(app.events("passkey_added").await.len(), 2);

    // Rename: a name already used is refused; a new one is kept.
    let rename = format!("/account/passkeys/{}/rename", list[0].id);
    assert_redirect_to(
        &app.post_form(&rename, &[("name", "Phone")]).await,
        "/account/passkeys",
    );
    let page = app.get("/account/passkeys").await.into_string().await.unwrap();
    assert!(page.contains("already have a passkey with that name"), "{page}");
    let long = "x".repeat(65);
    assert_redirect_to(
        &app.post_form(&rename, &[("name", &long)]).await,
        "/account/passkeys",
    );
    assert_redirect_to(
        &app.post_form(&rename, &[("name", "Work laptop")]).await,
        "/account/passkeys",
    );
    let page = app.get("/account/passkeys").await.into_string().await.unwrap();
    assert!(page.contains("Passkey renamed to “Work laptop”."), "{page}");
    assert_eq!(app.events("passkey_renamed").await[0].2, "Work laptop");

    // Remove: audited, gone.
    let remove = format!("/account/passkeys/{}/delete", list[0].id);
    assert_redirect_to(&app.post_form(&remove, &[]).await, "/account/passkeys");
    let events = app.events("passkey_removed").await;
    assert_eq!(
        events,
        vec![(
            Some(user.id),
            None,
            "Work laptop; 0 session(s) signed out".to_owned()
        )]
    );
    let page = app.get("/account/passkeys").await.into_string().await.unwrap();
    assert!(!page.contains(&format!("data-passkey-id=\"{}\"", list[0].id)));
    assert_eq!(app.post_form(&remove, &[]).await.status(), Status::NotFound);

    // The form without its script: a page saying what is needed.
    let res = app
        .post_form("/account/passkeys/register", &[("name", "x")])
        .await;
    assert_eq!(res.status(), Status::Ok);
    assert!(res.into_string().await.unwrap().contains("needs JavaScript"));
}

async fn adding_needs_a_fresh_sign_in(app: TestApp) {
    let user = app.create_user("ada@example.com", "Ada", Role::User).await;
    let stale = gatehouse::testing::sign_in_stale(app.state(), &user)
        .await
        .unwrap();
    let cookies = stale.cookies();
    let with_stale = |req| with_cookies(req, &cookies);
    let page = with_stale(app.bare.get("/account/passkeys"))
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap();
    assert!(page.contains("id=\"passkey-fresh-needed\""), "{page}");
    assert!(!page.contains("id=\"passkey-add\""), "{page}");
    let res = with_stale(app.bare.post("/account/passkeys/register/start"))
        .header(ContentType::JSON)
        .header(Header::new("Accept", "application/json"))
        .body(json!({ "csrf_token": stale.csrf }).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Unauthorized);
    let answer: serde_json::Value = res.into_json().await.unwrap();
    assert!(answer["description"].is_string(), "{answer}");
    // The JSON API too.
    let res = app
        .bare
        .post("/api/v1/passkeys/register/start")
        .header(stale.authorization())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Unauthorized);
    // Not signed in at all: 401 as well, never a passkey.
    let res = app
        .bare
        .post("/account/passkeys/register/start")
        .header(ContentType::JSON)
        .body("{}")
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert!(gatehouse::services::passkey::list(app.state(), user.id)
        .await
        .unwrap()
        .is_empty());
}

async fn bad_names_are_refused_and_the_challenge_kept(app: TestApp) {
    let user = app.create_user("ada@example.com", "Ada", Role::User).await;
    app.sign_in("ada@example.com").await;
    let csrf = app.csrf_cookie();
    let started = body(
        app.post_json("/account/passkeys/register/start", &json!({ "csrf_token": csrf }))
            .await,
    )
    .await;
    let mut auth = Authenticator::new();
    let credential = auth.register(&started["options"]);
    for (name, says) in [
        ("x".repeat(65), "at most 64"),
        ("  ".into(), "Give the passkey a name"),
        ("a\u{1}b".into(), "control"),
    ] {
        let res = app
            .post_json(
                "/account/passkeys/register/finish",
                &json!({ "csrf_token": csrf, "challenge_id": started["challenge_id"], "name": name, "credential": credential }),
            )
            .await;
        assert_eq!(res.status(), Status::UnprocessableEntity);
        let answer = body(res).await;
        assert!(answer["description"].as_str().unwrap().contains(says), "{answer}");
    }
    // A malformed credential: 422, named.
    let res = app
        .post_json(
            "/account/passkeys/register/finish",
            &json!({ "csrf_token": csrf, "challenge_id": started["challenge_id"], "name": "Key", "credential": { "response": 1 } }),
        )
        .await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    // The wrong CSRF value: 403.
    let res = app
        .post_json(
            "/account/passkeys/register/finish",
            &json!({ "csrf_token": "forged", "challenge_id": started["challenge_id"], "name": "Key", "credential": credential }),
        )
        .await;
    assert_eq!(res.status(), Status::Forbidden);
    // The challenge is still there for a good name.
    let res = app
        .post_json(
            "/account/passkeys/register/finish",
            &json!({ "csrf_token": csrf, "challenge_id": started["challenge_id"], "name": "é".repeat(64), "credential": credential }),
        )
        .await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(
        gatehouse::services::passkey::list(app.state(), user.id)
            .await
            .unwrap()
            .len(),
        1
    );
    // And spent now.
    let res = app
        .post_json(
            "/account/passkeys/register/finish",
            &json!({ "csrf_token": csrf, "challenge_id": started["challenge_id"], "name": "Again", "credential": credential }),
        )
        .await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
}

async fn one_cannot_touch_anothers_passkey(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let bob = app.create_user("bob@example.com", "Bob", Role::User).await;
    app.sign_in("bob@example.com").await;
    let mut auth = Authenticator::new();
    assert_eq!(add_passkey(&app, &mut auth, "Bob's key").await.0, 200);
    let id = gatehouse::services::passkey::list(app.state(), bob.id)
        .await
        .unwrap()[0]
        .id;
    app.sign_out().await;
    app.sign_in("ada@example.com").await;
    let rename = format!("/account/passkeys/{id}/rename");
    assert_eq!(
        app.post_form(&rename, &[("name", "Mine")]).await.status(),
        Status::NotFound
    );
    let remove = format!("/account/passkeys/{id}/delete");
    assert_eq!(app.post_form(&remove, &[]).await.status(), Status::NotFound);
    assert_eq!(
        gatehouse::services::passkey::list(app.state(), bob.id)
            .await
            .unwrap()[0]
            .name,
        "Bob's key"
    );
}

async fn passkeys_off_means_404s(backend: Backend) {
    let app = TestApp::spawn_with(backend, |f| f.merge(("webauthn.enabled", false)))
        .await
        .unwrap();
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let page = app.get("/login").await.into_string().await.unwrap();
    assert!(!page.contains("passkey"), "no passkey area: {page}");
    assert!(page.contains("autocomplete=\"username\""));
    app.sign_in("ada@example.com").await;
    let account = app.get("/account").await.into_string().await.unwrap();
    assert!(!account.contains("/account/passkeys"), "{account}");
    assert_eq!(app.get("/account/passkeys").await.status(), Status::NotFound);
    let csrf = app.csrf_cookie();
    for uri in [
        "/account/passkeys/register/start",
        "/login/passkey/start",
        "/login/two-factor/passkey/start",
        "/api/v1/passkeys/login/start",
    ] {
        let res = app.post_json(uri, &json!({ "csrf_token": csrf })).await;
        assert_eq!(res.status(), Status::NotFound, "{uri}");
    }
    assert_eq!(app.get_json("/api/v1/passkeys").await.status(), Status::NotFound);
    assert_eq!(
        app.post_form("/account/passkeys/1/delete", &[]).await.status(),
        Status::NotFound
    );
}

fn with_cookies<'c>(
    mut req: rocket::local::asynchronous::LocalRequest<'c>,
    cookies: &[rocket::http::Cookie<'static>],
) -> rocket::local::asynchronous::LocalRequest<'c> {
    for cookie in cookies {
        req = req.cookie(cookie.clone());
    }
    req
}
