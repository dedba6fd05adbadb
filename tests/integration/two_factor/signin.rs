//! The sign-in form with two-factor on: the password leads to the code page
//! (no session, no token cookie), the right code signs in (`amr` is
//! `["pwd", "otp"]`) and lands on `next`; wrong codes count towards the
//! lockout; a code or a recovery code works once.

use gatehouse::domain::Role;
use rocket::http::{SameSite, Status};
use serde_json::json;

use super::{code, session_count, turn_on, wrong_code};
use crate::common::{assert_redirect_to, TestApp, PASSWORD};
use crate::db_tests;

db_tests!(
    a_pending_sign_in_ends_when_the_account_changes,
    no_session_before_the_code,
    wrong_codes_count_towards_the_lockout,
    a_code_works_once,
    a_recovery_code_works_once,
    a_disabled_account_is_refused_at_the_code,
    the_code_page_needs_a_pending_sign_in,
);

async fn no_session_before_the_code(app: TestApp) {
    let user = app.create_user("ada@example.com", "Ada", Role::User).await;
    let (secret, _) = turn_on(&app, "ada@example.com").await;

    let res = app
        .sign_in_form(
            "ada@example.com",
            PASSWORD,
            &[("next", "/protected?tab=2"), ("remember", "true")],
        )
        .await;
    assert_redirect_to(&res, "/login/two-factor");
    assert!(res.cookies().get("access_token_cookie").is_none());
    assert!(res.cookies().get("refresh_token_cookie").is_none());
    let pending = res
        .cookies()
        .get("gatehouse_mfa")
        .expect("the pending cookie")
        .clone();
    assert_eq!(pending.http_only(), Some(true));
    assert_eq!(pending.same_site(), Some(SameSite::Strict));
    assert_eq!(pending.path(), Some("/login"));
    drop(res);
    assert_eq!(session_count(&app, user.id).await, 0, "no session yet");
    assert_redirect_to(&app.get("/protected").await, "/login?next=/protected");
    // The pending token is no access token, wherever it is sent.
    let token = pending.value().to_owned();
    let res = app.get_with_cookie("/api/v1/me", &token).await;
    assert_eq!(res.status(), Status::Unauthorized);

    // The code page: one field, the right hints.
    let page = app.get("/login/two-factor").await.into_string().await.unwrap();
    for needle in [
        "autocomplete=\"one-time-code\"",
        "inputmode=\"numeric\"",
        "name=\"code\"",
        "recovery code",
    ] {
        assert!(page.contains(needle), "{needle} in {page}");
    }

    // A wrong code: the page again, no session.
    let res = app.code_form(&wrong_code(&secret)).await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert!(res.into_string().await.unwrap().contains("id=\"code-error\""));
    assert_eq!(session_count(&app, user.id).await, 0);

    // The right code: signed in, where the browser was going, remembered.
    let res = app.code_form(&code(&secret, 1)).await;
    assert_redirect_to(&res, "/protected?tab=2");
    let access = res
        .cookies()
        .get("access_token_cookie")
        .expect("signed in")
        .clone();
    assert!(access.expires().is_some(), "remember me carried over");
    drop(res);
    assert_eq!(session_count(&app, user.id).await, 1);
    assert_eq!(app.claims().await["amr"], json!(["pwd", "otp"]));
    assert!(app.client.cookies().get("gatehouse_mfa").is_none(), "spent");
    assert!(app.audit_kinds().await.contains(&"two_factor_failed".to_owned()));
}

async fn wrong_codes_count_towards_the_lockout(app: TestApp) {
    let user = app.create_user("ada@example.com", "Ada", Role::User).await;
    let (secret, _) = turn_on(&app, "ada@example.com").await;
    app.sign_in_form("ada@example.com", PASSWORD, &[]).await;
    let max = app.state().config.login.max_failures;
    for _ in 0..max {
        let res = app.code_form(&wrong_code(&secret)).await;
        assert_eq!(res.status(), Status::Unauthorized);
    }
    let locked = app.find_user("ada@example.com").await.unwrap();
    assert!(locked.is_locked(gatehouse::domain::now()), "locked after {max}");
    // Locked: even the right code is refused, with the same answer.
    let res = app.code_form(&code(&secret, 1)).await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(session_count(&app, user.id).await, 0);
    let kinds = app.audit_kinds().await;
    assert!(kinds.contains(&"account_locked".to_owned()), "{kinds:?}");
    assert_eq!(
        kinds.iter().filter(|k| *k == "two_factor_failed").count(),
        max as usize
    );
}

async fn a_code_works_once(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let (secret, _) = turn_on(&app, "ada@example.com").await;
    // The code of the step used to turn it on is already spent.
    app.sign_in_form("ada@example.com", PASSWORD, &[]).await;
    let res = app.code_form(&code(&secret, 0)).await;
    assert_eq!(res.status(), Status::Unauthorized);
    let next = code(&secret, 1);
    assert_redirect_to(&app.code_form(&next).await, "/");
    // Signed out and in again: the same code is refused (no replay within
    // its window), and so is any earlier one.
    app.sign_out().await;
    app.sign_in_form("ada@example.com", PASSWORD, &[]).await;
    assert_eq!(app.code_form(&next).await.status(), Status::Unauthorized);
    assert_eq!(
        app.code_form(&code(&secret, 0)).await.status(),
        Status::Unauthorized
    );
}

async fn a_recovery_code_works_once(app: TestApp) {
    let user = app.create_user("ada@example.com", "Ada", Role::User).await;
    let (_, codes) = turn_on(&app, "ada@example.com").await;
    app.sign_in_form("ada@example.com", PASSWORD, &[]).await;
    // Case and dashes don't matter.
    let typed = codes[0].replace('-', "").to_uppercase();
    assert_redirect_to(&app.code_form(&typed).await, "/");
    assert_eq!(app.claims().await["amr"], json!(["pwd", "otp"]));
    assert!(app.audit_kinds().await.contains(&"recovery_code_used".to_owned()));
    app.sign_out().await;
    app.sign_in_form("ada@example.com", PASSWORD, &[]).await;
    assert_eq!(app.code_form(&codes[0]).await.status(), Status::Unauthorized);
    assert_eq!(session_count(&app, user.id).await, 1);
    let page = {
        assert_redirect_to(&app.code_form(&codes[1]).await, "/");
        app.get("/account/two-factor").await.into_string().await.unwrap()
    };
    assert!(page.contains("id=\"recovery-left\">8<"), "{page}");
}

async fn a_disabled_account_is_refused_at_the_code(app: TestApp) {
    let user = app.create_user("ada@example.com", "Ada", Role::User).await;
    let (secret, _) = turn_on(&app, "ada@example.com").await;
    app.sign_in_form("ada@example.com", PASSWORD, &[]).await;
    let id = user.id;
    app.state()
        .db
        .run(move |conn| gatehouse::db::user::User::set_disabled(conn, id, true))
        .await
        .unwrap();
    let res = app.code_form(&code(&secret, 1)).await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert!(res.into_string().await.unwrap().contains("disabled"));
    assert_eq!(session_count(&app, user.id).await, 0);
}

async fn the_code_page_needs_a_pending_sign_in(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let (secret, _) = turn_on(&app, "ada@example.com").await;
    // No pending sign-in: back to the form.
    let (_, path, body) = app.follow(app.get("/login/two-factor").await).await;
    assert_eq!(path, "/login");
    assert!(body.contains("Sign in again"), "{body}");
    // A pending sign-in made in another browser does not finish here.
    let other = app.browser().await;
    let res = other.sign_in("ada@example.com", PASSWORD).await;
    assert_redirect_to(&res, "/login/two-factor");
    let token = res.cookies().get("gatehouse_mfa").unwrap().value().to_owned();
    drop(res);
    let csrf = app.csrf("/login").await;
    let res = app
        .client
        .post("/login/two-factor")
        .cookie(rocket::http::Cookie::new("gatehouse_mfa", token))
        .header(rocket::http::ContentType::Form)
        .body(crate::common::form_body(&[
            ("csrf_token", &csrf),
            ("code", &code(&secret, 1)),
        ]))
        .dispatch()
        .await;
    assert_redirect_to(&res, "/login");
    assert!(app.access_cookie().is_none());
}

/// A password set (or two-factor turned off) after the password step ends
/// the pending sign-in: the right code no longer signs in with it.
async fn a_pending_sign_in_ends_when_the_account_changes(app: TestApp) {
    let user = app.create_user("ada@example.com", "Ada", Role::User).await;
    let (secret, _) = turn_on(&app, "ada@example.com").await;
    let res = app.sign_in_form("ada@example.com", PASSWORD, &[]).await;
    assert_redirect_to(&res, "/login/two-factor");
    drop(res);
    // Times are in seconds: the change comes in a later one.
    rocket::tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let id = user.id;
    app.state()
        .db
        .run(move |conn| gatehouse::db::user::User::set_password_hash(conn, id, "$2b$04$changed"))
        .await
        .unwrap();
    let res = app.code_form(&code(&secret, 1)).await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert!(res.cookies().get("access_token_cookie").is_none());
    drop(res);
    assert_eq!(session_count(&app, user.id).await, 0, "no session");
}
