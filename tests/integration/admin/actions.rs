//! The actions on a user's page (`/admin/users/{id}/...`): sessions,
//! unlock, unlink Google, disable, delete; their effect on open sessions;
//! and the last admin's protection.

use gatehouse::db::user::User;
use gatehouse::domain::Role;
use gatehouse::testing;
use rocket::http::Status;

use super::{admin_browser, set_google_sub};
use crate::common::{assert_redirect_to, TestApp, PASSWORD};
use crate::db_tests;

db_tests!(
    sessions_google_and_delete,
    last_admin_on_the_pages,
    open_sessions_lose_access_at_once,
);

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
