//! `/password/reset`, the mailed link: it sets the password and signs in,
//! once; the password rules; expired and spent links; what a reset clears
//! (sessions, lockout, `must_change_password`); Google-only and disabled
//! accounts.

use gatehouse::db::user::User;
use gatehouse::domain::Role;
use rocket::http::{Header, Status};
use serde_json::json;

use super::{link_refused, with_reset};
use crate::common::{assert_redirect_to, TestApp, PASSWORD};
use crate::db_tests;

const NEW: &str = "a brand new passphrase";

db_tests!(
    a_link_sets_the_password_and_signs_in_once,
    a_link_expires,
    using_a_link_spends_the_others,
    a_reset_signs_out_everywhere_and_clears_the_lockout,
    a_google_only_account_sets_its_first_password,
    a_disabled_account_is_not_signed_in,
    a_link_works_only_for_the_address_it_was_mailed_to,
    a_password_set_otherwise_spends_the_links,
);

async fn a_link_sets_the_password_and_signs_in_once(app: TestApp) {
    let app = with_reset(app, &[]).await;
    app.create_user("ada@example.com", "Ada Lovelace", Role::User)
        .await;
    let res = app
        .forgot(&[("email", "Ada@Example.com"), ("next", "/protected")])
        .await;
    assert_eq!(res.status(), Status::Ok);
    assert!(res.cookies().get("access_token_cookie").is_none());
    let link = app.link_for("ada@example.com");

    // The link's page: the address and the password fields, and no
    // referrer (the URL holds the token).
    let res = app.get(&link).await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(res.headers().get_one("Referrer-Policy"), Some("no-referrer"));
    let page = res.into_string().await.unwrap();
    assert!(page.contains("value=\"ada@example.com\" readonly"), "{page}");
    assert!(page.contains("for=\"password\"") && page.contains("for=\"confirm_password\""));
    assert!(page.contains("autocomplete=\"new-password\""));

    // The usual rules, each error tied to its field; nothing changes.
    let res = app.reset(&link, "short", "short").await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    assert_eq!(res.headers().get_one("Referrer-Policy"), Some("no-referrer"));
    let page = res.into_string().await.unwrap();
    assert!(page.contains("id=\"password-error\""), "{page}");
    assert!(page.contains("at least 8"), "{page}");
    let res = app.reset(&link, NEW, "not the same").await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    let page = res.into_string().await.unwrap();
    assert!(
        page.contains("aria-describedby=\"confirm_password-error\""),
        "{page}"
    );
    assert!(page.contains("do not match"));
    let res = app.reset(&link, "password", "password").await;
    assert_eq!(res.status(), Status::UnprocessableEntity, "a common password");
    app.sign_in("ada@example.com").await;
    app.sign_out().await;

    // A good one: signed in, back at the page asked for.
    let res = app.reset(&link, NEW, NEW).await;
    assert_redirect_to(&res, "/protected");
    assert!(res.cookies().get("access_token_cookie").is_some());
    let page = app.get("/protected").await.into_string().await.unwrap();
    assert!(page.contains("Ada Lovelace"), "{page}");
    app.sign_out().await;
    let old = app.sign_in_form("ada@example.com", PASSWORD, &[]).await;
    assert_eq!(old.status(), Status::Unauthorized, "the old password is gone");
    let new = app.sign_in_form("ada@example.com", NEW, &[]).await;
    assert_redirect_to(&new, "/");
    app.sign_out().await;

    // Once only.
    link_refused(app.get(&link).await).await;
    link_refused(app.reset(&link, "another passphrase", "another passphrase").await).await;
    let res = app.sign_in_form("ada@example.com", NEW, &[]).await;
    assert_redirect_to(&res, "/");
    // A made-up token, or none.
    link_refused(app.get("/password/reset?token=made-up").await).await;
    link_refused(app.get("/password/reset").await).await;

    let kinds = app.audit_kinds().await;
    assert!(kinds.iter().any(|k| k == "password_reset"), "{kinds:?}");
    let events = app.events().await;
    let (_, detail) = events.iter().find(|(k, _)| k == "password_reset").unwrap();
    assert!(detail.contains("by mailed link"), "{detail}");
}

async fn a_link_expires(app: TestApp) {
    let app = with_reset(app, &[("password_reset_expires", json!(900))]).await;
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let link = app.mailed_link("ada@example.com").await;
    let mail = app.mails().remove(0);
    assert!(mail.body.contains("within 15 minutes"), "{}", mail.body);
    assert_eq!(app.get(&link).await.status(), Status::Ok);
    // Fifteen minutes later.
    app.state()
        .db
        .run(|conn| {
            use diesel::prelude::*;
            use gatehouse::db::schema::password_resets::dsl::*;
            diesel::update(password_resets)
                .set(expires_at.eq(gatehouse::domain::now() - 1))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    link_refused(app.get(&link).await).await;
    link_refused(app.reset(&link, NEW, NEW).await).await;
    app.sign_in("ada@example.com").await;
}

async fn using_a_link_spends_the_others(app: TestApp) {
    let app = with_reset(app, &[]).await;
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let first = app.mailed_link("ada@example.com").await;
    let second = app.mailed_link("ada@example.com").await;
    assert_ne!(first, second);
    assert_redirect_to(&app.reset(&second, NEW, NEW).await, "/");
    app.sign_out().await;
    link_refused(app.get(&first).await).await;
    link_refused(
        app.reset(&first, "an older passphrase", "an older passphrase")
            .await,
    )
    .await;
    let res = app.sign_in_form("ada@example.com", NEW, &[]).await;
    assert_redirect_to(&res, "/");
}

async fn a_reset_signs_out_everywhere_and_clears_the_lockout(app: TestApp) {
    let app = with_reset(app, &[("login.max_failures", json!(3))]).await;
    let ada = app.create_user("ada@example.com", "Ada", Role::User).await;
    // Signed in elsewhere: a browser's cookies and an API client's token.
    let browser = gatehouse::testing::sign_in(app.state(), &ada).await.unwrap();
    let api = gatehouse::testing::sign_in(app.state(), &ada).await.unwrap();
    for tokens in [&browser, &api] {
        let res = app
            .bare
            .get("/api/v1/me")
            .header(tokens.authorization())
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::Ok);
    }
    // Locked by wrong guesses, and due to change the password.
    for _ in 0..3 {
        app.sign_in_form("ada@example.com", "a wrong guess", &[]).await;
    }
    let id = ada.id;
    app.state()
        .db
        .run(move |conn| {
            use diesel::prelude::*;
            use gatehouse::db::schema::users;
            diesel::update(users::table.find(id))
                .set(users::must_change_password.eq(true))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    let locked = app.find_user("ada@example.com").await.unwrap();
    assert!(locked.is_locked(gatehouse::domain::now()) && locked.must_change_password);
    let res = app.sign_in_form("ada@example.com", PASSWORD, &[]).await;
    assert_eq!(res.status(), Status::Unauthorized, "locked");

    let link = app.mailed_link("ada@example.com").await;
    assert_redirect_to(&app.reset(&link, NEW, NEW).await, "/");

    // Every earlier session is over, cookie or bearer.
    let res = app
        .bare
        .get("/api/v1/me")
        .header(api.authorization())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Unauthorized);
    let mut req = app.bare.get("/api/v1/me");
    for cookie in browser.cookies() {
        req = req.cookie(cookie);
    }
    assert_eq!(req.dispatch().await.status(), Status::Unauthorized);
    // The new session works, with no password change asked for.
    let res = app.get_json("/api/v1/me").await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(app.get("/protected").await.status(), Status::Ok);

    let user: User = app.find_user("ada@example.com").await.unwrap();
    assert_eq!((user.failed_logins, user.locked_until), (0, None));
    assert!(!user.must_change_password);
    app.sign_out().await;
    let res = app.sign_in_form("ada@example.com", NEW, &[]).await;
    assert_redirect_to(&res, "/");
    let events = app.events().await;
    let (_, detail) = events.iter().find(|(k, _)| k == "password_reset").unwrap();
    assert!(detail.contains("2 session(s) signed out"), "{detail}");
}

async fn a_google_only_account_sets_its_first_password(app: TestApp) {
    let app = with_reset(app, &[]).await;
    app.create_user("gina@example.com", "Gina", Role::User).await;
    app.make_google_only("gina@example.com").await;
    let res = app.sign_in_form("gina@example.com", PASSWORD, &[]).await;
    assert_eq!(res.status(), Status::Unauthorized, "no password yet");
    let link = app.mailed_link("gina@example.com").await;
    assert_redirect_to(&app.reset(&link, NEW, NEW).await, "/");
    app.sign_out().await;
    let res = app.sign_in_form("gina@example.com", NEW, &[]).await;
    assert_redirect_to(&res, "/");
    let gina = app.find_user("gina@example.com").await.unwrap();
    assert_eq!(gina.google_sub.as_deref(), Some("google-sub-1"), "still linked");
}

async fn a_disabled_account_is_not_signed_in(app: TestApp) {
    let app = with_reset(app, &[]).await;
    let ada = app.create_user("ada@example.com", "Ada", Role::User).await;
    let link = app.mailed_link("ada@example.com").await;
    app.state()
        .db
        .run(move |conn| User::set_disabled(conn, ada.id, true))
        .await
        .unwrap();
    for res in [app.get(&link).await, app.reset(&link, NEW, NEW).await] {
        assert_eq!(res.status(), Status::Forbidden);
        assert!(res.cookies().get("access_token_cookie").is_none());
        let page = res.into_string().await.unwrap();
        assert!(page.contains("This account is disabled"), "{page}");
    }
    let res = app
        .bare
        .post("/api/v1/password/reset")
        .header(rocket::http::ContentType::JSON)
        .header(Header::new("Accept", "application/json"))
        .body(json!({ "token": link.split_once("token=").unwrap().1, "new_password": NEW }).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Forbidden);
    // Nothing changed: once enabled again, the old password works.
    app.state()
        .db
        .run(move |conn| User::set_disabled(conn, ada.id, false))
        .await
        .unwrap();
    app.sign_in("ada@example.com").await;
}

async fn a_link_works_only_for_the_address_it_was_mailed_to(app: TestApp) {
    let app = with_reset(app, &[]).await;
    let ada = app.create_user("ada@example.com", "Ada", Role::User).await;
    let link = app.mailed_link("ada@example.com").await;
    // An admin gives the account another address.
    let other = gatehouse::domain::Email::parse("ada@elsewhere.example").unwrap();
    app.state()
        .db
        .run(move |conn| User::update_profile(conn, ada.id, None, Some(&other)))
        .await
        .unwrap();
    link_refused(app.get(&link).await).await;
    link_refused(app.reset(&link, NEW, NEW).await).await;
    app.sign_in("ada@elsewhere.example").await;
}

/// A password set another way (changed by its owner, or a temporary one
/// from an admin) spends the links mailed before: they can't undo it.
async fn a_password_set_otherwise_spends_the_links(app: TestApp) {
    let app = with_reset(app, &[]).await;
    let ada = app.create_user("ada@example.com", "Ada", Role::User).await;
    for temporary in [false, true] {
        let link = app.mailed_link("ada@example.com").await;
        let id = ada.id;
        app.state()
            .db
            .run(move |conn| {
                let hash = "$2b$04$set.otherwise";
                if temporary {
                    User::set_temporary_password(conn, id, hash)
                } else {
                    User::set_password_hash(conn, id, hash)
                }
            })
            .await
            .unwrap();
        link_refused(app.get(&link).await).await;
        link_refused(app.reset(&link, NEW, NEW).await).await;
    }
}
