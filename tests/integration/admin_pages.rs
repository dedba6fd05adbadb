//! The admin pages: role checks, the users table, a user's page, and
//! disabling a user from it.

use gatehouse::domain::Role;
use rocket::http::{ContentType, Header, Status};

use crate::common::{assert_redirect_to, csrf_in, form_body, TestApp};
use crate::db_tests;

db_tests!(admin_pages);

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

    // The last admin can't disable themself (the page offers no button).
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
    assert!(page.contains("the last admin cannot be disabled"));
}
