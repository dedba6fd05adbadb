//! The audit log keeps every refused sign-in, however hostile its input,
//! and keeps each row small.

use gatehouse::db::audit::AuditEvent;
use gatehouse::domain::Role;
use rocket::http::{ContentType, Header, Status};
use serde_json::json;

use crate::common::{form_body, TestApp, PASSWORD};
use crate::db_tests;

db_tests!(
    a_sign_in_refused_for_a_nul_is_audited,
    audit_rows_and_session_user_agents_are_bounded
);

async fn events(app: &TestApp) -> Vec<AuditEvent> {
    app.state()
        .db
        .run(|conn| gatehouse::db::audit::recent(conn, None, 100))
        .await
        .unwrap()
}

async fn a_sign_in_refused_for_a_nul_is_audited(app: TestApp) {
    let res = app.sign_in_form("ada\0@example.com", PASSWORD, &[]).await;
    let status = res.status();
    let body = res.into_string().await.unwrap();
    assert!(
        matches!(status, Status::Unauthorized | Status::UnprocessableEntity),
        "{status}: {body}"
    );
    assert!(body.contains("<form"), "the form again");
    let res = app
        .bare
        .post("/api/v1/login")
        .header(ContentType::JSON)
        .body(json!({ "email": "bob\u{1}@example.com", "password": "x\0" }).to_string())
        .dispatch()
        .await;
    assert!(matches!(
        res.status(),
        Status::Unauthorized | Status::UnprocessableEntity
    ));

    let failed: Vec<Option<String>> = events(&app)
        .await
        .into_iter()
        .filter(|e| e.kind == "sign_in_failed")
        .map(|e| e.email)
        .collect();
    assert!(
        failed.contains(&Some("ada\\u{0}@example.com".into())),
        "the NUL written as an escape: {failed:?}"
    );
    assert!(
        failed.contains(&Some("bob\\u{1}@example.com".into())),
        "{failed:?}"
    );
}

async fn audit_rows_and_session_user_agents_are_bounded(app: TestApp) {
    let huge_email = format!("{}@example.com", "a".repeat(900 * 1024));
    let huge_agent = format!("Mozilla/5.0 {}", "x".repeat(60 * 1024));
    for _ in 0..3 {
        let res = app
            .bare
            .post("/api/v1/login")
            .header(ContentType::JSON)
            .header(Header::new("User-Agent", huge_agent.clone()))
            .body(json!({ "email": huge_email, "password": "wrong" }).to_string())
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::Unauthorized);
    }
    let failed: Vec<AuditEvent> = events(&app)
        .await
        .into_iter()
        .filter(|e| e.kind == "sign_in_failed")
        .collect();
    assert_eq!(failed.len(), 3, "every attempt audited");
    for e in &failed {
        let email = e.email.as_deref().unwrap();
        assert!(email.chars().count() <= 254, "email of {}", email.len());
        assert!(
            email.starts_with("aaaa") && email.ends_with('…'),
            "cut, and says so"
        );
        assert!(
            e.user_agent.chars().count() <= 500,
            "user agent of {}",
            e.user_agent.len()
        );
        assert!(e.user_agent.starts_with("Mozilla/5.0 xxx"));
    }

    // A session keeps a bounded User-Agent too.
    app.create_user("root@example.com", "Root", Role::Admin).await;
    let csrf = app.csrf("/login").await;
    let res = app
        .client
        .post("/login")
        .header(ContentType::Form)
        .header(Header::new("User-Agent", huge_agent.clone()))
        .body(form_body(&[
            ("csrf_token", &csrf),
            ("email", "root@example.com"),
            ("password", PASSWORD),
        ]))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::SeeOther);
    let root = app.find_user("root@example.com").await.unwrap();
    let sessions = app
        .state()
        .db
        .run(move |conn| gatehouse::db::session::Session::list_active(conn, root.id, 3600))
        .await
        .unwrap();
    assert!(!sessions.is_empty());
    for s in &sessions {
        assert!(s.user_agent.chars().count() <= 500, "{}", s.user_agent.len());
    }

    // The audit page stays small.
    let page = app.get("/admin/audit").await;
    assert_eq!(page.status(), Status::Ok);
    let page = page.into_string().await.unwrap();
    assert!(
        page.len() < 64 * 1024,
        "the audit page weighs {} bytes",
        page.len()
    );
    let api = app.get_json("/api/v1/admin/audit").await;
    assert_eq!(api.status(), Status::Ok);
    let api = api.into_string().await.unwrap();
    assert!(
        api.len() < 64 * 1024,
        "the audit API answer weighs {} bytes",
        api.len()
    );
}
