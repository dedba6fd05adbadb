//! `/password/forgot`, the first step: the same answer (and the same work)
//! for an account, a Google-only account, an unknown and a disabled address,
//! with the right mail for each; CSRF; off, every path is a 404 and the
//! sign-in page has no link.

use gatehouse::domain::Role;
use rocket::http::{ContentType, Header, Status};
use serde_json::json;

use super::with_reset;
use crate::common::{form_body, TestApp};
use crate::db_tests;

db_tests!(
    every_address_gets_the_same_answer_and_its_own_mail,
    a_note_says_how_to_register_when_one_can,
    a_malformed_address_is_422,
    the_forms_need_csrf,
    off_it_is_a_404_and_the_sign_in_page_has_no_link,
    public_under_deny_by_default,
);

async fn every_address_gets_the_same_answer_and_its_own_mail(app: TestApp) {
    let app = with_reset(app, &[]).await;
    app.create_user("ada@example.com", "Ada", Role::User).await;
    app.create_user("gina@example.com", "Gina", Role::User).await;
    app.make_google_only("gina@example.com").await;
    let dora = app.create_user("dora@example.com", "Dora", Role::User).await;
    app.state()
        .db
        .run(move |conn| gatehouse::db::user::User::set_disabled(conn, dora.id, true))
        .await
        .unwrap();

    let answer = |email: &'static str| {
        let app = &app;
        async move {
            let res = app.forgot(&[("email", email), ("next", "/protected")]).await;
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
    let mut answers = Vec::new();
    for email in [
        "ada@example.com",
        "gina@example.com",
        "carol@example.com",
        "dora@example.com",
    ] {
        let (rows, events) = (app.reset_rows().await, app.events().await.len());
        answers.push(answer(email).await);
        // The same work: one row, one audit event and one mail each.
        assert_eq!(
            (app.reset_rows().await - rows, app.events().await.len() - events),
            (1, 1),
            "{email}"
        );
        assert_eq!(app.new_mails(email).len(), 1, "{email}");
    }
    assert_eq!(answers[0].0, Status::Ok);
    assert!(answers[0].3.contains("Check your email"), "{}", answers[0].3);
    for other in &answers[1..] {
        assert_eq!(&answers[0], other, "the same answer");
    }

    let mail = |to: &str| app.mails().into_iter().find(|m| m.to == to).unwrap();
    let ada = mail("ada@example.com");
    assert_eq!(ada.subject, "Reset your Gatehouse password");
    assert!(ada.body.contains("within 1 hour"), "{}", ada.body);
    let link = ada.reset_link().unwrap();
    assert!(link.starts_with("/password/reset?token="), "{link}");
    assert_eq!(link.split_once("token=").unwrap().1.len(), 43, "256 random bits");

    let gina = mail("gina@example.com");
    assert_eq!(gina.subject, "Set a password for your Gatehouse account");
    assert!(gina.body.contains("signs in with Google"), "{}", gina.body);
    assert!(gina.reset_link().is_some(), "Google-only accounts get a link too");

    for (to, says) in [
        ("carol@example.com", "There is no account with this address"),
        ("dora@example.com", "This account is disabled"),
    ] {
        let note = mail(to);
        assert!(note.body.contains(says), "{}", note.body);
        assert!(
            note.reset_link().is_none() && !note.body.contains("token"),
            "no link"
        );
    }
    assert!(
        !mail("carol@example.com").body.contains("/register"),
        "registration is off"
    );

    // The stored rows hold the tokens' hashes, never a token.
    let token = link.split_once("token=").unwrap().1.to_owned();
    let stored = app
        .state()
        .db
        .run(|conn| {
            use diesel::prelude::*;
            use gatehouse::db::schema::password_resets::dsl::*;
            Ok(password_resets.select(token_hash).load::<Option<String>>(conn)?)
        })
        .await
        .unwrap();
    let hashes: Vec<&String> = stored.iter().flatten().collect();
    assert_eq!(hashes.len(), 2, "links for Ada and Gina only");
    assert!(hashes.iter().all(|h| h.len() == 64 && **h != token));

    // The audit log says what was sent to whom.
    let events = app.events().await;
    let details: Vec<&str> = events
        .iter()
        .filter(|(k, _)| k == "password_reset_requested")
        .map(|(_, d)| d.as_str())
        .collect();
    assert_eq!(
        details,
        [
            "account disabled, note sent",
            "no account, note sent",
            "link sent",
            "link sent"
        ]
    );
    // Nothing about the accounts changed.
    let ada = app.find_user("ada@example.com").await.unwrap();
    assert!(ada.password_hash.is_some() && ada.failed_logins == 0);
    app.sign_in("ada@example.com").await;
}

async fn a_note_says_how_to_register_when_one_can(app: TestApp) {
    let app = with_reset(app, &[("registration", json!(true))]).await;
    app.forgot(&[("email", "carol@example.com")]).await;
    let note = app.new_mails("carol@example.com").remove(0);
    assert!(
        note.body.contains("http://localhost:8000/register"),
        "{}",
        note.body
    );
}

async fn a_malformed_address_is_422(app: TestApp) {
    let app = with_reset(app, &[]).await;
    let res = app.forgot(&[("email", "ada@")]).await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    let page = res.into_string().await.unwrap();
    assert!(page.contains("aria-describedby=\"email-error\""), "{page}");
    assert!(page.contains("value=\"ada@\""), "kept");
    assert!(app.mails().is_empty());
}

async fn the_forms_need_csrf(app: TestApp) {
    let app = with_reset(app, &[]).await;
    app.create_user("ada@example.com", "Ada", Role::User).await;
    app.get("/password/forgot").await;
    for fields in [vec![], vec![("csrf_token", "forged")]] {
        let mut all = fields.clone();
        all.push(("email", "ada@example.com"));
        let res = app
            .client
            .post("/password/forgot")
            .header(ContentType::Form)
            .body(form_body(&all))
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::Forbidden);
    }
    assert!(app.mails().is_empty());

    let link = app.mailed_link("ada@example.com").await;
    let token = link.split_once("token=").unwrap().1;
    for csrf in [None, Some("forged")] {
        let mut fields = vec![
            ("token", token),
            ("password", "a new long passphrase"),
            ("confirm_password", "a new long passphrase"),
        ];
        fields.extend(csrf.map(|c| ("csrf_token", c)));
        let res = app
            .client
            .post("/password/reset")
            .header(ContentType::Form)
            .body(form_body(&fields))
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::Forbidden);
    }
    app.sign_in("ada@example.com").await;
    assert_eq!(app.get(&link).await.status(), Status::Ok, "the link still works");
}

async fn off_it_is_a_404_and_the_sign_in_page_has_no_link(app: TestApp) {
    // On by default in debug (the `log` transport prints the link).
    let login = app
        .get("/login?next=/protected")
        .await
        .into_string()
        .await
        .unwrap();
    assert!(login.contains("Forgot your password?"), "{login}");
    assert!(
        login.contains("href=\"/password/forgot?next=%2Fprotected\""),
        "{login}"
    );
    let page = app.get("/password/forgot").await.into_string().await.unwrap();
    assert!(page.contains("for=\"email\"") && page.contains("autocomplete=\"username\""));

    let backend = app.backend;
    drop(app);
    let app = TestApp::spawn_with(backend, |f| f.merge(("password_reset", false)))
        .await
        .unwrap();
    let login = app.get("/login").await.into_string().await.unwrap();
    assert!(
        !login.contains("/password/forgot") && !login.contains("Forgot your password"),
        "no link while it is off"
    );
    assert_eq!(app.get("/password/forgot").await.status(), Status::NotFound);
    assert_eq!(
        app.get("/password/reset?token=x").await.status(),
        Status::NotFound
    );
    let csrf = app.csrf("/login").await;
    for path in ["/password/forgot", "/password/reset"] {
        let body = form_body(&[
            ("csrf_token", &csrf),
            ("email", "ada@example.com"),
            ("token", "x"),
            ("password", "a new long passphrase"),
            ("confirm_password", "a new long passphrase"),
        ]);
        let res = app
            .client
            .post(path)
            .header(ContentType::Form)
            .body(body)
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::NotFound, "{path}");
    }
    for (path, body) in [
        ("/api/v1/password/forgot", r#"{"email":"ada@example.com"}"#),
        (
            "/api/v1/password/reset",
            r#"{"token":"x","new_password":"a new long passphrase"}"#,
        ),
    ] {
        let res = app
            .bare
            .post(path)
            .header(ContentType::JSON)
            .header(Header::new("Accept", "application/json"))
            .body(body)
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::NotFound, "{path}");
        let body: serde_json::Value = res.into_json().await.unwrap();
        assert_eq!(body["status_code"], 404);
    }
}

async fn public_under_deny_by_default(app: TestApp) {
    let app = with_reset(app, &[("deny_by_default", json!(true))]).await;
    app.create_user("ada@example.com", "Ada", Role::User).await;
    assert_eq!(app.get("/password/forgot").await.status(), Status::Ok);
    let link = app.mailed_link("ada@example.com").await;
    assert_eq!(app.get(&link).await.status(), Status::Ok);
    let res = app
        .reset(&link, "a brand new passphrase", "a brand new passphrase")
        .await;
    crate::common::assert_redirect_to(&res, "/");
    let res = app
        .bare
        .post("/api/v1/password/forgot")
        .header(ContentType::JSON)
        .body(r#"{"email":"ada@example.com"}"#)
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Accepted);
}
