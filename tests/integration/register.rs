//! Registration: off by default (404), the password rules, a session on
//! success, and no way to learn whether an email has an account without its
//! password.

use std::time::{Duration, Instant};

use gatehouse::domain::{Email, Role};
use rocket::http::{ContentType, Status};

use crate::common::{assert_redirect_to, form_body, TestApp, PASSWORD};
use crate::db_tests;

db_tests!(
    registration_is_off_by_default,
    registration_rules,
    registration_signs_in,
    existing_email_is_a_sign_in,
    registration_needs_csrf,
    registration_is_rate_limited,
);

/// The same app, with registration on (and any other setting).
async fn with_registration(app: TestApp, extra: &'static [(&'static str, u32)]) -> TestApp {
    let backend = app.backend;
    drop(app);
    TestApp::spawn_with(backend, |f| {
        extra
            .iter()
            .fold(f.merge(("registration", true)), |f, (k, v)| f.merge((*k, *v)))
    })
    .await
    .unwrap()
}

async fn submit<'a>(
    app: &'a TestApp,
    fields: &[(&str, &str)],
) -> rocket::local::asynchronous::LocalResponse<'a> {
    let csrf = app.csrf("/register").await;
    let mut all = vec![("csrf_token", csrf.as_str())];
    all.extend_from_slice(fields);
    app.client
        .post("/register")
        .header(ContentType::Form)
        .body(form_body(&all))
        .dispatch()
        .await
}

fn fields<'a>(email: &'a str, password: &'a str, confirm: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("email", email),
        ("name", "Ada Lovelace"),
        ("password", password),
        ("confirm_password", confirm),
    ]
}

async fn user_exists(app: &TestApp, email: &str) -> Option<gatehouse::db::user::User> {
    let email = Email::parse(email).unwrap();
    app.state()
        .db
        .run(move |conn| gatehouse::db::user::User::find_by_email(conn, &email))
        .await
        .unwrap()
}

async fn registration_is_off_by_default(app: TestApp) {
    assert_eq!(app.get("/register").await.status(), Status::NotFound);
    let csrf = app.csrf("/login").await;
    let status = app
        .client
        .post("/register")
        .header(ContentType::Form)
        .body(form_body(&[
            ("csrf_token", &csrf),
            ("email", "ada@example.com"),
            ("password", PASSWORD),
            ("confirm_password", PASSWORD),
            ("name", ""),
        ]))
        .dispatch()
        .await
        .status();
    assert_eq!(status, Status::NotFound);
    assert!(user_exists(&app, "ada@example.com").await.is_none());
    let login = app.get("/login").await.into_string().await.unwrap();
    assert!(!login.contains("/register"), "no link while it is off");

    let app = with_registration(app, &[]).await;
    let login = app.get("/login").await.into_string().await.unwrap();
    assert!(
        login.contains("href=\"&#x2F;register\"") || login.contains("href=\"/register\""),
        "{login}"
    );
    let page = app.get("/register").await.into_string().await.unwrap();
    for label in [
        "for=\"email\"",
        "for=\"name\"",
        "for=\"password\"",
        "for=\"confirm_password\"",
    ] {
        assert!(page.contains(label), "{label}");
    }
}

async fn registration_rules(app: TestApp) {
    let app = with_registration(app, &[]).await;
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
        let res = submit(&app, &fields("Ada@Example.com", password, confirm)).await;
        assert_eq!(res.status(), Status::UnprocessableEntity, "{password}");
        assert!(res.cookies().get("access_token_cookie").is_none());
        let page = res.into_string().await.unwrap();
        assert!(
            page.contains(&format!("id=\"{field}-error\">{message}")),
            "{password}: {page}"
        );
        assert!(
            page.contains("value=\"Ada@Example.com\"") && page.contains("value=\"Ada Lovelace\""),
            "values kept"
        );
        assert!(!page.contains(password), "passwords are never echoed");
    }
    let res = submit(
        &app,
        &fields("not an email", "a long passphrase", "a long passphrase"),
    )
    .await;
    assert!(res.into_string().await.unwrap().contains("id=\"email-error\">"));
    assert!(user_exists(&app, "ada@example.com").await.is_none());
}

async fn registration_signs_in(app: TestApp) {
    let app = with_registration(app, &[]).await;
    let mut with_next = fields("Ada@Example.com", "a long passphrase", "a long passphrase");
    with_next.push(("next", "/protected"));
    let res = submit(&app, &with_next).await;
    assert_redirect_to(&res, "/protected");
    assert!(res.cookies().get("access_token_cookie").is_some());
    let (status, _, page) = app.follow(res).await;
    assert_eq!(status, Status::Ok);
    assert!(page.contains("Ada Lovelace"));
    let ada = user_exists(&app, "ada@example.com").await.unwrap();
    assert_eq!((ada.role.as_str(), ada.name.as_str()), ("user", "Ada Lovelace"));
    assert!(!ada.must_change_password);
    let kinds = app.audit_kinds().await;
    assert!(kinds.contains(&"registered".to_owned()) && kinds.contains(&"sign_in".to_owned()));
    // A hostile `next` lands on the home page.
    let mut hostile = fields("bob@example.com", "a long passphrase", "a long passphrase");
    hostile.push(("next", "//evil.example"));
    assert_redirect_to(&submit(&app, &hostile).await, "/");
}

async fn existing_email_is_a_sign_in(app: TestApp) {
    let app = with_registration(app, &[]).await;
    app.create_user("ada@example.com", "Ada", Role::User).await;

    // Another password: the sign-in form's generic answer, no session, and a
    // failure counted towards the account's lockout.
    let res = submit(
        &app,
        &fields("ada@example.com", "a long passphrase", "a long passphrase"),
    )
    .await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert!(res.cookies().get("access_token_cookie").is_none());
    let page = res.into_string().await.unwrap();
    assert!(page.contains("Incorrect email or password."), "{page}");
    assert_redirect_to(&app.get("/protected").await, "/login?next=/protected");
    let ada = user_exists(&app, "ada@example.com").await.unwrap();
    assert_eq!(ada.failed_logins, 1, "counted towards the lockout");
    assert_eq!(ada.name, "Ada", "nothing changed");
    let login = app
        .sign_in_form("ada@example.com", "a long passphrase", &[])
        .await;
    assert!(
        login
            .into_string()
            .await
            .unwrap()
            .contains("Incorrect email or password."),
        "the same message"
    );

    // The right password: exactly what a new registration gets.
    let mut existing = fields("ada@example.com", PASSWORD, PASSWORD);
    existing.push(("next", "/protected"));
    let res = submit(&app, &existing).await;
    let (status, location) = (res.status(), res.headers().get_one("Location").map(str::to_owned));
    let mut cookies: Vec<String> = res.cookies().iter().map(|c| c.name().to_owned()).collect();
    cookies.sort();
    drop(res);
    assert_eq!(app.get("/protected").await.status(), Status::Ok, "signed in");
    // Signed out, the same browser registers a new email.
    let csrf = app.csrf_cookie();
    let res = app
        .client
        .post("/logout")
        .header(ContentType::Form)
        .body(form_body(&[("csrf_token", &csrf)]))
        .dispatch()
        .await;
    assert_redirect_to(&res, "/");
    drop(res);
    let mut new = fields("new@example.com", PASSWORD, PASSWORD);
    new.push(("next", "/protected"));
    let res = submit(&app, &new).await;
    let mut new_cookies: Vec<String> = res.cookies().iter().map(|c| c.name().to_owned()).collect();
    new_cookies.sort();
    assert_eq!(
        (res.status(), res.headers().get_one("Location").map(str::to_owned)),
        (status, location)
    );
    assert_eq!(new_cookies, cookies);
    assert!(user_exists(&app, "new@example.com").await.is_some());

    // Both paths do bcrypt work: neither answers in less than about one
    // bcrypt computation (a lower bound only, so a busy machine can't fail it).
    let started = Instant::now();
    app.state()
        .passwords
        .hash("calibration pass".into())
        .await
        .unwrap();
    let bcrypt = started.elapsed();
    let timed = |email: &'static str| {
        let app = &app;
        async move {
            let started = Instant::now();
            submit(
                app,
                &fields(email, "another long passphrase", "another long passphrase"),
            )
            .await;
            started.elapsed()
        }
    };
    let known = timed("ada@example.com").await;
    let unknown = timed("carol@example.com").await;
    let floor = bcrypt.mul_f64(0.6).max(Duration::from_millis(1));
    assert!(
        known >= floor && unknown >= floor,
        "{known:?} {unknown:?} vs bcrypt {bcrypt:?}"
    );
}

async fn registration_needs_csrf(app: TestApp) {
    let app = with_registration(app, &[]).await;
    app.get("/register").await;
    let res = app
        .client
        .post("/register")
        .header(ContentType::Form)
        .body(form_body(&fields("ada@example.com", PASSWORD, PASSWORD)))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Forbidden);
    let mut wrong = vec![("csrf_token", "forged")];
    wrong.extend(fields("ada@example.com", PASSWORD, PASSWORD));
    let res = app
        .client
        .post("/register")
        .header(ContentType::Form)
        .body(form_body(&wrong))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Forbidden);
    assert!(user_exists(&app, "ada@example.com").await.is_none());
}

async fn registration_is_rate_limited(app: TestApp) {
    let app = with_registration(app, &[("login.rate_limit_per_minute", 3)]).await;
    app.create_user("ada@example.com", "Ada", Role::User).await;
    // New and known emails count alike, with sign-ins, per address.
    submit(
        &app,
        &fields("one@example.com", "a long passphrase", "a long passphrase"),
    )
    .await;
    submit(
        &app,
        &fields("ada@example.com", "a long passphrase", "a long passphrase"),
    )
    .await;
    app.sign_in_form("nobody@example.com", "wrong guess", &[]).await;
    let res = submit(
        &app,
        &fields("two@example.com", "a long passphrase", "a long passphrase"),
    )
    .await;
    assert_eq!(res.status(), Status::TooManyRequests);
    assert!(user_exists(&app, "two@example.com").await.is_none());
    let res = submit(&app, &fields("ada@example.com", PASSWORD, PASSWORD)).await;
    assert_eq!(res.status(), Status::TooManyRequests);
}
