//! bcrypt admission: with every password thread busy and the queue full, a
//! sign-in is answered 503 with `Retry-After` at once (the JSON error for
//! the API, the form again for browsers), never a 500, and the sign-ins
//! that got in succeed.

use gatehouse::domain::Role;
use rocket::futures::future::join_all;
use rocket::http::{ContentType, Status};

use crate::common::{TestApp, PASSWORD};
use crate::db_tests;

db_tests!(a_full_password_queue_answers_503,);

async fn a_full_password_queue_answers_503(app: TestApp) {
    let backend = app.backend;
    drop(app);
    // One thread, one place in the queue, and checks slow enough (cost 12)
    // that simultaneous sign-ins overlap.
    let app = TestApp::spawn_with(backend, |f| {
        f.merge(("password.hash_workers", 1))
            .merge(("password.hash_queue", 1))
            .merge(("password.bcrypt_cost", 12))
            .merge(("login.rate_limit_per_minute", 1000))
    })
    .await
    .unwrap();
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let body = serde_json::json!({"email": "ada@example.com", "password": PASSWORD}).to_string();
    let pause = |ms: u64| rocket::tokio::time::sleep(std::time::Duration::from_millis(ms));
    // Sign-ins 50 ms apart, while the first still holds the thread (a check
    // at cost 12 takes far longer): the first runs, the second waits, the
    // rest are refused at once, and so is a browser's form.
    // One instance (`client`): each instance has its own threads.
    let (client, body) = (&app.client, &body);
    let api = |after: u64| async move {
        pause(after).await;
        client
            .post("/api/v1/login")
            .header(ContentType::JSON)
            .body(body.clone())
            .dispatch()
            .await
    };
    let (answers, form) = rocket::tokio::join!(join_all([0, 50, 100, 150].map(api)), async {
        let csrf = app.csrf("/login").await;
        pause(200).await;
        app.client
            .post("/login")
            .header(ContentType::Form)
            .body(format!("csrf_token={csrf}&email=ada%40example.com&password=x"))
            .dispatch()
            .await
    });
    let statuses: Vec<u16> = answers.iter().map(|r| r.status().code).collect();
    assert_eq!(statuses, [200, 200, 503, 503]);
    for res in answers.into_iter().skip(2) {
        assert_eq!(res.headers().get_one("Retry-After"), Some("5"));
        let json: serde_json::Value = res.into_json().await.unwrap();
        assert_eq!(json["status_code"], 503);
        let description = json["description"].as_str().unwrap();
        assert!(description.contains("Too many sign-ins"), "{description}");
    }
    // The browser's form comes back with the reason and the email kept.
    assert_eq!(form.status(), Status::ServiceUnavailable);
    assert_eq!(form.headers().get_one("Retry-After"), Some("5"));
    let page = form.into_string().await.unwrap();
    assert!(page.contains("Too many sign-ins") && page.contains("ada@example.com"));
    // Load passes; the next sign-in works. Refusals write nothing to the
    // audit log (they are counted in the server log).
    let kinds = app.audit_kinds().await;
    assert_eq!(kinds.iter().filter(|k| *k == "sign_in").count(), 2);
    assert!(!kinds.iter().any(|k| k == "sign_in_failed"));
    app.sign_in("ada@example.com").await;
}
