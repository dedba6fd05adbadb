//! Registration: off by default (404); an email first, answered the same
//! whether it has an account or not, with a mail either way; the mailed link
//! then takes a name and a password (the usual rules) and ends in a session.

use gatehouse::domain::Role;
use rocket::http::{ContentType, Status};
use serde_json::{json, Value};

use crate::common::{assert_redirect_to, form_body, TestApp, PASSWORD};
use crate::db_tests;
use crate::mailbox::{mail_files, mails, Mail};
use crate::smtp_server::SmtpServer;

db_tests!(
    registration_is_off_by_default,
    a_mailed_link_makes_the_account_and_signs_in,
    password_rules_on_the_link_page,
    a_known_email_gets_the_same_answer,
    bad_used_and_expired_links_are_refused,
    an_address_taken_meanwhile_is_refused,
    registration_needs_csrf,
    registration_is_rate_limited,
    mails_per_address_are_limited,
    a_mail_failure_is_reported_alike,
    smtp_delivers_the_link,
    simultaneous_requests_and_submissions,
    submitting_a_link_is_rate_limited,
);

/// The app with registration on, mailing to files in a directory of its own.
struct Registering {
    app: TestApp,
    mail_dir: tempfile::TempDir,
    /// Mail files whose link a test has taken.
    taken: std::sync::Mutex<std::collections::HashSet<std::path::PathBuf>>,
}

impl std::ops::Deref for Registering {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.app
    }
}

async fn with_registration(app: TestApp, extra: &[(&str, Value)]) -> Registering {
    let backend = app.backend;
    drop(app);
    let mail_dir = tempfile::tempdir().unwrap();
    let dir = mail_dir.path().display().to_string();
    let app = TestApp::spawn_with(backend, |f| {
        let f = f
            .merge(("registration", true))
            .merge(("mail.transport", "file"))
            .merge(("mail.dir", dir.clone()));
        extra.iter().fold(f, |f, (k, v)| f.merge((*k, v.clone())))
    })
    .await
    .unwrap();
    Registering {
        app,
        mail_dir,
        taken: Default::default(),
    }
}

impl Registering {
    fn mails(&self) -> Vec<Mail> {
        mails(self.mail_dir.path())
    }

    /// The link in the one mail to `email` not looked at yet. (Files are
    /// told apart by name: their times can tie.)
    fn link_for(&self, email: &str) -> String {
        let links = self.links_for(email);
        assert_eq!(links.len(), 1, "one new mail to {email}: {links:?}");
        links.into_iter().next().unwrap()
    }

    /// The links in every mail to `email` not looked at yet.
    fn links_for(&self, email: &str) -> Vec<String> {
        let mut taken = self.taken.lock().unwrap();
        mail_files(self.mail_dir.path())
            .into_iter()
            .filter(|(path, mail)| mail.to == email && taken.insert(path.clone()))
            .map(|(_, mail)| {
                mail.link()
                    .unwrap_or_else(|| panic!("no link in the mail to {email}: {mail:?}"))
            })
            .collect()
    }

    /// Step 1, as the browser sends it.
    async fn request(&self, fields: &[(&str, &str)]) -> rocket::local::asynchronous::LocalResponse<'_> {
        let csrf = self.csrf("/register").await;
        let mut all = vec![("csrf_token", csrf.as_str())];
        all.extend_from_slice(fields);
        self.client
            .post("/register")
            .header(ContentType::Form)
            .body(form_body(&all))
            .dispatch()
            .await
    }

    /// Step 2: the link's form, with a name and a password.
    async fn confirm(
        &self,
        link: &str,
        password: &str,
        confirm: &str,
    ) -> rocket::local::asynchronous::LocalResponse<'_> {
        let csrf = self.csrf(link).await;
        let token = link.split_once("token=").unwrap().1;
        self.client
            .post("/register/confirm")
            .header(ContentType::Form)
            .body(form_body(&[
                ("csrf_token", &csrf),
                ("token", token),
                ("name", "Ada Lovelace"),
                ("password", password),
                ("confirm_password", confirm),
            ]))
            .dispatch()
            .await
    }

    async fn registration_rows(&self) -> i64 {
        self.state()
            .db
            .run(|conn| {
                use diesel::prelude::*;
                Ok(gatehouse::db::schema::registrations::table
                    .count()
                    .get_result::<i64>(conn)?)
            })
            .await
            .unwrap()
    }
}

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

async fn refused(res: rocket::local::asynchronous::LocalResponse<'_>) {
    assert_eq!(res.status(), Status::NotFound);
    let page = res.into_string().await.unwrap();
    assert!(
        page.contains("This link has expired or has already been used."),
        "{page}"
    );
    assert!(page.contains("action=\"/register\""), "a form to ask again");
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

async fn a_mail_failure_is_reported_alike(app: TestApp) {
    // An SMTP server that is not there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = format!("smtp://127.0.0.1:{port}");
    let app = with_registration(
        app,
        &[("mail.transport", json!("smtp")), ("mail.smtp_url", json!(url))],
    )
    .await;
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let mut pages = Vec::new();
    for email in ["ada@example.com", "carol@example.com"] {
        let res = app.request(&[("email", email)]).await;
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
    // Mails not sent don't count towards the per-address limit: every try
    // says so, none is answered "sent".
    for _ in 0..4 {
        let res = app.request(&[("email", "carol@example.com")]).await;
        assert_eq!(res.status(), Status::ServiceUnavailable);
    }
    assert_eq!(app.registration_rows().await, 0);
    let failures = app
        .state()
        .db
        .run(|conn| gatehouse::db::audit::recent(conn, None, 100))
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "registration_requested" && e.detail == "mail not sent")
        .count();
    assert_eq!(failures, 6, "each failure is in the audit log");
}

async fn smtp_delivers_the_link(app: TestApp) {
    let smtp = SmtpServer::start();
    let app = with_registration(
        app,
        &[
            ("mail.transport", json!("smtp")),
            ("mail.smtp_url", json!(smtp.url())),
            ("mail.from", json!("Gatehouse <accounts@example.com>")),
            ("public_url", json!("https://accounts.example.com/")),
        ],
    )
    .await;
    assert_eq!(
        app.request(&[("email", "ada@example.com")]).await.status(),
        Status::Ok
    );
    let received = smtp.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].from, "accounts@example.com");
    assert_eq!(received[0].to, ["ada@example.com"]);
    let mail = Mail::parse(&received[0].data);
    assert_eq!(mail.subject, "Finish creating your Gatehouse account");
    let path = mail
        .link_under("https://accounts.example.com")
        .expect("a link under public_url");
    assert_redirect_to(&app.confirm(&path, PASSWORD, PASSWORD).await, "/");
    assert!(app.find_user("ada@example.com").await.is_some());
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
