//! Limits: three mails an hour per address, whatever it is; requests and
//! link submissions count with sign-ins towards the per-IP limit; a mail
//! that can't be sent is reported alike for every address.

use gatehouse::domain::Role;
use rocket::http::{ContentType, Status};
use serde_json::json;

use super::with_reset;
use crate::common::TestApp;
use crate::db_tests;

db_tests!(
    mails_per_address_are_limited,
    requests_are_rate_limited_per_ip,
    submitting_a_link_is_rate_limited,
    a_mail_failure_is_reported_alike,
);

async fn mails_per_address_are_limited(app: TestApp) {
    let app = with_reset(app, &[]).await;
    app.create_user("ada@example.com", "Ada", Role::User).await;
    for email in ["ada@example.com", "victim@example.com"] {
        for _ in 0..5 {
            let res = app.forgot(&[("email", email)]).await;
            assert_eq!(res.status(), Status::Ok, "the same answer every time");
        }
        let count = app.mails().iter().filter(|m| m.to == email).count();
        assert_eq!(count, 3, "{email}: three mails an hour at most");
    }
    let events = app.events().await;
    let limited = events
        .iter()
        .filter(|(k, d)| k == "password_reset_requested" && d == "mail limit reached, none sent")
        .count();
    assert_eq!(limited, 4);
    // An hour later, mail flows again.
    app.state()
        .db
        .run(|conn| {
            use diesel::prelude::*;
            use gatehouse::db::schema::password_resets::dsl::*;
            diesel::update(password_resets)
                .set(created_at.eq(gatehouse::domain::now() - 3601))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    app.forgot(&[("email", "ada@example.com")]).await;
    let count = app.mails().iter().filter(|m| m.to == "ada@example.com").count();
    assert_eq!(count, 4);
}

async fn requests_are_rate_limited_per_ip(app: TestApp) {
    let app = with_reset(app, &[("login.rate_limit_per_minute", json!(3))]).await;
    app.create_user("ada@example.com", "Ada", Role::User).await;
    // Known and unknown addresses count alike, with sign-ins.
    app.forgot(&[("email", "one@example.com")]).await;
    app.forgot(&[("email", "ada@example.com")]).await;
    app.sign_in_form("nobody@example.com", "wrong guess", &[]).await;
    for email in ["two@example.com", "ada@example.com"] {
        let res = app.forgot(&[("email", email)]).await;
        assert_eq!(res.status(), Status::TooManyRequests);
        let page = res.into_string().await.unwrap();
        assert!(
            page.contains(&format!("value=\"{email}\"")),
            "the address is kept"
        );
    }
    let res = app
        .client
        .post("/api/v1/password/forgot")
        .header(ContentType::JSON)
        .body(r#"{"email":"three@example.com"}"#)
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::TooManyRequests);
    assert_eq!(res.headers().get_one("Retry-After"), Some("60"));
    assert_eq!(app.mails().len(), 2, "no mail once limited");
    assert!(app.audit_kinds().await.iter().any(|k| k == "rate_limited"));
}

async fn submitting_a_link_is_rate_limited(app: TestApp) {
    let app = with_reset(app, &[("login.rate_limit_per_minute", json!(2))]).await;
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let link = app.mailed_link("ada@example.com").await;
    // Submissions count with sign-ins: the second one here is over.
    app.sign_in_form("nobody@example.com", "wrong guess", &[]).await;
    let new = "a brand new passphrase";
    let res = app.reset(&link, new, new).await;
    assert_eq!(res.status(), Status::TooManyRequests);
    assert!(res.into_string().await.unwrap().contains("Too many"));
    assert_eq!(
        app.get(&link).await.status(),
        Status::Ok,
        "the link still works later"
    );
    let ada = app.find_user("ada@example.com").await.unwrap();
    assert_eq!(ada.last_sign_in_at, None, "not signed in");
}

async fn a_mail_failure_is_reported_alike(app: TestApp) {
    // An SMTP server that is not there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = format!("smtp://127.0.0.1:{port}");
    let app = with_reset(
        app,
        &[("mail.transport", json!("smtp")), ("mail.smtp_url", json!(url))],
    )
    .await;
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let mut pages = Vec::new();
    for email in ["ada@example.com", "carol@example.com"] {
        let res = app.forgot(&[("email", email)]).await;
        assert_eq!(res.status(), Status::ServiceUnavailable, "{email}");
        let page = res.into_string().await.unwrap();
        assert!(page.contains("We could not send the mail just now."), "{page}");
        assert!(
            page.contains(&format!("value=\"{email}\"")),
            "the address is kept"
        );
        let page = page.replace(email, "EMAIL");
        pages.push(page.replace(&crate::common::csrf_in(&page).unwrap(), "CSRF"));
    }
    assert_eq!(pages[0], pages[1]);
    // Mails not sent don't count towards the per-address limit.
    for _ in 0..4 {
        let res = app.forgot(&[("email", "ada@example.com")]).await;
        assert_eq!(res.status(), Status::ServiceUnavailable);
    }
    assert_eq!(app.reset_rows().await, 0);
    let failures = app
        .events()
        .await
        .into_iter()
        .filter(|(k, d)| k == "password_reset_requested" && d == "mail not sent")
        .count();
    assert_eq!(failures, 6, "each failure is in the audit log");
}
