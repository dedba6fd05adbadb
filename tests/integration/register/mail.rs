//! The mail: a failure to send is reported alike for every address, and
//! SMTP delivers the link under `public_url`.

use gatehouse::domain::Role;
use rocket::http::Status;
use serde_json::json;

use super::with_registration;
use crate::common::mailbox::Mail;
use crate::common::smtp_server::SmtpServer;
use crate::common::{assert_redirect_to, TestApp, PASSWORD};
use crate::db_tests;

db_tests!(a_mail_failure_is_reported_alike, smtp_delivers_the_link);

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
