//! Limits: requests and submissions count with sign-ins per address, three
//! mails an hour per address, and simultaneous requests and submissions.

use gatehouse::domain::Role;
use rocket::http::{ContentType, Status};
use serde_json::json;

use super::with_registration;
use crate::common::{form_body, TestApp, PASSWORD};
use crate::db_tests;

db_tests!(
    registration_is_rate_limited,
    mails_per_address_are_limited,
    submitting_a_link_is_rate_limited,
    simultaneous_requests_and_submissions,
);

async fn registration_is_rate_limited(app: TestApp) {
    let app = with_registration(app, &[("login.rate_limit_per_minute", json!(3))]).await;
    app.create_user("ada@example.com", "Ada", Role::User).await;
    // New and known emails count alike, with sign-ins, per address.
    app.request(&[("email", "one@example.com")]).await;
    app.request(&[("email", "ada@example.com")]).await;
    app.sign_in_form("nobody@example.com", "wrong guess", &[]).await;
    for email in ["two@example.com", "ada@example.com"] {
        let res = app.request(&[("email", email)]).await;
        assert_eq!(res.status(), Status::TooManyRequests);
        let page = res.into_string().await.unwrap();
        assert!(
            page.contains(&format!("value=\"{email}\"")),
            "the address is kept"
        );
    }
    assert_eq!(app.mails().len(), 2, "no mail once limited");
}

async fn mails_per_address_are_limited(app: TestApp) {
    let app = with_registration(app, &[]).await;
    app.create_user("ada@example.com", "Ada", Role::User).await;
    for email in ["ada@example.com", "victim@example.com"] {
        for _ in 0..5 {
            let res = app.request(&[("email", email)]).await;
            assert_eq!(res.status(), Status::Ok, "the same answer every time");
        }
        let count = app.mails().iter().filter(|m| m.to == email).count();
        assert_eq!(count, 3, "{email}: three mails an hour at most");
    }
    // An hour later, mail flows again.
    app.state()
        .db
        .run(|conn| {
            use diesel::prelude::*;
            use gatehouse::db::schema::registrations::dsl::*;
            diesel::update(registrations)
                .set(created_at.eq(gatehouse::domain::now() - 3601))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    app.request(&[("email", "victim@example.com")]).await;
    assert_eq!(
        app.mails()
            .iter()
            .filter(|m| m.to == "victim@example.com")
            .count(),
        4
    );
}

async fn submitting_a_link_is_rate_limited(app: TestApp) {
    let app = with_registration(app, &[("login.rate_limit_per_minute", json!(2))]).await;
    app.request(&[("email", "ada@example.com")]).await;
    let link = app.link_for("ada@example.com");
    // Submissions count with sign-ins: the second one here is over.
    app.sign_in_form("nobody@example.com", "wrong guess", &[]).await;
    let res = app.confirm(&link, PASSWORD, PASSWORD).await;
    assert_eq!(res.status(), Status::TooManyRequests);
    assert!(res.into_string().await.unwrap().contains("Too many"));
    assert!(app.find_user("ada@example.com").await.is_none());
    assert!(
        app.get(&link).await.status() == Status::Ok,
        "the link still works later"
    );
}

async fn simultaneous_requests_and_submissions(app: TestApp) {
    use rocket::futures::future::join_all;
    let app = with_registration(app, &[]).await;
    // Six requests for one address at once: three mails, no errors.
    let csrf = app.csrf("/register").await;
    let body = form_body(&[("csrf_token", &csrf), ("email", "ada@example.com")]);
    let statuses: Vec<Status> = join_all((0..6).map(|_| {
        app.client
            .post("/register")
            .header(ContentType::Form)
            .body(body.clone())
            .dispatch()
    }))
    .await
    .iter()
    .map(|r| r.status())
    .collect();
    assert!(statuses.iter().all(|s| *s == Status::Ok), "{statuses:?}");
    assert_eq!(app.mails().len(), 3);

    // One link submitted twice at once (a double click): one account, one
    // session; the other submission finds the link spent.
    let link = app.links_for("ada@example.com").remove(0);
    let token = link.split_once("token=").unwrap().1.to_owned();
    let csrf = app.csrf(&link).await;
    let body = form_body(&[
        ("csrf_token", &csrf),
        ("token", &token),
        ("name", "Ada"),
        ("password", PASSWORD),
        ("confirm_password", PASSWORD),
    ]);
    let mut statuses: Vec<u16> = join_all((0..2).map(|_| {
        app.client
            .post("/register/confirm")
            .header(ContentType::Form)
            .body(body.clone())
            .dispatch()
    }))
    .await
    .iter()
    .map(|r| r.status().code)
    .collect();
    statuses.sort();
    assert_eq!(statuses, [303, 404]);
    assert!(app.find_user("ada@example.com").await.is_some());
    let sessions = app
        .state()
        .db
        .run(|conn| {
            use diesel::prelude::*;
            Ok(gatehouse::db::schema::sessions::table
                .count()
                .get_result::<i64>(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(sessions, 1);
}
