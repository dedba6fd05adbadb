//! `/register/confirm`, the mailed link: it makes the account and signs in;
//! the password rules; bad, used and expired links; an address taken
//! meanwhile.

use gatehouse::domain::Role;
use rocket::http::{ContentType, Status};

use super::{refused, with_registration};
use crate::common::{assert_redirect_to, form_body, TestApp, PASSWORD};
use crate::db_tests;

db_tests!(
    a_mailed_link_makes_the_account_and_signs_in,
    password_rules_on_the_link_page,
    bad_used_and_expired_links_are_refused,
    an_address_taken_meanwhile_is_refused,
);

async fn a_mailed_link_makes_the_account_and_signs_in(app: TestApp) {
    let app = with_registration(app, &[]).await;
    let res = app
        .request(&[("email", "Ada@Example.com"), ("next", "/protected")])
        .await;
    assert_eq!(res.status(), Status::Ok);
    assert!(res.cookies().get("access_token_cookie").is_none());
    let page = res.into_string().await.unwrap();
    assert!(
        page.contains("Check your email") && page.contains("ada@example.com"),
        "{page}"
    );
    assert!(
        app.find_user("ada@example.com").await.is_none(),
        "no account before the link"
    );

    let mails = app.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, "ada@example.com");
    assert_eq!(mails[0].subject, "Finish creating your Gatehouse account");
    assert!(mails[0].body.contains("within 24 hours"), "{}", mails[0].body);
    let link = app.link_for("ada@example.com");
    assert!(link.starts_with("/register/confirm?token="), "{link}");
    let token = link.split_once("token=").unwrap().1;
    assert_eq!(token.len(), 43, "256 random bits");

    // The link's page: the address, a name and the password fields, and no
    // referrer (the URL holds the token).
    let res = app.get(&link).await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(res.headers().get_one("Referrer-Policy"), Some("no-referrer"));
    let page = res.into_string().await.unwrap();
    assert!(page.contains("value=\"ada@example.com\" readonly"), "{page}");
    for label in ["for=\"name\"", "for=\"password\"", "for=\"confirm_password\""] {
        assert!(page.contains(label), "{label}");
    }

    // The stored row has the token's hash, not the token.
    let stored = app
        .state()
        .db
        .run(|conn| {
            use diesel::prelude::*;
            use gatehouse::db::schema::registrations::dsl::*;
            Ok(registrations.select(token_hash).load::<Option<String>>(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert!(stored[0].as_deref().is_some_and(|h| h.len() == 64 && h != token));

    let res = app.confirm(&link, "a long passphrase", "a long passphrase").await;
    assert_redirect_to(&res, "/protected");
    assert!(res.cookies().get("access_token_cookie").is_some());
    let (status, _, page) = app.follow(res).await;
    assert_eq!(status, Status::Ok);
    assert!(page.contains("Ada Lovelace"));
    let ada = app.find_user("ada@example.com").await.unwrap();
    assert_eq!((ada.role.as_str(), ada.name.as_str()), ("user", "Ada Lovelace"));
    assert!(!ada.must_change_password && !ada.disabled);
    let kinds = app.audit_kinds().await;
    for kind in ["registration_requested", "registered", "sign_in"] {
        assert!(kinds.contains(&kind.to_owned()), "{kind}: {kinds:?}");
    }

    // The password works for signing in later.
    app.sign_out().await;
    let res = app
        .sign_in_form("ada@example.com", "a long passphrase", &[])
        .await;
    assert_redirect_to(&res, "/");
}

async fn password_rules_on_the_link_page(app: TestApp) {
    let app = with_registration(app, &[]).await;
    app.request(&[("email", "ada@example.com")]).await;
    let link = app.link_for("ada@example.com");
    let long = "a1".repeat(37);
    for (password, confirm, field, message) in [
        ("short", "short", "password", "Use at least 8 characters."),
        (
            "password1",
            "password1",
            "password",
            "That password is too common",
        ),
        (long.as_str(), long.as_str(), "password", "Use at most 72 bytes"),
        (
            "a long passphrase",
            "a long passphrasf",
            "confirm_password",
            "The passwords do not match.",
        ),
    ] {
        let res = app.confirm(&link, password, confirm).await;
        assert_eq!(res.status(), Status::UnprocessableEntity, "{password}");
        assert!(res.cookies().get("access_token_cookie").is_none());
        let page = res.into_string().await.unwrap();
        assert!(
            page.contains(&format!("id=\"{field}-error\">{message}")),
            "{password}: {page}"
        );
        assert!(page.contains("value=\"Ada Lovelace\""), "the name is kept");
        assert!(page.contains("value=\"ada@example.com\""), "the address is shown");
        assert!(!page.contains(password), "passwords are never echoed");
    }
    assert!(app.find_user("ada@example.com").await.is_none());
    // The link still works after mistakes.
    let res = app.confirm(&link, PASSWORD, PASSWORD).await;
    assert_redirect_to(&res, "/");
    // A bad address is refused at the first step, with what was typed kept.
    let res = app.request(&[("email", "not an email")]).await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    let page = res.into_string().await.unwrap();
    assert!(page.contains("id=\"email-error\">") && page.contains("value=\"not an email\""));
    assert_eq!(app.mails().len(), 1, "no mail for a bad address");
}

async fn bad_used_and_expired_links_are_refused(app: TestApp) {
    let app = with_registration(app, &[]).await;
    refused(app.get("/register/confirm?token=made-up").await).await;
    refused(app.get("/register/confirm").await).await;
    refused(
        app.get(&format!("/register/confirm?token={}", "x".repeat(500)))
            .await,
    )
    .await;

    // Two links for the same address: the first used spends both.
    app.request(&[("email", "ada@example.com")]).await;
    let first = app.link_for("ada@example.com");
    app.request(&[("email", "ada@example.com")]).await;
    let second = app.link_for("ada@example.com");
    assert_ne!(first, second);
    assert_redirect_to(&app.confirm(&second, PASSWORD, PASSWORD).await, "/");
    app.sign_out().await;
    refused(app.get(&second).await).await;
    refused(app.get(&first).await).await;
    refused(app.confirm(&second, PASSWORD, PASSWORD).await).await;

    // A link past its lifetime.
    app.request(&[("email", "bob@example.com")]).await;
    let link = app.link_for("bob@example.com");
    app.state()
        .db
        .run(|conn| {
            use diesel::prelude::*;
            use gatehouse::db::schema::registrations::dsl::*;
            diesel::update(registrations.filter(email.eq("bob@example.com")))
                .set(expires_at.eq(gatehouse::domain::now() - 1))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    refused(app.get(&link).await).await;
    refused(app.confirm(&link, PASSWORD, PASSWORD).await).await;
    assert!(app.find_user("bob@example.com").await.is_none());
}

async fn an_address_taken_meanwhile_is_refused(app: TestApp) {
    let app = with_registration(app, &[]).await;
    app.request(&[("email", "ada@example.com")]).await;
    let link = app.link_for("ada@example.com");
    // An admin (or a Google sign-in) makes the account before the link is used.
    app.create_user("ada@example.com", "Ada", Role::User).await;
    // The link's page says so (and changes nothing: it is a GET);
    // submitting it does too, makes nothing, and spends the link.
    for _ in 0..2 {
        let res = app.get(&link).await;
        assert_eq!(res.status(), Status::Conflict);
        assert!(res
            .into_string()
            .await
            .unwrap()
            .contains("This address already has an account"));
    }
    let csrf = app.csrf("/register").await;
    let token = link.split_once("token=").unwrap().1;
    let res = app
        .client
        .post("/register/confirm")
        .header(ContentType::Form)
        .body(form_body(&[
            ("csrf_token", &csrf),
            ("token", token),
            ("name", "Mallory"),
            ("password", "a long passphrase"),
            ("confirm_password", "a long passphrase"),
        ]))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Conflict);
    assert!(res.cookies().get("access_token_cookie").is_none());
    refused(app.get(&link).await).await;
    let ada = app.find_user("ada@example.com").await.unwrap();
    assert_eq!(ada.name, "Ada", "the account is untouched");
    app.sign_in("ada@example.com").await;
}
