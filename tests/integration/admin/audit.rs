//! `/admin/audit`: the audit log page's filters (user, type, dates) and
//! pages, and the same time filter on the JSON API; events in words.

use gatehouse::domain::Role;
use gatehouse::testing;
use rocket::http::{Header, Status};

use super::admin_browser;
use crate::common::{assert_redirect_to, TestApp, PASSWORD};
use crate::db_tests;

db_tests!(audit_page_filters, audit_log_in_words);

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
        page.contains("User disabled</span>")
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

/// Who did what in words: the command line, a visitor, the user; a refused
/// Google sign-in with its reason; kinds as badges; relative times with the
/// exact time on hover. Never "Themself" or "None".
async fn audit_log_in_words(app: TestApp) {
    use gatehouse::db::audit::{record, EventKind, NewEvent};
    let (_, admin) = admin_browser(&app).await;
    let ada = app.create_user("ada@example.com", "Ada", Role::User).await;
    let id = ada.id;
    app.state()
        .db
        .run(move |conn| {
            record(
                conn,
                NewEvent {
                    user_id: Some(id),
                    detail: "role set to admin from the command line",
                    ..NewEvent::new(EventKind::RoleChanged)
                },
            )?;
            record(
                conn,
                NewEvent {
                    email: Some("stranger@example.com"),
                    detail: "google: no_account",
                    ..NewEvent::new(EventKind::SignInFailed)
                },
            )
        })
        .await
        .unwrap();
    app.browser()
        .await
        .sign_in("ada@example.com", "wrong password")
        .await;
    let page = admin.get("/admin/audit").await.into_string().await.unwrap();
    let row = |needle: &str| -> String {
        page.split("<tr>")
            .find(|row| row.contains(needle))
            .unwrap_or_else(|| panic!("no row with {needle}: {page}"))
            .to_owned()
    };
    let cli = row("role set to admin");
    assert!(cli.contains(">command line</td>"), "{cli}");
    assert!(
        cli.contains("<span class=\"badge badge-info\">Role changed</span>"),
        "{cli}"
    );
    let google = row("stranger@example.com");
    assert!(
        google.contains("Google sign-in refused: no account with that email"),
        "{google}"
    );
    assert!(
        google.contains(">a visitor</td>") && google.contains("badge-bad"),
        "{google}"
    );
    let failed = row("wrong email or password");
    assert!(failed.contains(">the user</td>"), "{failed}");
    assert!(cli.contains("<time datetime=\"") && cli.contains("title=\""));
    assert!(!page.contains("Themself") && !page.contains(">None<"));
    // The user's own page words their events the same way.
    let theirs = admin
        .get(&format!("/admin/users/{id}"))
        .await
        .into_string()
        .await
        .unwrap();
    assert!(theirs.contains(">command line</td>") && theirs.contains("Role changed"));
}
