//! Who may reach the admin pages: every read and write route, anonymous,
//! as a user, as an admin; writes need the CSRF value and a fresh sign-in.

use gatehouse::domain::Role;
use gatehouse::testing;
use rocket::http::{ContentType, Status};

use super::admin_browser;
use crate::common::{assert_redirect_to, form_body, TestApp};
use crate::db_tests;

db_tests!(
    admin_page_routes_check_the_role,
    admin_page_writes_need_csrf_and_a_fresh_sign_in,
);

/// Every admin write the pages offer, for a user `id` with a session `sid`.
fn write_routes(id: i32, sid: &str) -> Vec<(String, Vec<(&'static str, &'static str)>)> {
    vec![
        (
            "/admin/users".into(),
            vec![
                ("email", "new@example.com"),
                ("name", ""),
                ("role", "user"),
                ("password_choice", "temporary"),
                ("password", ""),
            ],
        ),
        (
            format!("/admin/users/{id}/edit"),
            vec![("email", "changed@example.com"), ("name", "X"), ("role", "admin")],
        ),
        (format!("/admin/users/{id}/status"), vec![("disabled", "true")]),
        (format!("/admin/users/{id}/unlock"), vec![]),
        (format!("/admin/users/{id}/reset-password"), vec![]),
        (format!("/admin/users/{id}/sessions/{sid}/revoke"), vec![]),
        (format!("/admin/users/{id}/sessions/revoke-all"), vec![]),
        (format!("/admin/users/{id}/unlink-google"), vec![]),
        (format!("/admin/users/{id}/delete"), vec![]),
    ]
}

fn read_routes(id: i32) -> Vec<String> {
    vec![
        "/admin".into(),
        "/admin/users".into(),
        "/admin/users?google=linked&sort=last_sign_in&dir=desc".into(),
        "/admin/users/new".into(),
        format!("/admin/users/{id}"),
        format!("/admin/users/{id}/edit"),
        format!("/admin/users/{id}/delete"),
        "/admin/audit".into(),
        "/admin/audit?type=sign_in&from=2020-01-01&to=2099-12-31".into(),
    ]
}

async fn admin_page_routes_check_the_role(app: TestApp) {
    let ada = app.create_user("ada@example.com", "Ada", Role::User).await;
    let ada_tokens = testing::sign_in(app.state(), &ada).await.unwrap();
    let (_, admin) = admin_browser(&app).await;
    for path in read_routes(ada.id) {
        let res = app.bare.get(path.clone()).dispatch().await;
        assert_eq!(res.status(), Status::SeeOther, "anonymous GET {path}");
        assert!(res
            .headers()
            .get_one("Location")
            .unwrap()
            .starts_with("/login?next="));
        let res = app
            .bare
            .get(path.clone())
            .header(ada_tokens.authorization())
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::Forbidden, "user GET {path}");
        let res = admin.get(&path).await;
        assert_eq!(res.status(), Status::Ok, "admin GET {path}");
    }
    for (path, fields) in write_routes(ada.id, &ada_tokens.session_id) {
        let res = app
            .bare
            .post(path.clone())
            .header(ContentType::Form)
            .body(form_body(&fields))
            .dispatch()
            .await;
        assert_redirect_to(&res, "/login");
        let res = app
            .bare
            .post(path.clone())
            .header(ContentType::Form)
            .header(ada_tokens.authorization())
            .body(form_body(&fields))
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::Forbidden, "user POST {path}");
    }
    // Nothing was changed by any of them.
    let ada_now = app.find_user("ada@example.com").await.unwrap();
    assert!(!ada_now.disabled && ada_now.role == "user" && !ada_now.must_change_password);
    assert!(app.find_user("new@example.com").await.is_none());
}

async fn admin_page_writes_need_csrf_and_a_fresh_sign_in(app: TestApp) {
    let ada = app.create_user("ada@example.com", "Ada", Role::User).await;
    let ada_tokens = testing::sign_in(app.state(), &ada).await.unwrap();
    let (root, admin) = admin_browser(&app).await;
    let stale = testing::sign_in_stale(app.state(), &root).await.unwrap();
    for (path, fields) in write_routes(ada.id, &ada_tokens.session_id) {
        // The admin's own browser, without the CSRF value: refused.
        let res = admin
            .client
            .post(path.clone())
            .header(ContentType::Form)
            .body(form_body(&fields))
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::Forbidden, "no CSRF: {path}");
        let body = res.into_string().await.unwrap();
        assert!(body.contains("This form has expired"), "{path}");
        // A wrong CSRF value: refused too.
        let mut wrong = vec![("csrf_token", "not-the-value")];
        wrong.extend_from_slice(&fields);
        let res = admin
            .client
            .post(path.clone())
            .header(ContentType::Form)
            .body(form_body(&wrong))
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::Forbidden, "wrong CSRF: {path}");
        // A renewed (not fresh) admin token with the right CSRF value: sent
        // to sign in again.
        let mut with_csrf = vec![("csrf_token", stale.csrf.as_str())];
        with_csrf.extend_from_slice(&fields);
        let mut req = app
            .bare
            .post(path.clone())
            .header(ContentType::Form)
            .body(form_body(&with_csrf));
        for cookie in stale.cookies() {
            req = req.cookie(cookie);
        }
        let res = req.dispatch().await;
        assert_redirect_to(&res, "/login");
    }
    let ada_now = app.find_user("ada@example.com").await.unwrap();
    assert!(!ada_now.disabled && ada_now.role == "user" && !ada_now.must_change_password);
    assert!(app.find_user("new@example.com").await.is_none());
    let res = app
        .bare
        .get("/api/v1/me")
        .header(ada_tokens.authorization())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok, "Ada's session was not revoked");
}
