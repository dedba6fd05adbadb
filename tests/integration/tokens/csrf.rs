//! Cookie-authenticated writes need the CSRF value, on an app's own routes
//! too; a Bearer token needs none.

use gatehouse::domain::Role;
use rocket::http::{Header, Status};

use crate::common::TestApp;
use crate::db_tests;

db_tests!(cookie_writes_need_csrf_on_every_route);

#[rocket::post("/notes", data = "<body>")]
fn add_note(user: gatehouse::CurrentUser, body: rocket::serde::json::Json<serde_json::Value>) -> String {
    format!("{} noted {}", user.user.email, body.0)
}

/// A route of the app's own, with no CSRF code in it, is protected too; a
/// junk `Authorization` header next to the cookie changes nothing.
async fn cookie_writes_need_csrf_on_every_route(app: TestApp) {
    let backend = app.backend;
    drop(app);
    let app = TestApp::spawn_rocket(backend, |f| {
        gatehouse::build(f).mount("/", rocket::routes![add_note])
    })
    .await
    .unwrap();
    app.create_user("ada@example.com", "Ada", Role::User).await;
    app.sign_in("ada@example.com").await;
    let csrf = app.csrf("/").await;
    let post = |headers: Vec<Header<'static>>| {
        let mut req = app
            .client
            .post("/notes")
            .header(rocket::http::ContentType::JSON)
            .body("{\"n\":1}");
        for h in headers {
            req = req.header(h);
        }
        req.dispatch()
    };
    for headers in [
        vec![],
        vec![Header::new("X-CSRF-TOKEN", "wrong")],
        vec![Header::new("Authorization", "Bearer junk")],
        vec![
            Header::new("Authorization", "Bearer junk"),
            Header::new("X-CSRF-TOKEN", ""),
        ],
    ] {
        let res = post(headers).await;
        assert_eq!(res.status(), Status::Forbidden);
        let body: serde_json::Value = res.into_json().await.unwrap();
        assert_eq!(body["description"], "CSRF double submit tokens do not match");
    }
    let res = post(vec![Header::new("X-CSRF-TOKEN", csrf.clone())]).await;
    assert_eq!(res.status(), Status::Ok);
    assert!(res
        .into_string()
        .await
        .unwrap()
        .starts_with("ada@example.com noted"));
    // An API client with a Bearer token and no cookies needs no CSRF value.
    let token = app.access_cookie().unwrap();
    let res = app
        .bare
        .post("/notes")
        .header(rocket::http::ContentType::JSON)
        .header(Header::new("Authorization", format!("Bearer {token}")))
        .body("{}")
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
}
