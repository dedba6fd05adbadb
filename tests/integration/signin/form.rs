//! `/login` and `/logout` in a browser: the journey, answers that reveal
//! nothing, CSRF, a hostile `next`, "remember me", new tokens per sign-in,
//! a disabled account, bad input.

use gatehouse::domain::Role;
use rocket::http::{ContentType, Status};

use crate::common::{assert_redirect_to, form_body, TestApp, PASSWORD};
use crate::db_tests;

db_tests!(
    browser_journey,
    wrong_password_and_unknown_email_answer_alike,
    login_form_needs_csrf,
    logout_needs_post_and_csrf,
    hostile_next_lands_on_default_page,
    remember_me_chooses_a_persistent_cookie,
    sign_in_issues_new_tokens,
    disabled_user_cannot_sign_in,
    bad_form_input_gets_a_clear_error,
);

async fn browser_journey(app: TestApp) {
    app.create_user("ada@example.com", "Ada Lovelace", Role::User)
        .await;

    // A protected page sends an anonymous browser to the login page...
    let res = app.get("/protected?tab=2").await;
    assert_redirect_to(&res, "/login?next=/protected%3Ftab%3D2");
    let page = app
        .get("/login?next=/protected%3Ftab%3D2")
        .await
        .into_string()
        .await
        .unwrap();
    // (Tera escapes `/` as `&#x2F;`, which the browser reads back as `/`.)
    assert!(
        page.contains("name=\"next\" value=\"&#x2F;protected?tab=2\""),
        "{page}"
    );

    // ...which signs in and comes back to the page asked for.
    let res = app
        .sign_in_form("Ada@Example.com", PASSWORD, &[("next", "/protected?tab=2")])
        .await;
    assert_redirect_to(&res, "/protected?tab=2");
    let cookie = res
        .cookies()
        .get("access_token_cookie")
        .expect("an access cookie")
        .clone();
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.same_site(), Some(rocket::http::SameSite::Lax));
    assert_eq!(cookie.path(), Some("/"));
    assert_eq!(cookie.domain(), None);
    let (status, _, body) = app.follow(res).await;
    assert_eq!(status, Status::Ok);
    assert!(body.contains("Ada Lovelace"), "the protected page names the user");

    // The home page knows who is signed in.
    let home = app.get("/").await.into_string().await.unwrap();
    assert!(home.contains("Ada Lovelace"));

    // A stale tab's sign-out (no session any more) just lands home.
    let res = app.bare.post("/logout").dispatch().await;
    assert_redirect_to(&res, "/");

    // Sign out, and the old cookie no longer works.
    let old = app.access_cookie().unwrap();
    let csrf = app.csrf("/").await;
    let res = app
        .client
        .post("/logout")
        .header(ContentType::Form)
        .body(form_body(&[("csrf_token", &csrf)]))
        .dispatch()
        .await;
    assert_redirect_to(&res, "/");
    assert!(app.access_cookie().is_none(), "sign-out clears the cookie");
    assert_redirect_to(&app.get("/protected").await, "/login?next=/protected");
    let res = app.get_with_cookie("/protected", &old).await;
    assert_eq!(res.status(), Status::Unauthorized);
    let body: serde_json::Value = res.into_json().await.unwrap();
    assert_eq!(body["description"], "Token has been revoked");

    let kinds = app.audit_kinds().await;
    assert!(kinds.contains(&"sign_in".to_owned()) && kinds.contains(&"sign_out".to_owned()));
}

async fn wrong_password_and_unknown_email_answer_alike(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let wrong = app.sign_in_form("ada@example.com", "not the password", &[]).await;
    let wrong_status = wrong.status();
    let wrong_body = wrong.into_string().await.unwrap();
    let unknown = app
        .sign_in_form("nobody@example.com", "not the password", &[])
        .await;
    let unknown_status = unknown.status();
    let unknown_body = unknown.into_string().await.unwrap();
    assert_eq!(wrong_status, Status::Unauthorized);
    assert_eq!(wrong_status, unknown_status);
    let message = "Incorrect email or password.";
    assert!(wrong_body.contains(message) && unknown_body.contains(message));
    // Same page but for the email typed back and the fresh CSRF value.
    let strip = |body: &str, email: &str| {
        body.replace(email, "EMAIL")
            .lines()
            .filter(|l| !l.contains("csrf_token"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        strip(&wrong_body, "ada@example.com"),
        strip(&unknown_body, "nobody@example.com")
    );
    // The email typed is kept in the form.
    assert!(wrong_body.contains("value=\"ada@example.com\""));
    assert!(app.access_cookie().is_none());
    let kinds = app.audit_kinds().await;
    assert_eq!(kinds.iter().filter(|k| *k == "sign_in_failed").count(), 2);
}

async fn login_form_needs_csrf(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    for csrf in [None, Some("forged"), Some("")] {
        let mut fields = vec![("email", "ada@example.com"), ("password", PASSWORD)];
        if let Some(csrf) = csrf {
            fields.push(("csrf_token", csrf));
        }
        let res = app
            .client
            .post("/login")
            .header(ContentType::Form)
            .body(form_body(&fields))
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::Forbidden, "csrf {csrf:?}");
        assert!(res.into_string().await.unwrap().contains("This form has expired"));
        assert!(app.access_cookie().is_none());
    }
}

async fn logout_needs_post_and_csrf(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    app.sign_in("ada@example.com").await;
    // A GET never signs anyone out.
    let res = app.get("/logout").await;
    assert_eq!(res.status(), Status::NotFound);
    // A POST without the CSRF value is refused and the session lives on.
    let res = app
        .client
        .post("/logout")
        .header(ContentType::Form)
        .body("")
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Forbidden);
    let res = app
        .client
        .post("/logout")
        .header(ContentType::Form)
        .body("csrf_token=wrong")
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Forbidden);
    assert_eq!(app.get("/protected").await.status(), Status::Ok);
    // The header works as well as the form field.
    let csrf = app.csrf("/").await;
    let res = app
        .client
        .post("/logout")
        .header(ContentType::Form)
        .header(rocket::http::Header::new("X-CSRF-TOKEN", csrf))
        .body("")
        .dispatch()
        .await;
    assert_redirect_to(&res, "/");
    assert_redirect_to(&app.get("/protected").await, "/login?next=/protected");
}

async fn hostile_next_lands_on_default_page(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    for next in [
        "//evil.example",
        "/\\evil.example",
        "https:evil.example",
        "%2F%2Fevil.example",
        "javascript:alert(1)",
        "https://evil.example/",
        "/%2F/evil.example",
    ] {
        let res = app
            .sign_in_form("ada@example.com", PASSWORD, &[("next", next)])
            .await;
        assert_redirect_to(&res, "/");
    }
    // The login page does not echo a hostile next into its form either.
    let page = app
        .get("/login?next=%2F%2Fevil.example")
        .await
        .into_string()
        .await
        .unwrap();
    assert!(!page.contains("evil.example"));
}

async fn remember_me_chooses_a_persistent_cookie(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let res = app.sign_in_form("ada@example.com", PASSWORD, &[]).await;
    let cookie = res.cookies().get("access_token_cookie").unwrap();
    assert!(
        cookie.expires().is_none() && cookie.max_age().is_none(),
        "a session cookie"
    );

    let res = app
        .sign_in_form("ada@example.com", PASSWORD, &[("remember", "true")])
        .await;
    let cookie = res.cookies().get("access_token_cookie").unwrap();
    let expires = cookie.expires_datetime().expect("a persistent cookie");
    let days = (expires - rocket::time::OffsetDateTime::now_utc()).whole_days();
    assert!((29..=30).contains(&days), "remembered for 30 days, got {days}");
}

async fn sign_in_issues_new_tokens(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    app.sign_in("ada@example.com").await;
    let first = app.access_cookie().unwrap();
    let first_csrf = app.csrf("/").await;
    app.sign_in("ada@example.com").await;
    let second = app.access_cookie().unwrap();
    assert_ne!(first, second);
    assert_ne!(first_csrf, app.csrf("/").await, "a new CSRF value per sign-in");
}

async fn disabled_user_cannot_sign_in(app: TestApp) {
    let user = app.create_user("ada@example.com", "Ada", Role::User).await;
    app.state()
        .db
        .run(move |conn| gatehouse::db::user::User::set_disabled(conn, user.id, true))
        .await
        .unwrap();
    let res = app.sign_in_form("ada@example.com", PASSWORD, &[]).await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert!(res.into_string().await.unwrap().contains("disabled"));
    assert!(app.access_cookie().is_none());
}

async fn bad_form_input_gets_a_clear_error(app: TestApp) {
    let csrf = app.csrf("/login").await;
    // No email field at all: the form can't be read.
    let res = app
        .client
        .post("/login")
        .header(ContentType::Form)
        .body(form_body(&[("password", "x"), ("csrf_token", &csrf)]))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    assert!(res.into_string().await.unwrap().contains("couldn"));
    // A malformed email is just a failed sign-in, with the typed value kept.
    let res = app.sign_in_form("not-an-email", "whatever1", &[]).await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert!(res
        .into_string()
        .await
        .unwrap()
        .contains("value=\"not-an-email\""));
}
