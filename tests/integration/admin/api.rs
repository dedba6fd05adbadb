//! The admin JSON API: role checks on every route, each action, and the
//! last admin's protection.

use gatehouse::domain::Role;
use gatehouse::testing::{self, TestTokens};
use rocket::http::{ContentType, Header, Method, Status};
use serde_json::{json, Value};

use crate::common::{TestApp, PASSWORD};
use crate::db_tests;

db_tests!(
    admin_routes_check_the_role,
    admin_actions,
    last_admin_is_protected
);

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
    let status = res.status();
    let body = res.into_json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

async fn tokens(app: &TestApp, email: &str, role: Role) -> (i32, TestTokens) {
    let state = app.state();
    let user = testing::create_user(state, email, PASSWORD, role).await.unwrap();
    (user.id, testing::sign_in(state, &user).await.unwrap())
}

async fn admin_routes_check_the_role(app: TestApp) {
    let (uid, user) = tokens(&app, "ada@example.com", Role::User).await;
    let (_, admin) = tokens(&app, "root@example.com", Role::Admin).await;
    let routes = [
        (Method::Get, "/api/v1/admin/users".to_owned()),
        (Method::Post, "/api/v1/admin/users".to_owned()),
        (Method::Get, format!("/api/v1/admin/users/{uid}")),
        (Method::Patch, format!("/api/v1/admin/users/{uid}")),
        (Method::Post, format!("/api/v1/admin/users/{uid}/disable")),
        (Method::Post, format!("/api/v1/admin/users/{uid}/enable")),
        (Method::Post, format!("/api/v1/admin/users/{uid}/unlock")),
        (Method::Post, format!("/api/v1/admin/users/{uid}/revoke-sessions")),
        (Method::Post, format!("/api/v1/admin/users/{uid}/reset-password")),
        (Method::Post, format!("/api/v1/admin/users/{uid}/unlink-google")),
        (Method::Get, format!("/api/v1/admin/users/{uid}/sessions")),
        (Method::Delete, "/api/v1/admin/sessions/nope".to_owned()),
        (Method::Get, "/api/v1/admin/audit".to_owned()),
        (Method::Delete, format!("/api/v1/admin/users/{uid}")),
    ];
    for (method, uri) in &routes {
        let body = matches!(method, Method::Post | Method::Patch).then(|| json!({}));
        let (status, _) = call(&app, *method, uri, None, body.clone()).await;
        assert_eq!(status, Status::Unauthorized, "anonymous {method} {uri}");
        let (status, _) = call(&app, *method, uri, Some(&user), body).await;
        assert_eq!(status, Status::Forbidden, "user {method} {uri}");
    }
    for (method, uri) in routes.iter().filter(|(m, _)| *m == Method::Get) {
        let (status, _) = call(&app, *method, uri, Some(&admin), None).await;
        assert_eq!(status, Status::Ok, "admin {method} {uri}");
    }
    // Writes need a fresh token.
    let state = app.state();
    let root = app.find_user("root@example.com").await.unwrap();
    let stale = testing::sign_in_stale(state, &root).await.unwrap();
    let (status, body) = call(
        &app,
        Method::Post,
        &format!("/api/v1/admin/users/{uid}/disable"),
        Some(&stale),
        None,
    )
    .await;
    assert_eq!(status, Status::Unauthorized);
    assert_eq!(body["description"], "Fresh token required");
}

async fn admin_actions(app: TestApp) {
    let (_, admin) = tokens(&app, "root@example.com", Role::Admin).await;
    let admin = Some(&admin);
    // Create, with the password rules.
    let (status, body) = call(
        &app,
        Method::Post,
        "/api/v1/admin/users",
        admin,
        Some(json!({"email": "Ada@Example.com", "name": "Ada", "password": "password"})),
    )
    .await;
    assert_eq!(status, Status::UnprocessableEntity, "{body}");
    let (status, ada) = call(
        &app,
        Method::Post,
        "/api/v1/admin/users",
        admin,
        Some(json!({"email": "Ada@Example.com", "name": "Ada", "password": PASSWORD, "role": "user"})),
    )
    .await;
    assert_eq!(status, Status::Created);
    assert_eq!(ada["email"], "ada@example.com");
    let id = ada["id"].as_i64().unwrap();
    let (status, _) = call(
        &app,
        Method::Post,
        "/api/v1/admin/users",
        admin,
        Some(json!({"email": "ada@example.com", "password": PASSWORD})),
    )
    .await;
    assert_eq!(status, Status::Conflict);
    for i in 0..3 {
        call(
            &app,
            Method::Post,
            "/api/v1/admin/users",
            admin,
            Some(json!({"email": format!("user{i}@example.com"), "password": PASSWORD})),
        )
        .await;
    }
    // Search, filters, pages.
    let (_, found) = call(&app, Method::Get, "/api/v1/admin/users?q=ADA", admin, None).await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["users"][0]["email"], "ada@example.com");
    let (_, page) = call(
        &app,
        Method::Get,
        "/api/v1/admin/users?per_page=2&page=2",
        admin,
        None,
    )
    .await;
    assert_eq!(page["total"], 5);
    assert_eq!(page["users"].as_array().unwrap().len(), 2);
    let (_, admins) = call(&app, Method::Get, "/api/v1/admin/users?role=admin", admin, None).await;
    assert_eq!(admins["total"], 1);
    let (status, _) = call(&app, Method::Get, "/api/v1/admin/users?role=root", admin, None).await;
    assert_eq!(status, Status::UnprocessableEntity);

    // Ada signs in; each admin action reaches her open session at once.
    let ada_tokens = {
        let state = app.state();
        let user = app.find_user("ada@example.com").await.unwrap();
        testing::sign_in(state, &user).await.unwrap()
    };
    let ada_alive = || async {
        call(&app, Method::Get, "/api/v1/me", Some(&ada_tokens), None)
            .await
            .0
            == Status::Ok
    };
    assert!(ada_alive().await);
    let (status, edited) = call(
        &app,
        Method::Patch,
        &format!("/api/v1/admin/users/{id}"),
        admin,
        Some(json!({"name": "Ada Lovelace", "role": "admin"})),
    )
    .await;
    assert_eq!(status, Status::Ok);
    assert_eq!(edited["role"], "admin");
    let (_, edited) = call(
        &app,
        Method::Patch,
        &format!("/api/v1/admin/users/{id}"),
        admin,
        Some(json!({"role": "user"})),
    )
    .await;
    assert_eq!(edited["name"], "Ada Lovelace");
    let (status, _) = call(
        &app,
        Method::Post,
        &format!("/api/v1/admin/users/{id}/disable"),
        admin,
        None,
    )
    .await;
    assert_eq!(status, Status::Ok);
    assert!(!ada_alive().await, "disabled: refused on the next request");
    call(
        &app,
        Method::Post,
        &format!("/api/v1/admin/users/{id}/enable"),
        admin,
        None,
    )
    .await;
    assert!(ada_alive().await);
    let (_, sessions) = call(
        &app,
        Method::Get,
        &format!("/api/v1/admin/users/{id}/sessions"),
        admin,
        None,
    )
    .await;
    let sid = sessions["sessions"][0]["id"].as_str().unwrap().to_owned();
    let (status, _) = call(
        &app,
        Method::Delete,
        &format!("/api/v1/admin/sessions/{sid}"),
        admin,
        None,
    )
    .await;
    assert_eq!(status, Status::NoContent);
    assert!(!ada_alive().await, "that session is revoked");
    let (_, revoked) = call(
        &app,
        Method::Post,
        &format!("/api/v1/admin/users/{id}/revoke-sessions"),
        admin,
        None,
    )
    .await;
    assert_eq!(revoked["sessions_revoked"], 0);
    let (status, _) = call(
        &app,
        Method::Post,
        &format!("/api/v1/admin/users/{id}/unlock"),
        admin,
        None,
    )
    .await;
    assert_eq!(status, Status::Ok);
    let (status, _) = call(
        &app,
        Method::Delete,
        &format!("/api/v1/admin/users/{id}"),
        admin,
        None,
    )
    .await;
    assert_eq!(status, Status::NoContent);
    let (status, _) = call(
        &app,
        Method::Get,
        &format!("/api/v1/admin/users/{id}"),
        admin,
        None,
    )
    .await;
    assert_eq!(status, Status::NotFound);

    // Every write is in the audit log, with the admin as actor.
    let (_, log) = call(
        &app,
        Method::Get,
        "/api/v1/admin/audit?type=user_disabled",
        admin,
        None,
    )
    .await;
    let events = log["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert!(events[0]["actor_id"].as_i64().is_some());
    let (_, log) = call(&app, Method::Get, "/api/v1/admin/audit", admin, None).await;
    let kinds: Vec<&str> = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "user_created",
        "user_updated",
        "user_enabled",
        "sign_out",
        "account_unlocked",
        "user_deleted",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
}

async fn last_admin_is_protected(app: TestApp) {
    let (root_id, root) = tokens(&app, "root@example.com", Role::Admin).await;
    let root = Some(&root);
    for (method, uri, body) in [
        (
            Method::Patch,
            format!("/api/v1/admin/users/{root_id}"),
            Some(json!({"role": "user"})),
        ),
        (
            Method::Post,
            format!("/api/v1/admin/users/{root_id}/disable"),
            None,
        ),
        (Method::Delete, format!("/api/v1/admin/users/{root_id}"), None),
    ] {
        // An admin can't lock themselves out: not even with another admin
        // around to take over.
        let (status, body) = call(&app, method, &uri, root, body).await;
        assert_eq!(status, Status::UnprocessableEntity, "{method} {uri}");
        assert!(
            body["description"].as_str().unwrap().contains("your own"),
            "{body}"
        );
    }
    let (status, me) = call(&app, Method::Get, "/api/v1/me", root, None).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(me["identity"]["role"], "admin");
}
