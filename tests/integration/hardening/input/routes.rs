//! Every way text comes in, sent a NUL: a 422 naming the field (a page
//! shows its form again with the message), or for a sign-in, a refusal;
//! never a 500.

use gatehouse::domain::Role;
use gatehouse::testing::{self, TestTokens};
use rocket::http::{ContentType, Header, Method, Status};
use serde_json::{json, Value};

use crate::common::{form_body, TestApp, PASSWORD};
use crate::db_tests;

db_tests!(control_characters_are_refused_everywhere);

const NUL_EMAIL: &str = "ada\0@example.com";
const NEW_PASSWORD: &str = "a new passphrase 7f3";

/// The app with registration and password reset on (mail to files).
async fn spawn(app: TestApp, mail_dir: &std::path::Path) -> TestApp {
    let backend = app.backend;
    drop(app);
    let dir = mail_dir.display().to_string();
    TestApp::spawn_with(backend, |f| {
        f.merge(("registration", true))
            .merge(("password_reset", true))
            .merge(("mail.transport", "file"))
            .merge(("mail.dir", dir.clone()))
    })
    .await
    .unwrap()
}

/// Posts a form with the CSRF value of `page` (anonymous) or of the session.
async fn post_form(
    app: &TestApp,
    uri: &str,
    csrf_page: Option<&str>,
    fields: &[(&str, &str)],
) -> (Status, String) {
    let csrf = match csrf_page {
        Some(page) => app.csrf(page).await,
        None => app.csrf_cookie(),
    };
    let mut all = vec![("csrf_token", csrf.as_str())];
    all.extend_from_slice(fields);
    let res = app
        .client
        .post(uri.to_owned())
        .header(ContentType::Form)
        .body(form_body(&all))
        .dispatch()
        .await;
    (res.status(), res.into_string().await.unwrap_or_default())
}

async fn call(
    app: &TestApp,
    method: Method,
    uri: &str,
    auth: Option<&TestTokens>,
    body: Option<Value>,
) -> (Status, Value) {
    let mut req = app
        .bare
        .req(method, uri.to_owned())
        .header(Header::new("Accept", "application/json"));
    if let Some(tokens) = auth {
        req = req.header(tokens.authorization());
    }
    if let Some(body) = body {
        req = req.header(ContentType::JSON).body(body.to_string());
    }
    let res = req.dispatch().await;
    (res.status(), res.into_json().await.unwrap_or(Value::Null))
}

#[track_caller]
fn assert_page_refused(what: &str, (status, body): &(Status, String), kept: Option<&str>) {
    assert_eq!(*status, Status::UnprocessableEntity, "{what}: {body}");
    assert!(body.contains("control characters"), "{what}: the message: {body}");
    assert!(body.contains("<form"), "{what}: the form again");
    if let Some(kept) = kept {
        assert!(body.contains(kept), "{what}: {kept:?} kept");
    }
}

#[track_caller]
fn assert_json_refused(what: &str, (status, body): &(Status, Value), field: &str) {
    assert_eq!(*status, Status::UnprocessableEntity, "{what}: {body}");
    let description = body["description"].as_str().unwrap_or_default();
    assert!(description.contains(field), "{what}: names {field}: {body}");
    assert_eq!(body["status_code"], json!(422), "{what}: the usual error shape");
}

async fn control_characters_are_refused_everywhere(app: TestApp) {
    let mail_dir = tempfile::tempdir().unwrap();
    let app = spawn(app, mail_dir.path()).await;
    let state = app.state();
    let root = app.create_user("root@example.com", "Root", Role::Admin).await;
    let tokens = testing::sign_in(state, &root).await.unwrap();
    let ada = app.create_user("ada@example.com", "Ada", Role::User).await;

    // Anonymous forms.
    let res = post_form(
        &app,
        "/login",
        Some("/login"),
        &[("email", NUL_EMAIL), ("password", PASSWORD)],
    )
    .await;
    assert!(
        matches!(res.0, Status::Unauthorized | Status::UnprocessableEntity),
        "/login email: {res:?}"
    );
    let res = post_form(
        &app,
        "/login",
        Some("/login"),
        &[("email", "ada@example.com"), ("password", "x\0y")],
    )
    .await;
    assert_eq!(res.0, Status::Unauthorized, "/login password");
    let res = post_form(&app, "/register", Some("/register"), &[("email", NUL_EMAIL)]).await;
    assert_page_refused("/register", &res, None);
    let res = post_form(
        &app,
        "/password/forgot",
        Some("/password/forgot"),
        &[("email", NUL_EMAIL)],
    )
    .await;
    assert_page_refused("/password/forgot", &res, None);
    let fields = [
        ("token", "x\0"),
        ("password", "a\0b"),
        ("confirm_password", "a\0b"),
    ];
    let res = post_form(&app, "/password/reset", Some("/password/forgot"), &fields).await;
    assert!(
        res.0.code < 500 && res.0 != Status::Ok,
        "/password/reset: {res:?}"
    );
    for uri in ["/login?next=%00", "/register?next=%00"] {
        assert_eq!(app.get(uri).await.status(), Status::Ok, "{uri}");
    }
    for uri in ["/register/confirm?token=%00", "/password/reset?token=%00"] {
        let status = app.get(uri).await.status();
        assert!(status.code < 500, "{uri}: {status}");
    }

    // The JSON API, anonymous.
    let body = json!({ "email": NUL_EMAIL, "password": PASSWORD });
    let res = call(&app, Method::Post, "/api/v1/login", None, Some(body)).await;
    assert!(
        matches!(res.0, Status::Unauthorized | Status::UnprocessableEntity),
        "api login: {res:?}"
    );
    let body = json!({ "username": NUL_EMAIL, "password": PASSWORD });
    let res = call(&app, Method::Post, "/auth", None, Some(body)).await;
    assert!(
        matches!(res.0, Status::Unauthorized | Status::UnprocessableEntity),
        "/auth: {res:?}"
    );
    let res = call(
        &app,
        Method::Post,
        "/api/v1/password/forgot",
        None,
        Some(json!({ "email": NUL_EMAIL })),
    )
    .await;
    assert_json_refused("api forgot", &res, "email");
    let body = json!({ "token": "x\0", "new_password": "a\0b" });
    let res = call(&app, Method::Post, "/api/v1/password/reset", None, Some(body)).await;
    assert!(res.0.code < 500 && res.0 != Status::Ok, "api reset: {res:?}");

    // Signed in: the account's forms.
    app.sign_in("root@example.com").await;
    let res = post_form(&app, "/account/profile", None, &[("name", "Root\0")]).await;
    assert_page_refused("/account/profile", &res, Some("Root"));
    let fields = [
        ("current_password", PASSWORD),
        ("new_password", "a new\0passphrase"),
        ("confirm_password", "a new\0passphrase"),
    ];
    let res = post_form(&app, "/account/password", None, &fields).await;
    assert_page_refused("/account/password", &res, None);
    let res = post_form(&app, "/account/two-factor/disable", None, &[("code", "12\x0034")]).await;
    assert!(res.0.code < 500, "/account/two-factor/disable: {res:?}");
    let res = post_form(&app, "/items", None, &[("name", "Lamp\0"), ("description", "")]).await;
    assert_page_refused("/items name", &res, Some("Lamp"));
    let fields = [("name", "Lamp"), ("description", "bright\x07")];
    let res = post_form(&app, "/items", None, &fields).await;
    assert_page_refused("/items description", &res, Some("Lamp"));
    let fields = [("name", "Lamp"), ("description", "two\r\nlines\tfine")];
    let res = post_form(&app, "/items", None, &fields).await;
    assert_eq!(res.0, Status::SeeOther, "line breaks in a description are fine");

    // The admin pages.
    for (field, value) in [
        ("email", NUL_EMAIL),
        ("name", "Bob\0"),
        ("password", "a new\0passphrase"),
    ] {
        let mut fields = vec![
            ("email", "bob@example.com"),
            ("name", "Bob"),
            ("role", "user"),
            ("password_choice", "set"),
            ("password", NEW_PASSWORD),
        ];
        fields.retain(|(f, _)| *f != field);
        fields.push((field, value));
        let res = post_form(&app, "/admin/users", None, &fields).await;
        assert_page_refused(&format!("/admin/users {field}"), &res, None);
    }
    let edit = format!("/admin/users/{}/edit", ada.id);
    for (field, value) in [("email", NUL_EMAIL), ("name", "Ada\u{1b}")] {
        let mut fields = vec![("email", "ada@example.com"), ("name", "Ada"), ("role", "user")];
        fields.retain(|(f, _)| *f != field);
        fields.push((field, value));
        let res = post_form(&app, &edit, None, &fields).await;
        assert_page_refused(&format!("{edit} {field}"), &res, None);
    }
    for uri in ["/admin/users?q=ad%00a", "/admin/audit?user=ad%00a"] {
        let res = app.get(uri).await;
        let res = (res.status(), res.into_string().await.unwrap());
        assert_page_refused(uri, &res, Some("value=\"ad"));
    }

    // The JSON API, signed in.
    let t = Some(&tokens);
    for (field, value) in [
        ("email", NUL_EMAIL),
        ("name", "Bob\0"),
        ("password", "a new\0passphrase"),
    ] {
        let mut body = json!({ "email": "bob@example.com", "name": "Bob", "password": NEW_PASSWORD });
        body[field] = json!(value);
        let res = call(&app, Method::Post, "/api/v1/admin/users", t, Some(body)).await;
        assert_json_refused(&format!("api create {field}"), &res, field);
    }
    let uri = format!("/api/v1/admin/users/{}", ada.id);
    for (field, value) in [("email", NUL_EMAIL), ("name", "A\u{85}da")] {
        let mut body = json!({});
        body[field] = json!(value);
        let res = call(&app, Method::Patch, &uri, t, Some(body)).await;
        assert_json_refused(&format!("api edit {field}"), &res, field);
    }
    let res = call(&app, Method::Get, "/api/v1/admin/users?q=ad%00a", t, None).await;
    assert_json_refused("api search", &res, "q");
    let res = call(&app, Method::Get, "/api/v1/admin/audit?user=ad%00a", t, None).await;
    assert_json_refused("api audit filter", &res, "user");
    let res = call(
        &app,
        Method::Post,
        "/api/v1/items",
        t,
        Some(json!({ "name": "Lamp\0" })),
    )
    .await;
    assert_json_refused("api items", &res, "name");
    let body = json!({ "current_password": PASSWORD, "new_password": "a new\0passphrase" });
    let res = call(&app, Method::Post, "/api/v1/password", t, Some(body)).await;
    assert_eq!(res.0, Status::UnprocessableEntity, "api password: {res:?}");
    let res = call(
        &app,
        Method::Patch,
        "/api/v1/passkeys/1",
        t,
        Some(json!({ "name": "key\0" })),
    )
    .await;
    assert!(res.0.code < 500, "api passkey name: {res:?}");

    // Nothing was written with a NUL.
    let ada = app.find_user("ada@example.com").await.unwrap();
    assert_eq!(ada.name, "Ada");
    assert!(app.find_user("bob@example.com").await.is_none());
}
