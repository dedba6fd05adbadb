//! The discoverable sign-in: no email typed, the authenticator names the
//! account; `amr: ["hwk"]`, fresh, where the browser was going. Every
//! refusal is a 4xx, audited when an answer was checked.

use gatehouse::domain::Role;
use rocket::http::{ContentType, Status};
use serde_json::json;

use super::{body, finish_login, start_login, user_with_passkey, Authenticator};
use crate::common::{csrf_in, Backend, TestApp};
use crate::db_tests;

db_tests!(
    sign_in_with_a_passkey,
    a_replayed_assertion_is_refused,
    a_wrong_origin_or_rp_id_is_refused,
    an_unknown_credential_is_refused_and_audited,
    a_counter_going_backwards_is_refused_and_audited,
    an_expired_challenge_is_refused,
    a_disabled_user_is_refused,
    another_browsers_challenge_is_refused,
    bad_input_is_a_4xx,
);

crate::backend_tests!(starting_sign_ins_is_limited_per_address);

/// Each start stores a challenge: an address may start five times the
/// sign-in limit a minute (the page starts one for autofill on each load),
/// then gets 429s, on the browser's route and the API's.
async fn starting_sign_ins_is_limited_per_address(backend: Backend) {
    let app = TestApp::spawn_with(backend, |f| f.merge(("login.rate_limit_per_minute", 2)))
        .await
        .unwrap();
    for _ in 0..10 {
        let res = app.post_json("/api/v1/passkeys/login/start", &json!({})).await;
        assert_eq!(res.status(), Status::Ok);
    }
    let res = app.post_json("/api/v1/passkeys/login/start", &json!({})).await;
    assert_eq!(res.status(), Status::TooManyRequests);
    let csrf = app.csrf("/login").await;
    let res = app
        .post_json("/login/passkey/start", &json!({ "csrf_token": csrf }))
        .await;
    assert_eq!(res.status(), Status::TooManyRequests);
}

async fn refusals(app: &TestApp) -> Vec<String> {
    app.events("passkey_sign_in_failed")
        .await
        .into_iter()
        .map(|(_, _, detail)| detail)
        .collect()
}

async fn sign_in_with_a_passkey(app: TestApp) {
    let user = app.create_user("ada@example.com", "Ada", Role::User).await;
    let mut auth = user_with_passkey(&app, "ada@example.com").await;
    auth.counter = 1;

    // The sign-in page offers it, and autofill in the email field.
    let page = app.get("/login").await.into_string().await.unwrap();
    for needle in [
        "id=\"passkey-area\"",
        "data-rp-id=\"localhost\"",
        "data-origin=\"http:&#x2F;&#x2F;localhost:8000\"",
        "id=\"passkey-sign-in\"",
        "id=\"passkey-error\"",
        "autocomplete=\"username webauthn\"",
        "<script src=\"/static/passkeys.js\" defer></script>",
    ] {
        assert!(page.contains(needle), "{needle} in {page}");
    }

    let (csrf, started) = start_login(&app).await;
    // Discoverable: no credentials listed, user verification required.
    let options = &started["options"]["publicKey"];
    assert!(
        options["allowCredentials"]
            .as_array()
            .is_none_or(|a| a.is_empty()),
        "{options}"
    );
    assert_eq!(options["userVerification"], "required");
    let credential = auth.assert(&started["options"]);
    let res = finish_login(&app, &csrf, &started, &credential).await;
    assert_eq!(res.status(), Status::Ok);
    assert!(res.cookies().get("access_token_cookie").is_some(), "signed in");
    assert_eq!(body(res).await, json!({ "redirect": "/protected" }));
    let claims = app.claims().await;
    assert_eq!(claims["amr"], json!(["hwk"]));
    assert_eq!(claims["fresh"], true);
    assert_eq!(claims["sub"], user.id.to_string());
    assert_eq!(app.get("/protected").await.status(), Status::Ok);
    let kinds = app.audit_kinds().await;
    assert!(kinds.contains(&"sign_in".to_owned()), "{kinds:?}");
    // The counter and the time it was used were stored.
    let page = app.get("/account/passkeys").await.into_string().await.unwrap();
    assert!(!page.contains(">never<"), "last used is set: {page}");
    let stored = gatehouse::services::passkey::list(app.state(), user.id)
        .await
        .unwrap();
    assert!(
        stored[0].passkey.contains("\"counter\":1"),
        "{}",
        stored[0].passkey
    );
}

async fn a_replayed_assertion_is_refused(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let mut auth = user_with_passkey(&app, "ada@example.com").await;
    let (csrf, started) = start_login(&app).await;
    let credential = auth.assert(&started["options"]);
    assert_eq!(
        finish_login(&app, &csrf, &started, &credential).await.status(),
        Status::Ok
    );
    app.sign_out().await;
    // The same challenge id and assertion again: the challenge is spent.
    let csrf = app.csrf("/login").await;
    let res = finish_login(&app, &csrf, &started, &credential).await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    let answer = body(res).await;
    assert!(
        answer["description"].as_str().unwrap().contains("already used"),
        "{answer}"
    );
    assert!(app.client.cookies().get("access_token_cookie").is_none());
    // An assertion made for one challenge, sent with another: refused.
    let (csrf, first) = start_login(&app).await;
    let (_, second) = start_login(&app).await;
    let credential = auth.assert(&first["options"]);
    let res = finish_login(&app, &csrf, &second, &credential).await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert!(refusals(&app).await.contains(&"wrong challenge".to_owned()));
}

async fn a_wrong_origin_or_rp_id_is_refused(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let mut auth = user_with_passkey(&app, "ada@example.com").await;
    auth.origin = "http://localhost.evil.example:8000".into();
    let (csrf, started) = start_login(&app).await;
    let res = finish_login(&app, &csrf, &started, &auth.assert(&started["options"])).await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(
        body(res).await["description"],
        "That passkey was not accepted. Try again, or sign in with your password."
    );
    auth.origin = "http://localhost:8000".into();
    auth.rp_id = "example.com".into();
    let (csrf, started) = start_login(&app).await;
    let res = finish_login(&app, &csrf, &started, &auth.assert(&started["options"])).await;
    assert_eq!(res.status(), Status::Unauthorized);
    let details = refusals(&app).await;
    assert!(details.contains(&"wrong origin".to_owned()), "{details:?}");
    assert!(
        details.contains(&"wrong relying party id".to_owned()),
        "{details:?}"
    );
    assert!(app.client.cookies().get("access_token_cookie").is_none());
    // The right ones still work.
    auth.rp_id = "localhost".into();
    let (csrf, started) = start_login(&app).await;
    let res = finish_login(&app, &csrf, &started, &auth.assert(&started["options"])).await;
    assert_eq!(res.status(), Status::Ok);
}

async fn an_unknown_credential_is_refused_and_audited(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let known = user_with_passkey(&app, "ada@example.com").await;
    // Another key claiming Ada's user handle, never registered.
    let mut stranger = Authenticator::new();
    stranger.user_handle = known.user_handle.clone();
    let (csrf, started) = start_login(&app).await;
    let res = finish_login(&app, &csrf, &started, &stranger.assert(&started["options"])).await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(
        body(res).await["description"],
        "That passkey was not accepted. Try again, or sign in with your password."
    );
    assert!(refusals(&app).await.contains(&"unknown credential".to_owned()));
    // Ada's credential id with another user handle: refused too.
    let mut mismatched = known;
    mismatched.user_handle = vec![7; 16];
    let (csrf, started) = start_login(&app).await;
    let res = finish_login(&app, &csrf, &started, &mismatched.assert(&started["options"])).await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(refusals(&app).await.len(), 2);
}

async fn a_counter_going_backwards_is_refused_and_audited(app: TestApp) {
    let user = app.create_user("ada@example.com", "Ada", Role::User).await;
    let mut auth = user_with_passkey(&app, "ada@example.com").await;
    auth.counter = 5;
    let (csrf, started) = start_login(&app).await;
    assert_eq!(
        finish_login(&app, &csrf, &started, &auth.assert(&started["options"]))
            .await
            .status(),
        Status::Ok
    );
    app.sign_out().await;
    // A clone of the key, behind: 3 after 5.
    auth.counter = 3;
    let (csrf, started) = start_login(&app).await;
    let res = finish_login(&app, &csrf, &started, &auth.assert(&started["options"])).await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert!(app.client.cookies().get("access_token_cookie").is_none());
    let events = app.events("passkey_sign_in_failed").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].0, Some(user.id));
    assert!(events[0].2.contains("counter went backwards"), "{events:?}");
    // The same counter again is refused as well; a later one works.
    auth.counter = 5;
    let (csrf, started) = start_login(&app).await;
    assert_eq!(
        finish_login(&app, &csrf, &started, &auth.assert(&started["options"]))
            .await
            .status(),
        Status::Unauthorized
    );
    auth.counter = 6;
    let (csrf, started) = start_login(&app).await;
    assert_eq!(
        finish_login(&app, &csrf, &started, &auth.assert(&started["options"]))
            .await
            .status(),
        Status::Ok
    );
}

async fn an_expired_challenge_is_refused(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let mut auth = user_with_passkey(&app, "ada@example.com").await;
    let (csrf, started) = start_login(&app).await;
    // Five minutes and a second later.
    app.state()
        .db
        .run(|conn| {
            use diesel::prelude::*;
            use gatehouse::db::schema::passkey_challenges;
            diesel::update(passkey_challenges::table)
                .set(passkey_challenges::expires_at.eq(gatehouse::domain::now() - 1))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    let res = finish_login(&app, &csrf, &started, &auth.assert(&started["options"])).await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    assert!(body(res).await["description"]
        .as_str()
        .unwrap()
        .contains("expired"));
    assert!(app.client.cookies().get("access_token_cookie").is_none());
}

async fn a_disabled_user_is_refused(app: TestApp) {
    let user = app.create_user("ada@example.com", "Ada", Role::User).await;
    let mut auth = user_with_passkey(&app, "ada@example.com").await;
    let id = user.id;
    app.state()
        .db
        .run(move |conn| gatehouse::db::user::User::set_disabled(conn, id, true).map(|_| ()))
        .await
        .unwrap();
    // An answer naming the account but signed by another key says nothing
    // about the account (and writes no "disabled" event for it).
    let mut forger = Authenticator::new();
    forger.credential_id = auth.credential_id.clone();
    forger.user_handle = auth.user_handle.clone();
    forger.counter = 7;
    let (csrf, started) = start_login(&app).await;
    let res = finish_login(&app, &csrf, &started, &forger.assert(&started["options"])).await;
    assert_eq!(res.status(), Status::Unauthorized);
    let answer = body(res).await;
    assert!(
        !answer["description"].as_str().unwrap().contains("disabled"),
        "{answer}"
    );
    assert!(!refusals(&app).await.contains(&"account disabled".to_owned()));
    // The passkey itself: refused, saying why.
    let (csrf, started) = start_login(&app).await;
    let res = finish_login(&app, &csrf, &started, &auth.assert(&started["options"])).await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert!(body(res).await["description"]
        .as_str()
        .unwrap()
        .contains("disabled"));
    assert!(app.client.cookies().get("access_token_cookie").is_none());
    assert!(refusals(&app).await.contains(&"account disabled".to_owned()));
}

async fn another_browsers_challenge_is_refused(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let mut auth = user_with_passkey(&app, "ada@example.com").await;
    let (_, started) = start_login(&app).await;
    let credential = auth.assert(&started["options"]);
    // Another browser, with its own anonymous CSRF value, finishes it.
    let other = app.browser().await;
    let page = other
        .client
        .get("/login")
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap();
    let csrf = csrf_in(&page).unwrap();
    let res = other
        .client
        .post("/login/passkey/finish")
        .header(ContentType::JSON)
        .body(super::csrf_first(
            &json!({ "csrf_token": csrf, "challenge_id": started["challenge_id"], "credential": credential }),
        ))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    let answer: serde_json::Value = res.into_json().await.unwrap();
    assert!(
        answer["description"]
            .as_str()
            .unwrap()
            .contains("another browser"),
        "{answer}"
    );
    assert!(other.client.cookies().get("access_token_cookie").is_none());
    // Without the page's CSRF value: 403.
    let res = app
        .post_json("/login/passkey/start", &json!({ "csrf_token": "forged" }))
        .await;
    assert_eq!(res.status(), Status::Forbidden);
}

async fn bad_input_is_a_4xx(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let mut auth = user_with_passkey(&app, "ada@example.com").await;
    let (csrf, started) = start_login(&app).await;
    // Malformed credential JSON: refused with a message, the challenge kept.
    let res = finish_login(&app, &csrf, &started, &json!({ "id": 5 })).await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    assert!(body(res).await["description"]
        .as_str()
        .unwrap()
        .contains("could not be read"));
    // An unknown challenge id.
    let unknown = json!({ "challenge_id": "nope", "options": {} });
    let res = finish_login(&app, &csrf, &unknown, &auth.assert(&started["options"])).await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    // Not JSON at all.
    let res = app
        .client
        .post("/login/passkey/finish")
        .header(ContentType::JSON)
        .body("{not json")
        .dispatch()
        .await;
    assert!(
        res.status().code >= 400 && res.status().code < 500,
        "{}",
        res.status()
    );
    // The first challenge still works after all that.
    let res = finish_login(&app, &csrf, &started, &auth.assert(&started["options"])).await;
    assert_eq!(res.status(), Status::Ok);
    app.sign_out().await;
    // A registration's challenge at a sign-in's finish: the wrong purpose.
    app.sign_in("ada@example.com").await;
    let res = app
        .post_json(
            "/account/passkeys/register/start",
            &json!({ "csrf_token": app.csrf_cookie() }),
        )
        .await;
    let registration = body(res).await;
    app.sign_out().await;
    let csrf = app.csrf("/login").await;
    let res = finish_login(&app, &csrf, &registration, &auth.assert(&started["options"])).await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    assert!(body(res).await["description"]
        .as_str()
        .unwrap()
        .contains("unknown"));
}
