//! The admin pages: role checks, the users table, a user's page, every
//! admin action with its CSRF and fresh-sign-in checks, the last admin's
//! protection, and the audit log page.

use gatehouse::db::user::User;
use gatehouse::domain::Role;
use gatehouse::testing;
use rocket::http::{ContentType, Header, Status};

use crate::common::{assert_redirect_to, csrf_in, form_body, Browser, TestApp, PASSWORD};
use crate::db_tests;

db_tests!(
    admin_pages,
    admin_page_routes_check_the_role,
    admin_page_writes_need_csrf_and_a_fresh_sign_in,
    create_and_edit_users,
    temporary_passwords_must_be_changed,
    sessions_google_and_delete,
    last_admin_on_the_pages,
    open_sessions_lose_access_at_once,
    users_table_filters_and_sorting,
    audit_page_filters,
);

/// The admin's browser (`app.client`), signed in as a fresh admin.
async fn admin_browser(app: &TestApp) -> (User, Browser) {
    let root = app.create_user("root@example.com", "Root", Role::Admin).await;
    let browser = app.browser().await;
    {
        let res = browser.sign_in("root@example.com", PASSWORD).await;
        assert_redirect_to(&res, "/");
    }
    (root, browser)
}

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

async fn create_and_edit_users(app: TestApp) {
    let (_, admin) = admin_browser(&app).await;
    app.create_user("taken@example.com", "", Role::User).await;
    let page = admin.get("/admin/users/new").await.into_string().await.unwrap();
    assert!(page.contains("<label for=\"email\">") && page.contains("Create user"));

    // Errors next to their fields, values kept.
    let res = admin
        .post(
            "/admin/users",
            &[
                ("email", "not an email"),
                ("name", "Ada Lovelace"),
                ("role", "admin"),
                ("password_choice", "set"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    let page = res.into_string().await.unwrap();
    assert!(page.contains("id=\"email-error\">Enter an email address like name@example.com."));
    assert!(page.contains("id=\"password-error\">Use at least 8 characters."));
    assert!(page.contains("value=\"not an email\"") && page.contains("value=\"Ada Lovelace\""));
    assert!(page.contains("<option value=\"admin\" selected>"));
    assert!(page.contains("value=\"set\" id=\"choice-set\" checked"));
    let res = admin
        .post(
            "/admin/users",
            &[
                ("email", "Taken@Example.com"),
                ("name", ""),
                ("role", "user"),
                ("password_choice", "temporary"),
                ("password", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    assert!(res
        .into_string()
        .await
        .unwrap()
        .contains("id=\"email-error\">An account with that email already exists."));

    // With a password chosen by the admin: the user can sign in with it.
    let res = admin
        .post(
            "/admin/users",
            &[
                ("email", "Ada@Example.com"),
                ("name", "Ada"),
                ("role", "user"),
                ("password_choice", "set"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let ada = app.find_user("ada@example.com").await.expect("created");
    assert_redirect_to(&res, &format!("/admin/users/{}", ada.id));
    let (_, _, page) = admin.follow(res).await;
    assert!(page.contains("ada@example.com is created."));
    assert!(!ada.must_change_password && ada.role == "user");
    let browser = app.browser().await;
    assert_redirect_to(&browser.sign_in("ada@example.com", PASSWORD).await, "/");

    // Edit: errors by field, then a good edit; the new role holds at once.
    let edit = format!("/admin/users/{}/edit", ada.id);
    let page = admin.get(&edit).await.into_string().await.unwrap();
    assert!(page.contains("value=\"ada@example.com\"") && page.contains("value=\"Ada\""));
    let res = admin
        .post(
            &edit,
            &[
                ("email", "taken@example.com"),
                ("name", &"x".repeat(101)),
                ("role", "root"),
            ],
        )
        .await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    let page = res.into_string().await.unwrap();
    assert!(page.contains("id=\"name-error\">Use at most 100 characters."));
    assert!(page.contains("id=\"role-error\">Choose user or admin."));
    assert!(page.contains("value=\"taken@example.com\""));
    let res = admin
        .post(
            &edit,
            &[("email", "taken@example.com"), ("name", "Ada"), ("role", "user")],
        )
        .await;
    assert!(res
        .into_string()
        .await
        .unwrap()
        .contains("id=\"email-error\">An account with that email already exists."));
    assert_eq!(browser.get("/admin").await.status(), Status::Forbidden);
    let res = admin
        .post(
            &edit,
            &[
                ("email", "ada.lovelace@example.com"),
                ("name", "Ada Lovelace"),
                ("role", "admin"),
            ],
        )
        .await;
    let (_, _, page) = admin.follow(res).await;
    assert!(page.contains("ada.lovelace@example.com is saved."));
    let ada = app.find_user("ada.lovelace@example.com").await.unwrap();
    assert_eq!((ada.name.as_str(), ada.role.as_str()), ("Ada Lovelace", "admin"));
    assert_eq!(
        browser.get("/admin").await.status(),
        Status::Ok,
        "promoted: at once"
    );
    let kinds = app.audit_kinds().await;
    for kind in ["user_created", "user_updated", "role_changed"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
}

async fn temporary_passwords_must_be_changed(app: TestApp) {
    let (_, admin) = admin_browser(&app).await;
    // An invitation: a temporary password, shown once.
    let res = admin
        .post(
            "/admin/users",
            &[
                ("email", "ada@example.com"),
                ("name", "Ada"),
                ("role", "user"),
                ("password_choice", "temporary"),
                ("password", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), Status::Ok);
    let page = res.into_string().await.unwrap();
    let temporary = between(&page, "<code>", "</code>").to_owned();
    assert_eq!(temporary.len(), 19, "{temporary}");
    let ada = app.find_user("ada@example.com").await.unwrap();
    assert!(ada.must_change_password);

    // Ada signs in with it and is held at the password change until done.
    let browser = app.browser().await;
    let res = browser.sign_in("ada@example.com", &temporary).await;
    assert_redirect_to(&res, "/");
    for path in ["/", "/protected", "/items", "/admin"] {
        let res = browser.get(path).await;
        assert_redirect_to(&res, "/account");
    }
    let (status, path, page) = browser.follow(browser.get("/protected").await).await;
    assert_eq!((status, path.as_str()), (Status::Ok, "/account"));
    assert!(page.contains("Choose a new password to continue"));
    let res = app
        .bare
        .get("/api/v1/private")
        .header(testing::sign_in(app.state(), &ada).await.unwrap().authorization())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Forbidden);
    assert_eq!(
        res.into_json::<serde_json::Value>().await.unwrap()["description"],
        "Password change required"
    );
    let res = browser
        .post(
            "/account/password",
            &[
                ("current_password", &temporary),
                ("new_password", "my very own passphrase"),
                ("confirm_password", "my very own passphrase"),
            ],
        )
        .await;
    assert_redirect_to(&res, "/account");
    assert_eq!(browser.get("/protected").await.status(), Status::Ok, "free to go");
    assert!(
        !app.find_user("ada@example.com")
            .await
            .unwrap()
            .must_change_password
    );

    // A reset: another temporary password, Ada's sessions end.
    let res = admin
        .post(&format!("/admin/users/{}/reset-password", ada.id), &[])
        .await;
    assert_eq!(res.status(), Status::Ok);
    let page = res.into_string().await.unwrap();
    assert!(
        page.contains("2 open session(s) were signed out"),
        "the browser's and the API's"
    );
    let temporary = between(&page, "<code>", "</code>").to_owned();
    assert_redirect_to(&browser.get("/protected").await, "/login?next=/protected");
    let res = browser.sign_in("ada@example.com", "my very own passphrase").await;
    assert_eq!(res.status(), Status::Unauthorized, "the old password is gone");
    assert_redirect_to(&browser.sign_in("ada@example.com", &temporary).await, "/");
    assert_redirect_to(&browser.get("/protected").await, "/account");
    assert!(app.audit_kinds().await.iter().any(|k| k == "password_reset"));
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> &'a str {
    let from = s.find(start).unwrap_or_else(|| panic!("{start} in page")) + start.len();
    let to = s[from..].find(end).unwrap() + from;
    &s[from..to]
}

async fn set_google_sub(app: &TestApp, id: i32, sub: Option<&str>, password: bool) {
    let sub = sub.map(str::to_owned);
    app.state()
        .db
        .run(move |conn| {
            use diesel::prelude::*;
            use gatehouse::db::schema::users;
            diesel::update(users::table.find(id))
                .set(users::google_sub.eq(sub))
                .execute(conn)?;
            if !password {
                diesel::update(users::table.find(id))
                    .set(users::password_hash.eq(None::<String>))
                    .execute(conn)?;
            }
            Ok(())
        })
        .await
        .unwrap();
}

async fn sessions_google_and_delete(app: TestApp) {
    let (_, admin) = admin_browser(&app).await;
    let ada = app.create_user("ada@example.com", "Ada", Role::User).await;
    let one = testing::sign_in(app.state(), &ada).await.unwrap();
    let two = testing::sign_in(app.state(), &ada).await.unwrap();
    let alive = |t: &testing::TestTokens| {
        let header = t.authorization();
        let bare = &app.bare;
        async move { bare.get("/api/v1/me").header(header).dispatch().await.status() == Status::Ok }
    };
    let user_page = format!("/admin/users/{}", ada.id);
    let page = admin.get(&user_page).await.into_string().await.unwrap();
    assert!(page.contains(&format!("/sessions/{}/revoke", one.session_id)));

    // One session, then all.
    let res = admin
        .post(&format!("{user_page}/sessions/{}/revoke", one.session_id), &[])
        .await;
    assert_redirect_to(&res, &user_page);
    assert!(!alive(&one).await && alive(&two).await);
    // A session id of another user, under Ada's page: not found.
    let root_session = testing::sign_in(app.state(), &app.find_user("root@example.com").await.unwrap())
        .await
        .unwrap();
    let res = admin
        .post(
            &format!("{user_page}/sessions/{}/revoke", root_session.session_id),
            &[],
        )
        .await;
    assert_eq!(res.status(), Status::NotFound);
    assert!(alive(&root_session).await);
    let res = admin.post(&format!("{user_page}/sessions/revoke-all"), &[]).await;
    let (_, _, page) = admin.follow(res).await;
    assert!(page.contains("1 session(s) signed out."));
    assert!(!alive(&two).await);

    // Unlock.
    app.state()
        .db
        .run(move |conn| User::record_failure(conn, ada.id, 1, 900, 900).map(|_| ()))
        .await
        .unwrap();
    let page = admin.get(&user_page).await.into_string().await.unwrap();
    assert!(page.contains("Unlock sign-in"));
    let (_, _, page) = admin
        .follow(admin.post(&format!("{user_page}/unlock"), &[]).await)
        .await;
    assert!(page.contains("ada@example.com can sign in again."));
    assert!(!app
        .find_user("ada@example.com")
        .await
        .unwrap()
        .is_locked(gatehouse::domain::now()));

    // Unlink Google: refused without a password, done with one.
    set_google_sub(&app, ada.id, Some("google-sub-1"), false).await;
    let page = admin.get(&user_page).await.into_string().await.unwrap();
    assert!(page.contains("Unlink Google") && page.contains("signs in with Google only"));
    let (_, _, page) = admin
        .follow(admin.post(&format!("{user_page}/unlink-google"), &[]).await)
        .await;
    assert!(
        page.contains("has no password: without Google they could not sign in"),
        "{page}"
    );
    assert!(app
        .find_user("ada@example.com")
        .await
        .unwrap()
        .google_sub
        .is_some());
    set_google_sub(&app, ada.id, Some("google-sub-1"), true).await;
    let hash = app.state().passwords.hash(PASSWORD.into()).await.unwrap();
    app.state()
        .db
        .run(move |conn| User::set_password_hash(conn, ada.id, &hash))
        .await
        .unwrap();
    let (_, _, page) = admin
        .follow(admin.post(&format!("{user_page}/unlink-google"), &[]).await)
        .await;
    assert!(page.contains("ada@example.com is no longer linked to Google."));
    assert!(app
        .find_user("ada@example.com")
        .await
        .unwrap()
        .google_sub
        .is_none());

    // Delete: a confirmation page first, then the POST.
    let three = testing::sign_in(app.state(), &ada).await.unwrap();
    let page = admin
        .get(&format!("{user_page}/delete"))
        .await
        .into_string()
        .await
        .unwrap();
    assert!(page.contains("Delete ada@example.com?") && page.contains("Cancel"));
    assert!(
        app.find_user("ada@example.com").await.is_some(),
        "a GET deletes nothing"
    );
    let res = admin.post(&format!("{user_page}/delete"), &[]).await;
    assert_redirect_to(&res, "/admin/users");
    let (_, _, page) = admin.follow(res).await;
    assert!(page.contains("ada@example.com is deleted."));
    assert!(app.find_user("ada@example.com").await.is_none());
    assert!(!alive(&three).await);
    assert_eq!(admin.get(&user_page).await.status(), Status::NotFound);
    let kinds = app.audit_kinds().await;
    for kind in ["sign_out", "account_unlocked", "google_unlinked", "user_deleted"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
}

async fn last_admin_on_the_pages(app: TestApp) {
    let (root, admin) = admin_browser(&app).await;
    let me = format!("/admin/users/{}", root.id);
    // The only admin's own page offers no disable or delete.
    let page = admin.get(&me).await.into_string().await.unwrap();
    assert!(!page.contains("Disable this user") && !page.contains("Delete this user"));
    // An admin can't lock themselves out, by any of the three.
    let res = admin
        .post(
            &format!("{me}/edit"),
            &[("email", "root@example.com"), ("name", "Root"), ("role", "user")],
        )
        .await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    let page = res.into_string().await.unwrap();
    assert!(
        page.contains("id=\"role-error\">You cannot take away your own admin role"),
        "{page}"
    );
    for (path, fields, message) in [
        (
            format!("{me}/status"),
            vec![("disabled", "true")],
            "You cannot disable your own account",
        ),
        (
            format!("{me}/delete"),
            vec![],
            "You cannot delete your own account",
        ),
    ] {
        let res = admin.post(&path, &fields).await;
        assert_redirect_to(&res, &me);
        let (_, _, page) = admin.follow(res).await;
        assert!(
            page.contains(&format!("alert-error flash\" role=\"alert\">{message}")),
            "{path}"
        );
    }
    let root = app.find_user("root@example.com").await.unwrap();
    assert!(root.is_admin() && !root.disabled);
    assert_eq!(admin.get("/admin").await.status(), Status::Ok);

    // With a second admin, the first may be demoted.
    let other = app.create_user("second@example.com", "", Role::Admin).await;
    let page = admin
        .get(&format!("/admin/users/{}", other.id))
        .await
        .into_string()
        .await
        .unwrap();
    assert!(page.contains("Disable this user") && page.contains("Delete this user"));
    // ...and the second admin may demote the first, whose next admin page
    // is refused.
    let second = app.browser().await;
    assert_redirect_to(&second.sign_in("second@example.com", PASSWORD).await, "/");
    let res = second
        .post(
            &format!("{me}/edit"),
            &[("email", "root@example.com"), ("name", "Root"), ("role", "user")],
        )
        .await;
    let (_, _, page) = second.follow(res).await;
    assert!(page.contains("root@example.com is saved."), "{page}");
    assert_eq!(admin.get("/admin").await.status(), Status::Forbidden);
}

async fn open_sessions_lose_access_at_once(app: TestApp) {
    let (_, admin) = admin_browser(&app).await;
    let ada = app.create_user("ada@example.com", "Ada", Role::Admin).await;
    // Ada's open browser session, on another instance of the app.
    let browser = app.browser().await;
    assert_redirect_to(&browser.sign_in("ada@example.com", PASSWORD).await, "/");
    assert_eq!(browser.get("/admin/users").await.status(), Status::Ok);

    let res = admin
        .post(
            &format!("/admin/users/{}/edit", ada.id),
            &[("email", "ada@example.com"), ("name", "Ada"), ("role", "user")],
        )
        .await;
    assert_redirect_to(&res, &format!("/admin/users/{}", ada.id));
    assert_eq!(
        browser.get("/admin/users").await.status(),
        Status::Forbidden,
        "demoted"
    );
    assert_eq!(
        browser.get("/protected").await.status(),
        Status::Ok,
        "still signed in"
    );

    admin
        .post(
            &format!("/admin/users/{}/status", ada.id),
            &[("disabled", "true")],
        )
        .await;
    assert_redirect_to(&browser.get("/protected").await, "/login?next=/protected");
    let res = browser.sign_in("ada@example.com", PASSWORD).await;
    assert!(res
        .into_string()
        .await
        .unwrap()
        .contains("This account is disabled."));
}

async fn users_table_filters_and_sorting(app: TestApp) {
    let (_, admin) = admin_browser(&app).await;
    let b = app.create_user("b@example.com", "Zed", Role::User).await;
    app.create_user("c@example.com", "Amy", Role::User).await;
    app.create_user("a@example.com", "Max", Role::User).await;
    set_google_sub(&app, b.id, Some("sub-b"), true).await;
    // The emails in the table, in order.
    let order = |page: &str| -> Vec<String> {
        page.split("<td><a href=\"/admin/users/")
            .skip(1)
            .map(|row| between(row, "\">", "</a>").to_owned())
            .collect()
    };
    let page = admin.get("/admin/users").await.into_string().await.unwrap();
    assert_eq!(
        order(&page),
        [
            "a@example.com",
            "b@example.com",
            "c@example.com",
            "root@example.com"
        ]
    );
    let page = admin
        .get("/admin/users?sort=email&dir=desc")
        .await
        .into_string()
        .await
        .unwrap();
    assert_eq!(
        order(&page),
        [
            "root@example.com",
            "c@example.com",
            "b@example.com",
            "a@example.com"
        ]
    );
    assert!(page.contains("aria-sort=\"descending\""));
    let page = admin
        .get("/admin/users?sort=name")
        .await
        .into_string()
        .await
        .unwrap();
    assert_eq!(
        order(&page),
        [
            "c@example.com",
            "a@example.com",
            "root@example.com",
            "b@example.com"
        ]
    );
    // Never signed in comes last, either way.
    let page = admin
        .get("/admin/users?sort=last_sign_in&dir=desc")
        .await
        .into_string()
        .await
        .unwrap();
    assert_eq!(order(&page)[0], "root@example.com");
    let page = admin
        .get("/admin/users?sort=last_sign_in&dir=asc")
        .await
        .into_string()
        .await
        .unwrap();
    assert_eq!(order(&page)[0], "root@example.com");
    // An unknown column is ignored, never put in the query.
    let page = admin
        .get("/admin/users?sort=password_hash&dir=desc")
        .await
        .into_string()
        .await
        .unwrap();
    assert_eq!(order(&page)[0], "root@example.com", "email, descending");
    let page = admin
        .get("/admin/users?google=linked")
        .await
        .into_string()
        .await
        .unwrap();
    assert_eq!(order(&page), ["b@example.com"]);
    let page = admin
        .get("/admin/users?google=unlinked&q=example&sort=email")
        .await
        .into_string()
        .await
        .unwrap();
    assert_eq!(
        order(&page),
        ["a@example.com", "c@example.com", "root@example.com"]
    );
    // Search: case-insensitive substrings of email or name from three
    // characters (trigram indexes), the start of the email below that (its
    // index), kept up to date on every change; `%`, `_`, `*`, `?`, `[` and
    // quotes are plain text.
    let found = |q: &'static str| {
        let admin = &admin;
        async move {
            let page = admin
                .get(&format!(
                    "/admin/users?q={}",
                    percent_encoding::utf8_percent_encode(q, percent_encoding::NON_ALPHANUMERIC)
                ))
                .await
                .into_string()
                .await
                .unwrap();
            order(&page)
        }
    };
    assert_eq!(found("AMY").await, ["c@example.com"]);
    assert_eq!(found("mAx").await, ["a@example.com"]);
    assert_eq!(found("A@").await, ["a@example.com"]);
    assert_eq!(found("ro").await, ["root@example.com"]);
    assert!(
        found("ma").await.is_empty(),
        "two letters: the start of the email only"
    );
    assert_eq!(found("t@example.c").await, ["root@example.com"]);
    assert_eq!(found("example.com").await.len(), 4);
    for q in [
        "%", "_", "\\", "a\"b", "\"\"\"", "%%%", "*", "?", "[a", "a*", "*@e",
    ] {
        assert!(found(q).await.is_empty(), "{q}");
    }
    app.state()
        .db
        .run(move |conn| User::set_name(conn, b.id, "Quentin"))
        .await
        .unwrap();
    assert_eq!(found("quentin").await, ["b@example.com"]);
    assert!(found("Zed").await.is_empty());
    let a = app.find_user("a@example.com").await.unwrap();
    app.state()
        .db
        .run(move |conn| User::delete(conn, a.id))
        .await
        .unwrap();
    assert!(found("max").await.is_empty());
    assert_eq!(found("example.com").await.len(), 3);
    // Sort links keep the filters.
    assert!(page.contains("href=\"/admin/users?q=example&amp;role=&amp;status=&amp;google=unlinked&amp;sort=email&amp;dir=desc\""));
}

async fn audit_page_filters(app: TestApp) {
    let (root, admin) = admin_browser(&app).await;
    let ada = app.create_user("ada@example.com", "Ada", Role::User).await;
    let browser = app.browser().await;
    browser.sign_in("ada@example.com", "wrong password").await;
    browser.sign_in("nobody@example.com", "wrong password").await;
    assert_redirect_to(&browser.sign_in("ada@example.com", PASSWORD).await, "/");
    admin
        .post(
            &format!("/admin/users/{}/status", ada.id),
            &[("disabled", "true")],
        )
        .await;

    let page = admin.get("/admin").await.into_string().await.unwrap();
    assert!(
        page.contains("href=\"/admin/audit\""),
        "linked from the admin nav"
    );
    let rows = |page: &str| page.matches("<tr>").count() - 1;
    let all = admin.get("/admin/audit").await.into_string().await.unwrap();
    let page = admin
        .get(&format!("/admin/audit?user={}", ada.id))
        .await
        .into_string()
        .await
        .unwrap();
    assert_eq!(rows(&page), 3, "failure, sign-in, disabled: {page}");
    assert!(rows(&all) > rows(&page));
    let by_email = admin
        .get("/admin/audit?user=ADA@example.com")
        .await
        .into_string()
        .await
        .unwrap();
    assert_eq!(rows(&by_email), 3);
    let page = admin
        .get("/admin/audit?user=nobody@example.com")
        .await
        .into_string()
        .await
        .unwrap();
    assert_eq!(rows(&page), 1, "a failure for an unknown email");
    let page = admin
        .get(&format!("/admin/audit?user={}&type=user_disabled", ada.id))
        .await
        .into_string()
        .await
        .unwrap();
    assert_eq!(rows(&page), 1);
    assert!(
        page.contains("user disabled")
            && page.contains(&format!("href=\"/admin/users/{}\">root@example.com", root.id))
    );
    // Time: today is in, a past range is empty, bad dates are errors by their field.
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let page = admin
        .get(&format!("/admin/audit?type=sign_in&from={today}&to={today}"))
        .await
        .into_string()
        .await
        .unwrap();
    assert_eq!(rows(&page), 2, "root and Ada signed in today");
    let page = admin
        .get("/admin/audit?from=2000-01-01&to=2000-12-31")
        .await
        .into_string()
        .await
        .unwrap();
    assert!(page.contains("No events match."));
    let res = admin.get("/admin/audit?from=someday&type=nonsense").await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    let page = res.into_string().await.unwrap();
    assert!(page.contains("id=\"from-error\">Use a date like") && page.contains("id=\"type-error\">"));
    assert!(page.contains("value=\"someday\""));
    // Pages: 50 a page, newest first.
    for _ in 0..50 {
        app.state()
            .db
            .run(|conn| {
                gatehouse::db::audit::record(
                    conn,
                    gatehouse::db::audit::NewEvent::new(gatehouse::db::audit::EventKind::Refresh),
                )
            })
            .await
            .unwrap();
    }
    let page = admin.get("/admin/audit").await.into_string().await.unwrap();
    assert_eq!(rows(&page), 50);
    assert!(page.contains("Older events") && !page.contains("Newer events"));
    let page = admin
        .get("/admin/audit?page=2")
        .await
        .into_string()
        .await
        .unwrap();
    assert!(rows(&page) > 0 && page.contains("Newer events"));
    // The JSON API takes the same time filter.
    let tokens = testing::sign_in(app.state(), &root).await.unwrap();
    let res = app
        .bare
        .get(format!(
            "/api/v1/admin/audit?user={}&type=sign_in&from={today}&to={today}",
            ada.id
        ))
        .header(tokens.authorization())
        .dispatch()
        .await;
    let body: serde_json::Value = res.into_json().await.unwrap();
    assert_eq!(body["events"].as_array().unwrap().len(), 1);
    let res = app
        .bare
        .get("/api/v1/admin/audit?from=2000-01-01&to=2000-01-02")
        .header(tokens.authorization())
        .dispatch()
        .await;
    let body: serde_json::Value = res.into_json().await.unwrap();
    assert_eq!(body["events"].as_array().unwrap().len(), 0);
    let res = app
        .bare
        .get("/api/v1/admin/audit?from=yesterday")
        .header(tokens.authorization())
        .header(Header::new("Accept", "application/json"))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
}

async fn admin_pages(app: TestApp) {
    let ada = app.create_user("ada@example.com", "Ada", Role::User).await;
    let root = app.create_user("root@example.com", "Root", Role::Admin).await;
    for i in 0..26 {
        app.create_user(&format!("user{i:02}@example.com"), "", Role::User)
            .await;
    }
    for path in ["/admin", "/admin/users", &format!("/admin/users/{}", ada.id)] {
        let res = app.get(path).await;
        assert_eq!(res.status(), Status::SeeOther, "anonymous {path}");
    }
    // Ada, signed in on her own client, is refused.
    let ada_tokens = gatehouse::testing::sign_in(app.state(), &ada).await.unwrap();
    for path in ["/admin", "/admin/users"] {
        let res = app
            .bare
            .get(path)
            .header(ada_tokens.authorization())
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::Forbidden, "user {path}");
    }

    app.sign_in("root@example.com").await;
    let dashboard = app.get("/admin").await.into_string().await.unwrap();
    assert!(
        dashboard.contains("Active sessions") && dashboard.contains(">28<"),
        "28 users"
    );
    // Search, filters, pages.
    let page = app.get("/admin/users?q=ADA").await.into_string().await.unwrap();
    assert!(page.contains("ada@example.com") && !page.contains("user01@example.com"));
    let page = app.get("/admin/users").await.into_string().await.unwrap();
    assert!(page.contains("page 1 of 2") && page.contains("Next page"));
    let page = app.get("/admin/users?page=2").await.into_string().await.unwrap();
    assert!(page.contains("user25@example.com") && page.contains("Previous page"));
    let page = app
        .get("/admin/users?role=admin")
        .await
        .into_string()
        .await
        .unwrap();
    assert!(page.contains("1 user(s)"));

    // A user's page, and disabling them: their open session stops at once.
    let page = app
        .get(&format!("/admin/users/{}", ada.id))
        .await
        .into_string()
        .await
        .unwrap();
    assert!(page.contains("Disable this user") && page.contains("Recent events"));
    let csrf = csrf_in(&page).unwrap();
    let status_uri = format!("/admin/users/{}/status", ada.id);
    let res = app
        .client
        .post(status_uri.clone())
        .header(ContentType::Form)
        .body(form_body(&[("disabled", "true")]))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Forbidden, "no CSRF value");
    let res = app
        .client
        .post(status_uri.clone())
        .header(ContentType::Form)
        .body(form_body(&[("csrf_token", &csrf), ("disabled", "true")]))
        .dispatch()
        .await;
    assert_redirect_to(&res, &format!("/admin/users/{}", ada.id));
    let (_, _, page) = app.follow(res).await;
    assert!(page.contains("ada@example.com is disabled."));
    let res = app
        .bare
        .get("/api/v1/me")
        .header(ada_tokens.authorization())
        .header(Header::new("Accept", "application/json"))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Unauthorized);

    // An admin can't disable themself (the page offers no button).
    let page = app
        .get(&format!("/admin/users/{}", root.id))
        .await
        .into_string()
        .await
        .unwrap();
    assert!(!page.contains("Disable this user"));
    let res = app
        .client
        .post(format!("/admin/users/{}/status", root.id))
        .header(ContentType::Form)
        .body(form_body(&[("csrf_token", &csrf), ("disabled", "true")]))
        .dispatch()
        .await;
    let (_, _, page) = app.follow(res).await;
    assert!(page.contains("You cannot disable your own account"));
}
