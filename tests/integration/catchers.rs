//! Error pages in the site's layout, JSON errors for API clients, headers.

use rocket::http::{ContentType, Header, Status};

use crate::common::{Backend, TestApp};
use crate::tests;

tests!(
    error_pages_and_json_errors,
    pages_carry_security_headers_and_are_not_cached,
    database_errors_are_500_not_signed_out
);

async fn error_pages_and_json_errors() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let res = app.get("/no-such-page").await;
    assert_eq!(res.status(), Status::NotFound);
    assert_eq!(res.content_type(), Some(ContentType::HTML));
    let body = res.into_string().await.unwrap();
    assert!(
        body.contains("Page not found") && body.contains("/static/style.css"),
        "in the layout"
    );

    let res = app.get("/api/v1/nothing").await;
    assert_eq!(res.status(), Status::NotFound);
    let body: serde_json::Value = res.into_json().await.unwrap();
    assert_eq!(body["status_code"], 404);

    // A JSON client asking for a protected page gets Flask-JWT's error.
    let res = app.get_json("/protected").await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(
        res.headers().get_one("WWW-Authenticate"),
        Some("Bearer realm=\"gatehouse\"")
    );
    let body: serde_json::Value = res.into_json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "error": "Authorization Required",
            "description": "Request does not contain an access token",
            "status_code": 401
        })
    );

    // A bad token says why, in the header too.
    let res = app
        .client
        .get("/protected")
        .header(Header::new("Accept", "application/json"))
        .header(Header::new("Authorization", "Bearer junk"))
        .dispatch()
        .await;
    let header = res.headers().get_one("WWW-Authenticate").unwrap().to_owned();
    assert!(header.contains("error=\"invalid_token\""), "{header}");
}

async fn pages_carry_security_headers_and_are_not_cached() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let res = app.get("/login").await;
    assert_eq!(res.status(), Status::Ok);
    let csp = res.headers().get_one("Content-Security-Policy").unwrap();
    assert!(csp.contains("default-src 'self'") && !csp.contains("unsafe-inline"));
    assert_eq!(res.headers().get_one("X-Frame-Options"), Some("DENY"));
    assert_eq!(res.headers().get_one("X-Content-Type-Options"), Some("nosniff"));
    assert_eq!(res.headers().get_one("Cache-Control"), Some("no-store"));
    assert_eq!(
        res.headers().get_one("Cross-Origin-Opener-Policy"),
        Some("same-origin")
    );
    assert!(res
        .headers()
        .get_one("Permissions-Policy")
        .unwrap()
        .contains("camera=()"));
    assert_eq!(
        res.headers().get_one("Strict-Transport-Security"),
        None,
        "no HSTS while cookies are not Secure (plain http in debug)"
    );
    let body = res.into_string().await.unwrap();
    assert!(
        !body.contains("http://") && !body.contains("https://"),
        "no external assets"
    );

    let css = app.get("/static/style.css").await;
    assert_eq!(css.status(), Status::Ok);
    assert_eq!(css.content_type(), Some(ContentType::CSS));
    assert_eq!(app.get("/health").await.into_string().await.unwrap(), "ok");

    let https = TestApp::spawn_with(Backend::Sqlite, |f| f.merge(("jwt.cookie_secure", true)))
        .await
        .unwrap();
    let res = https.get("/").await;
    assert_eq!(
        res.headers().get_one("Strict-Transport-Security"),
        Some("max-age=31536000")
    );
}

/// A database failure is a 500 in the layout (logged), never taken for
/// "signed out".
async fn database_errors_are_500_not_signed_out() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.create_user("ada@example.com", "Ada", gatehouse::domain::Role::User)
        .await;
    app.sign_in("ada@example.com").await;
    app.state()
        .db
        .run(|conn| {
            use diesel::connection::SimpleConnection;
            conn.batch_execute("PRAGMA foreign_keys = OFF; DROP TABLE sessions;")?;
            Ok(())
        })
        .await
        .unwrap();
    let res = app.get("/protected").await;
    assert_eq!(res.status(), Status::InternalServerError);
    let body = res.into_string().await.unwrap();
    assert!(body.contains("Something went wrong") && body.contains("/static/style.css"));
    assert!(
        app.access_cookie().is_some(),
        "the cookie is kept: the failure was ours"
    );
    let res = app.get_json("/protected").await;
    assert_eq!(res.status(), Status::InternalServerError);
    let body: serde_json::Value = res.into_json().await.unwrap();
    assert_eq!(body["status_code"], 500);
}
