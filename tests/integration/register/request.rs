//! `/register`, the first step: off by default, the same answer (and the
//! same work) for a known and an unknown address, and the CSRF value.

use gatehouse::domain::Role;
use rocket::http::{ContentType, Status};

use super::with_registration;
use crate::common::{form_body, TestApp, PASSWORD};
use crate::db_tests;

db_tests!(
    registration_is_off_by_default,
    a_known_email_gets_the_same_answer,
    registration_needs_csrf,
);

async fn registration_is_off_by_default(app: TestApp) {
    assert_eq!(app.get("/register").await.status(), Status::NotFound);
    assert_eq!(
        app.get("/register/confirm?token=x").await.status(),
        Status::NotFound
    );
    let csrf = app.csrf("/login").await;
    let status = app
        .client
        .post("/register")
        .header(ContentType::Form)
        .body(form_body(&[("csrf_token", &csrf), ("email", "ada@example.com")]))
        .dispatch()
        .await
        .status();
    assert_eq!(status, Status::NotFound);
    let login = app.get("/login").await.into_string().await.unwrap();
    assert!(!login.contains("/register"), "no link while it is off");

    let app = with_registration(app, &[]).await;
    let login = app.get("/login").await.into_string().await.unwrap();
    assert!(
        login.contains("href=\"&#x2F;register\"") || login.contains("href=\"/register\""),
        "{login}"
    );
    let page = app.get("/register").await.into_string().await.unwrap();
    assert!(page.contains("for=\"email\""), "{page}");
    assert!(
        !page.contains("name=\"password\""),
        "the password comes after the mail"
    );
}

async fn a_known_email_gets_the_same_answer(app: TestApp) {
    let app = with_registration(app, &[]).await;
    app.create_user("ada@example.com", "Ada", Role::User).await;

    let answer = |email: &'static str| {
        let app = &app;
        async move {
            let res = app.request(&[("email", email), ("next", "/protected")]).await;
            let status = res.status();
            let mut headers: Vec<String> = res
                .headers()
                .iter()
                .map(|h| h.name().as_str().to_ascii_lowercase())
                .collect();
            headers.sort();
            let cookies: Vec<String> = res.cookies().iter().map(|c| c.name().to_owned()).collect();
            let page = res.into_string().await.unwrap();
            // The page differs only by the address it repeats (and the
            // per-page CSRF value).
            let page = page.replace(email, "EMAIL");
            let page = match crate::common::csrf_in(&page) {
                Some(csrf) => page.replace(&csrf, "CSRF"),
                None => page,
            };
            (status, headers, cookies, page)
        }
    };
    let (rows, events) = (app.registration_rows().await, app.audit_kinds().await.len());
    let known = answer("ada@example.com").await;
    let (rows_known, events_known) = (app.registration_rows().await, app.audit_kinds().await.len());
    let unknown = answer("carol@example.com").await;
    assert_eq!(known, unknown, "the same answer");
    assert_eq!(known.0, Status::Ok);
    // The same work: one row, one audit event and one mail each.
    assert_eq!((rows_known - rows, events_known - events), (1, 1));
    assert_eq!(
        (
            app.registration_rows().await - rows_known,
            app.audit_kinds().await.len() - events_known
        ),
        (1, 1)
    );
    let mails = app.mails();
    assert_eq!(mails.len(), 2);

    // Only the owner of the address learns it has an account, from a mail
    // with no link; nothing about the account changed.
    let to_ada = mails.iter().find(|m| m.to == "ada@example.com").unwrap();
    assert_eq!(to_ada.subject, "Your Gatehouse account");
    assert!(to_ada.body.contains("already has an account"), "{}", to_ada.body);
    assert!(to_ada.body.contains("http://localhost:8000/login"));
    assert!(to_ada.link().is_none() && !to_ada.body.contains("token"));
    let ada = app.find_user("ada@example.com").await.unwrap();
    assert_eq!((ada.name.as_str(), ada.failed_logins), ("Ada", 0));
    app.sign_in("ada@example.com").await;
    assert!(app.link_for("carol@example.com").contains("token="));
}

async fn registration_needs_csrf(app: TestApp) {
    let app = with_registration(app, &[]).await;
    app.get("/register").await;
    for fields in [vec![], vec![("csrf_token", "forged")]] {
        let mut all = fields.clone();
        all.push(("email", "ada@example.com"));
        let res = app
            .client
            .post("/register")
            .header(ContentType::Form)
            .body(form_body(&all))
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::Forbidden);
    }
    assert!(app.mails().is_empty());

    app.request(&[("email", "ada@example.com")]).await;
    let link = app.link_for("ada@example.com");
    let token = link.split_once("token=").unwrap().1;
    let res = app
        .client
        .post("/register/confirm")
        .header(ContentType::Form)
        .body(form_body(&[
            ("token", token),
            ("name", "Ada"),
            ("password", PASSWORD),
            ("confirm_password", PASSWORD),
        ]))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Forbidden);
    assert!(app.find_user("ada@example.com").await.is_none());
}
