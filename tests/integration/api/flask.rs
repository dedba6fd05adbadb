//! For people porting from Flask: `username` at login, the `{"msg": ...}` error shape, route lists relative to
//! `api_prefix`, JSON 401s from page routes for JSON clients.

use gatehouse::config::Config;
use gatehouse::domain::Role;
use rocket::figment::Figment;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use rocket::routes;
use serde_json::{json, Value};

use super::{json_of, post_json};
use crate::common::{assert_redirect_to, figment, Backend, TestApp, PASSWORD};
use crate::{backend_tests, db_tests, tests};

db_tests!(
    login_takes_username_for_email,
    login_names_what_is_wrong_with_the_address,
    default_error_shape_is_flask_jwts,
    accept_json_gets_a_json_401_from_a_page,
    a_token_header_gets_a_json_401_from_a_page,
    browsers_are_still_sent_to_sign_in,
);

backend_tests!(
    custom_auth_username_key,
    msg_shape_on_401_and_404,
    msg_shape_on_422,
    msg_shape_on_two_factor,
    white_list_is_relative_to_the_api_prefix,
    ignored_routes_take_method_and_path,
);

tests!(sync: error_format_typo_is_refused_with_a_suggestion, bad_route_entries_are_refused);

const ADA: &str = "ada@example.com";

async fn login<'c>(client: &'c Client, body: Value) -> LocalResponse<'c> {
    post_json(client, "/api/v1/login", body, None).await
}

async fn page<'c>(client: &'c Client, headers: &[(&'static str, &'static str)]) -> LocalResponse<'c> {
    let mut req = client.get("/account");
    for (name, value) in headers {
        req = req.header(Header::new(*name, *value));
    }
    req.dispatch().await
}

fn keys(body: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

async fn login_takes_username_for_email(app: TestApp) {
    app.create_user(ADA, "Ada", Role::User).await;
    let res = login(&app.bare, json!({"username": ADA, "password": PASSWORD})).await;
    assert_eq!(res.status(), Status::Ok);
    assert!(json_of(res).await["access_token"].is_string());
    // Both, the same: fine.
    let res = login(
        &app.bare,
        json!({"email": ADA, "username": ADA, "password": PASSWORD}),
    )
    .await;
    assert_eq!(res.status(), Status::Ok);
    // A wrong password by username is the usual refusal.
    let res = login(&app.bare, json!({"username": ADA, "password": "nope"})).await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(json_of(res).await["description"], "Invalid credentials");
}

async fn login_names_what_is_wrong_with_the_address(app: TestApp) {
    app.create_user(ADA, "Ada", Role::User).await;
    let cases = [
        (
            json!({"email": ADA, "username": "bob@example.com", "password": PASSWORD}),
            "`email` and `username` conflict: send one of them",
        ),
        (
            json!({"password": PASSWORD}),
            "missing field `email` (or `username`)",
        ),
        (
            json!({"username": 7, "password": PASSWORD}),
            "`username` must be a string",
        ),
    ];
    for (body, description) in cases {
        let res = login(&app.bare, body).await;
        assert_eq!(res.status(), Status::UnprocessableEntity);
        let body = json_of(res).await;
        assert_eq!(body["description"], description);
        assert_eq!(body["status_code"], 422);
    }
}

async fn default_error_shape_is_flask_jwts(app: TestApp) {
    let res = app.bare.get("/api/v1/private").dispatch().await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(
        res.headers().get_one("WWW-Authenticate"),
        Some("Bearer realm=\"gatehouse\"")
    );
    let body = json_of(res).await;
    assert_eq!(keys(&body), ["description", "error", "status_code"]);
    assert_eq!(body["error"], "Authorization Required");
}

async fn accept_json_gets_a_json_401_from_a_page(app: TestApp) {
    for accept in [
        "application/json",
        "text/html;q=0.5, application/json",
        "application/json, text/html",
    ] {
        let res = page(&app.bare, &[("Accept", accept)]).await;
        assert_eq!(res.status(), Status::Unauthorized, "{accept}");
        assert_eq!(res.content_type(), Some(ContentType::JSON));
        assert!(res.headers().get_one("WWW-Authenticate").is_some());
        let body = json_of(res).await;
        assert_eq!(body["description"], "Request does not contain an access token");
    }
    // HTML first, or preferred by weight: the sign-in page.
    for accept in ["text/html, application/json", "application/json;q=0.5, text/html"] {
        let res = page(&app.bare, &[("Accept", accept)]).await;
        assert_redirect_to(&res, "/login?next=/account");
    }
}

async fn a_token_header_gets_a_json_401_from_a_page(app: TestApp) {
    let res = page(&app.bare, &[("Authorization", "Bearer junk")]).await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(json_of(res).await["description"], "The token is malformed");
    let res = page(&app.bare, &[("Authorization", "Bearer junk"), ("Accept", "*/*")]).await;
    assert_eq!(res.status(), Status::Unauthorized);
    // A browser's own schemes, or a page asked for, still get the sign-in page.
    let res = page(&app.bare, &[("Authorization", "Basic YWRhOnB3")]).await;
    assert_redirect_to(&res, "/login?next=/account");
    let res = page(
        &app.bare,
        &[
            ("Authorization", "Bearer junk"),
            ("Accept", "text/html,*/*;q=0.8"),
        ],
    )
    .await;
    assert_redirect_to(&res, "/login?next=/account");
}

async fn browsers_are_still_sent_to_sign_in(app: TestApp) {
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    assert_redirect_to(
        &page(&app.bare, &[("Accept", browser)]).await,
        "/login?next=/account",
    );
    assert_redirect_to(&page(&app.bare, &[]).await, "/login?next=/account");
}

async fn custom_auth_username_key(backend: Backend) {
    let app = TestApp::spawn_with(backend, |f| f.merge(("auth_username_key", "login")))
        .await
        .unwrap();
    app.create_user(ADA, "Ada", Role::User).await;
    let res = login(&app.bare, json!({"login": ADA, "password": PASSWORD})).await;
    assert_eq!(res.status(), Status::Ok);
    // Flask-JWT's /auth reads the same key.
    let res = post_json(
        &app.bare,
        "/auth",
        json!({"login": ADA, "password": PASSWORD}),
        None,
    )
    .await;
    assert_eq!(res.status(), Status::Ok);
    // `username` is no longer the key: it is as if nothing was sent.
    let res = login(&app.bare, json!({"username": ADA, "password": PASSWORD})).await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    assert_eq!(
        json_of(res).await["description"],
        "missing field `email` (or `login`)"
    );
}

fn extended(f: Figment) -> Figment {
    f.merge(("jwt.error_format", "flask-jwt-extended"))
}

async fn msg_shape_on_401_and_404(backend: Backend) {
    let app = TestApp::spawn_with(backend, extended).await.unwrap();
    let res = app.bare.get("/api/v1/private").dispatch().await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert!(res.headers().get_one("WWW-Authenticate").is_some());
    assert_eq!(
        json_of(res).await,
        json!({"msg": "Request does not contain an access token"})
    );
    // A refusal from a handler (bad credentials) and from a catcher (404).
    let res = login(&app.bare, json!({"email": ADA, "password": "nope"})).await;
    assert_eq!(json_of(res).await, json!({"msg": "Invalid credentials"}));
    let res = app.bare.get("/api/v1/nothing-here").dispatch().await;
    assert_eq!(res.status(), Status::NotFound);
    assert_eq!(
        json_of(res).await,
        json!({"msg": "The requested resource was not found"})
    );
}

async fn msg_shape_on_422(backend: Backend) {
    let app = TestApp::spawn_with(backend, extended).await.unwrap();
    let res = login(&app.bare, json!({"password": PASSWORD})).await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    assert_eq!(
        json_of(res).await,
        json!({"msg": "missing field `email` (or `username`)"})
    );
}

async fn msg_shape_on_two_factor(backend: Backend) {
    let app = TestApp::spawn_with(backend, extended).await.unwrap();
    app.create_user(ADA, "Ada", Role::User).await;
    crate::two_factor::turn_on(&app, ADA).await;
    let res = login(&app.bare, json!({"username": ADA, "password": PASSWORD})).await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert!(res.headers().get_one("WWW-Authenticate").is_some());
    let body = json_of(res).await;
    assert_eq!(keys(&body), ["mfa_token", "msg"]);
    assert!(body["msg"].as_str().unwrap().contains("two-factor code"));
}

#[rocket::get("/open")]
fn open() -> &'static str {
    "open"
}

#[rocket::get("/closed")]
fn closed() -> &'static str {
    "closed"
}

#[rocket::get("/hook")]
fn hook_get() -> &'static str {
    "hook get"
}

#[rocket::post("/hook")]
fn hook_post() -> &'static str {
    "hook post"
}

#[rocket::put("/any")]
fn any_put() -> &'static str {
    "any put"
}

async fn denying(backend: Backend, adjust: fn(Figment) -> Figment) -> TestApp {
    TestApp::spawn_rocket(backend, move |f| {
        gatehouse::build(adjust(f.merge(("deny_by_default", true))))
            .mount("/api/v1", routes![open, closed])
            .mount("/", routes![hook_get, hook_post, any_put])
    })
    .await
    .unwrap()
}

async fn white_list_is_relative_to_the_api_prefix(backend: Backend) {
    let app = denying(backend, |f| {
        f.merge(("white_list_routes", vec![("GET", "/open")]))
    })
    .await;
    let res = app.bare.get("/api/v1/open").dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(res.into_string().await.unwrap(), "open");
    let res = app.bare.get("/api/v1/closed").dispatch().await;
    assert_eq!(res.status(), Status::Unauthorized);
    // Only the method listed.
    let res = app.bare.post("/api/v1/open").dispatch().await;
    assert_eq!(res.status(), Status::Unauthorized);
}

async fn ignored_routes_take_method_and_path(backend: Backend) {
    let app = denying(backend, |f| {
        f.merge(("ignored_routes", json!([["POST", "/hook"], "/any"])))
    })
    .await;
    let res = app.bare.post("/hook").dispatch().await;
    assert_eq!(res.into_string().await.unwrap(), "hook post");
    let res = app
        .bare
        .get("/hook")
        .header(Header::new("Accept", "application/json"))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Unauthorized);
    let res = app.bare.put("/any").dispatch().await;
    assert_eq!(res.into_string().await.unwrap(), "any put");
}

fn refusal(adjust: impl FnOnce(Figment) -> Figment) -> String {
    Config::from_figment(&adjust(figment("sqlite://unused.db")))
        .expect_err("refused")
        .to_string()
}

fn error_format_typo_is_refused_with_a_suggestion() {
    let e = refusal(|f| f.merge(("jwt.error_format", "flask-jwt-extnded")));
    assert!(e.contains("jwt.error_format"), "{e}");
    assert!(e.contains("did you mean `flask-jwt-extended`?"), "{e}");
    assert!(Config::from_figment(&extended(figment("sqlite://unused.db"))).is_ok());
}

fn bad_route_entries_are_refused() {
    let e = refusal(|f| {
        f.merge(("deny_by_default", true))
            .merge(("ignored_routes", json!([["FETCH", "/x"]])))
    });
    assert!(
        e.contains("ignored_routes[0]") && e.contains("`FETCH` is not an HTTP method"),
        "{e}"
    );
    let e = refusal(|f| {
        f.merge(("deny_by_default", true))
            .merge(("white_list_routes", vec![("GET", "open")]))
    });
    assert!(
        e.contains("white_list_routes[0]") && e.contains("is not a path"),
        "{e}"
    );
}
