//! A passkey as the second factor: after the password, in place of the
//! code (`amr: ["pwd", "hwk"]`); offered only to an account that has one;
//! `required_for_admins` satisfied by a passkey.

use gatehouse::domain::Role;
use rocket::http::Status;
use serde_json::json;

use super::{add_passkey, body, finish_login, start_login, user_with_passkey, Authenticator};
use crate::common::{assert_redirect_to, Backend, TestApp, PASSWORD};
use crate::db_tests;
use crate::two_factor::turn_on;

db_tests!(
    password_then_passkey,
    the_code_page_offers_a_passkey_only_to_its_owner
);

crate::backend_tests!(
    a_passkey_satisfies_required_for_admins,
    a_passkey_alone_meets_two_factor_and_the_guard
);

#[rocket::get("/vault")]
fn vault(user: gatehouse::SecondFactor) -> String {
    format!("vault of {}", user.user.email)
}

/// With TOTP on, a passkey sign-in is asked for no code, and the
/// `SecondFactor` guard of an app's own route lets it through.
async fn a_passkey_alone_meets_two_factor_and_the_guard(backend: Backend) {
    let app = TestApp::spawn_rocket(backend, |f| {
        gatehouse::build(f).mount("/", rocket::routes![vault])
    })
    .await
    .unwrap();
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let mut auth = user_with_passkey(&app, "ada@example.com").await;
    turn_on(&app, "ada@example.com").await;
    auth.counter = 1;
    let (csrf, started) = start_login(&app).await;
    let credential = auth.assert(&started["options"]);
    let res = finish_login(&app, &csrf, &started, &credential).await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(body(res).await, json!({ "redirect": "/protected" }));
    assert_eq!(app.claims().await["amr"], json!(["hwk"]));
    let res = app.get("/vault").await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(res.into_string().await.unwrap(), "vault of ada@example.com");
}

async fn password_then_passkey(app: TestApp) {
    let user = app.create_user("ada@example.com", "Ada", Role::User).await;
    let mut auth = user_with_passkey(&app, "ada@example.com").await;
    turn_on(&app, "ada@example.com").await;
    let res = app
        .sign_in_form("ada@example.com", PASSWORD, &[("next", "/protected")])
        .await;
    assert_redirect_to(&res, "/login/two-factor");
    drop(res);
    let page = app.get("/login/two-factor").await.into_string().await.unwrap();
    assert!(page.contains("id=\"passkey-second-factor\""), "{page}");
    assert!(page.contains("id=\"passkey-area\""), "{page}");
    let csrf = crate::common::csrf_in(&page).unwrap();
    let started = body(
        app.post_json("/login/two-factor/passkey/start", &json!({ "csrf_token": csrf }))
            .await,
    )
    .await;
    // Only the account's own passkeys may answer.
    let allowed = started["options"]["publicKey"]["allowCredentials"].to_string();
    assert!(
        allowed.contains(&super::authenticator::b64(&auth.credential_id)),
        "{allowed}"
    );
    // Another key (someone else's, say) is refused and audited.
    let mut stranger = Authenticator::new();
    stranger.user_handle = auth.user_handle.clone();
    let res = app
        .post_json(
            "/login/two-factor/passkey/finish",
            &json!({ "csrf_token": csrf, "challenge_id": started["challenge_id"], "credential": stranger.assert(&started["options"]) }),
        )
        .await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert!(app.client.cookies().get("access_token_cookie").is_none());
    assert_eq!(app.events("passkey_sign_in_failed").await.len(), 1);
    // The challenge is spent: start again, with the right key.
    let started = body(
        app.post_json("/login/two-factor/passkey/start", &json!({ "csrf_token": csrf }))
            .await,
    )
    .await;
    let res = app
        .post_json(
            "/login/two-factor/passkey/finish",
            &json!({ "csrf_token": csrf, "challenge_id": started["challenge_id"], "credential": auth.assert(&started["options"]) }),
        )
        .await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(body(res).await, json!({ "redirect": "/protected" }));
    assert!(
        app.client.cookies().get("gatehouse_mfa").is_none(),
        "the pending sign-in is spent"
    );
    let claims = app.claims().await;
    assert_eq!(claims["amr"], json!(["pwd", "hwk"]));
    assert_eq!(claims["sub"], user.id.to_string());
    // Without a pending sign-in: 401.
    let res = app
        .post_json(
            "/login/two-factor/passkey/start",
            &json!({ "csrf_token": app.csrf_cookie() }),
        )
        .await;
    assert_eq!(res.status(), Status::Unauthorized);
}

async fn the_code_page_offers_a_passkey_only_to_its_owner(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    turn_on(&app, "ada@example.com").await;
    app.sign_in_form("ada@example.com", PASSWORD, &[]).await;
    let page = app.get("/login/two-factor").await.into_string().await.unwrap();
    assert!(!page.contains("passkey"), "{page}");
    let csrf = crate::common::csrf_in(&page).unwrap();
    let res = app
        .post_json("/login/two-factor/passkey/start", &json!({ "csrf_token": csrf }))
        .await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    // A password sign-in of an account with a passkey but no TOTP is not
    // asked for a second step.
    app.create_user("bob@example.com", "Bob", Role::User).await;
    let other = app.browser().await;
    user_with_passkey(&app, "bob@example.com").await;
    let res = other.sign_in("bob@example.com", PASSWORD).await;
    assert_redirect_to(&res, "/");
}

async fn a_passkey_satisfies_required_for_admins(backend: Backend) {
    let app = TestApp::spawn_with(backend, |f| f.merge(("two_factor.required_for_admins", true)))
        .await
        .unwrap();
    app.create_user("root@example.com", "Root", Role::Admin).await;
    app.sign_in("root@example.com").await;
    assert_redirect_to(&app.get("/admin").await, "/account/two-factor");
    let mut auth = Authenticator::new();
    assert_eq!(add_passkey(&app, &mut auth, "Key").await.0, 200);
    // A passkey counts only in a session that used it: this one (and any
    // later password sign-in, which asks for no second step without TOTP)
    // is a password alone.
    let page = app.get("/admin").await;
    assert_eq!(page.status(), Status::Forbidden);
    assert!(page
        .into_string()
        .await
        .unwrap()
        .contains("sign in again with a passkey"));
    let res = app.get_json("/api/v1/admin/users").await;
    assert_eq!(res.status(), Status::Forbidden);
    assert!(body(res).await["description"]
        .as_str()
        .unwrap()
        .contains("second factor"));
    app.sign_out().await;
    app.sign_in("root@example.com").await;
    assert_eq!(app.get("/admin").await.status(), Status::Forbidden);
    // Signed in with the passkey: the admin is open.
    app.sign_out().await;
    auth.counter = 1;
    let (csrf, started) = start_login(&app).await;
    let credential = auth.assert(&started["options"]);
    assert_eq!(
        finish_login(&app, &csrf, &started, &credential).await.status(),
        Status::Ok
    );
    assert_eq!(app.get("/admin").await.status(), Status::Ok);
    assert_eq!(app.get_json("/api/v1/admin/users").await.status(), Status::Ok);
}
