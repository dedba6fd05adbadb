//! JWT settings an API client meets: token locations and their order,
//! required claims, CSRF methods.

use gatehouse::domain::Role;
use gatehouse::{AdditionalClaims, JsonAuth};
use rocket::http::{Header, Status};
use rocket::local::asynchronous::Client;
use serde_json::json;

use super::{api_login, get_bearer, json_of, post_json};
use crate::common::TestApp;
use crate::db_tests;
use crate::tests;

db_tests!(token_locations_in_order);

tests!(required_claims_and_csrf_methods_are_configurable);

#[derive(serde::Deserialize)]
struct Note {
    text: String,
}

#[rocket::post("/note", data = "<note>")]
fn note(note: JsonAuth<Note>) -> String {
    format!("{}: {}", note.user.user.email, note.body.text)
}

async fn token_locations_in_order(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let (access, _) = api_login(&app.bare, "ada@example.com").await;
    // The query string is off by default.
    let res = app
        .bare
        .get(format!("/api/v1/private?auth={access}"))
        .dispatch()
        .await;
    assert_eq!(
        json_of(res).await["description"],
        "Request does not contain an access token"
    );
    // A header of the wrong form is malformed, not missing.
    let res = app
        .bare
        .get("/api/v1/private")
        .header(Header::new("Authorization", format!("Token {access}")))
        .dispatch()
        .await;
    assert_eq!(json_of(res).await["description"], "The token is malformed");

    let url = app.url.clone();
    let with = |locations: Vec<&'static str>| {
        let url = url.clone();
        async move {
            Client::untracked(
                gatehouse::build(crate::common::figment(&url).merge(("jwt.token_location", locations)))
                    .mount("/", rocket::routes![note]),
            )
            .await
            .unwrap()
        }
    };
    // Query string and JSON body, when configured.
    let client = with(vec!["query_string", "json"]).await;
    let res = client
        .get(format!("/api/v1/private?auth={access}"))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    let res = post_json(
        &client,
        "/note",
        json!({"access_token": access, "text": "hi"}),
        None,
    )
    .await;
    assert_eq!(res.status(), Status::Ok, "JSON body token");
    assert_eq!(res.into_string().await.unwrap(), "ada@example.com: hi");
    let res = post_json(
        &client,
        "/note",
        json!({"access_token": "junk", "text": "hi"}),
        None,
    )
    .await;
    assert_eq!(res.status(), Status::Unauthorized);
    // Headers are not a location there.
    let res = get_bearer(&client, "/api/v1/private", &access).await;
    assert_eq!(res.status(), Status::Unauthorized);

    // The first location holding a token decides: a bad query token is
    // reported as bad even though a good header follows.
    let client = with(vec!["query_string", "headers"]).await;
    let res = client
        .get("/api/v1/private?auth=junk")
        .header(Header::new("Authorization", format!("Bearer {access}")))
        .dispatch()
        .await;
    assert_eq!(json_of(res).await["description"], "The token is malformed");
    let res = get_bearer(&client, "/api/v1/private", &access).await;
    assert_eq!(res.status(), Status::Ok);

    // Cookies and headers: by default cookies come first, so a junk header
    // beside a good cookie is not even read; the other way round it is.
    app.sign_in("ada@example.com").await;
    let junk_header = || Header::new("Authorization", "Bearer junk");
    let res = app
        .client
        .get("/api/v1/private")
        .header(junk_header())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok, "cookies first");
    let headers_first = TestApp::spawn_rocket(app.backend, |f| {
        gatehouse::build(f.merge(("jwt.token_location", vec!["headers", "cookies"])))
    })
    .await
    .unwrap();
    headers_first
        .create_user("ada@example.com", "Ada", Role::User)
        .await;
    headers_first.sign_in("ada@example.com").await;
    let res = headers_first
        .client
        .get("/api/v1/private")
        .header(junk_header())
        .dispatch()
        .await;
    assert_eq!(
        json_of(res).await["description"],
        "The token is malformed",
        "headers first"
    );
    let res = headers_first.client.get("/api/v1/private").dispatch().await;
    assert_eq!(res.status(), Status::Ok, "then cookies");
}

async fn required_claims_and_csrf_methods_are_configurable() {
    use crate::common::Backend;
    // A claim the app requires but no hook adds: tokens are refused.
    let app = TestApp::spawn_rocket(Backend::Sqlite, |f| {
        gatehouse::build(f.merge(("jwt.required_claims", vec!["tenant"])))
    })
    .await
    .unwrap();
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let (access, _) = api_login(&app.bare, "ada@example.com").await;
    let res = get_bearer(&app.bare, "/api/v1/me", &access).await;
    assert_eq!(
        json_of(res).await["description"],
        "Token has an invalid issuer, audience or claim"
    );
    // With the hook adding it, they pass.
    let app = TestApp::spawn_rocket(Backend::Sqlite, |f| {
        gatehouse::build(f.merge(("jwt.required_claims", vec!["tenant"]))).manage(AdditionalClaims::new(
            |_| {
                let mut m = serde_json::Map::new();
                m.insert("tenant".into(), "acme".into());
                m
            },
        ))
    })
    .await
    .unwrap();
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let (access, _) = api_login(&app.bare, "ada@example.com").await;
    let me = json_of(get_bearer(&app.bare, "/api/v1/me", &access).await).await;
    assert_eq!(me["claims"]["tenant"], "acme");

    // CSRF only on the configured methods.
    let app = TestApp::spawn_rocket(Backend::Sqlite, |f| {
        gatehouse::build(f.merge(("jwt.csrf_methods", vec!["DELETE"])))
    })
    .await
    .unwrap();
    app.create_user("ada@example.com", "Ada", Role::User).await;
    app.sign_in("ada@example.com").await;
    let res = app.client.post("/api/v1/logout").dispatch().await;
    assert_eq!(res.status(), Status::Ok, "POST is not a CSRF method here");
}
