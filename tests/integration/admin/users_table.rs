//! `/admin` and `/admin/users`: the dashboard, and the users table's search,
//! filters, sorting and pages.

use gatehouse::db::user::User;
use gatehouse::domain::Role;
use rocket::http::{ContentType, Header, Status};

use super::{admin_browser, between, set_google_sub};
use crate::common::{assert_redirect_to, csrf_in, form_body, TestApp};
use crate::db_tests;

db_tests!(admin_pages, users_table_filters_and_sorting);

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

async fn users_table_filters_and_sorting(app: TestApp) {
    let (_, admin) = admin_browser(&app).await;
    let b = app.create_user("b@example.com", "Zed", Role::User).await;
    app.create_user("c@example.com", "Amy", Role::User).await;
    app.create_user("a@example.com", "Max", Role::User).await;
    set_google_sub(&app, b.id, Some("sub-b"), true).await;
    // The emails in the table, in order.
    let order = |page: &str| -> Vec<String> {
        page.split("<td data-label=\"Email\"><a href=\"/admin/users/")
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
        .run(move |conn| User::set_name(conn, b.id, &"Quentin".parse().unwrap()))
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
