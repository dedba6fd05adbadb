//! The example resource: each guard as a person and an API client meet it.

use gatehouse::domain::Role;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::Client;
use serde_json::{json, Value};

use crate::common::{assert_redirect_to, form_body, TestApp, PASSWORD};
use crate::db_tests;

db_tests!(items_over_the_api, items_in_the_browser);

async fn tokens(client: &Client, email: &str) -> (String, String) {
    let res = client
        .post("/api/v1/login")
        .header(ContentType::JSON)
        .body(json!({"email": email, "password": PASSWORD}).to_string())
        .dispatch()
        .await;
    let body: Value = res.into_json().await.unwrap();
    (
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

fn bearer(token: &str) -> Header<'static> {
    Header::new("Authorization", format!("Bearer {token}"))
}

async fn items_over_the_api(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    app.create_user("root@example.com", "Root", Role::Admin).await;
    let api = &app.bare;
    let (access, refresh) = tokens(api, "ada@example.com").await;

    // Creating needs a fresh token.
    let res = api
        .post("/api/v1/items")
        .header(ContentType::JSON)
        .header(bearer(&access))
        .body(json!({"name": "Lamp", "description": "A brass lamp"}).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Created);
    let item: Value = res.into_json().await.unwrap();
    let id = item["id"].as_i64().unwrap();
    let res = api
        .post("/api/v1/items")
        .header(ContentType::JSON)
        .header(bearer(&access))
        .body(json!({"name": "  "}).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    let res = api
        .post("/api/v1/refresh")
        .header(ContentType::JSON)
        .body(json!({"refresh_token": refresh}).to_string())
        .dispatch()
        .await;
    let renewed: Value = res.into_json().await.unwrap();
    let renewed = renewed["access_token"].as_str().unwrap();
    let res = api
        .post("/api/v1/items")
        .header(ContentType::JSON)
        .header(bearer(renewed))
        .body(json!({"name": "Rug"}).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Unauthorized);
    let body: Value = res.into_json().await.unwrap();
    assert_eq!(body["description"], "Fresh token required");

    // Listing: names for everyone, whole items for a signed-in caller.
    let anon: Value = api
        .get("/api/v1/items")
        .dispatch()
        .await
        .into_json()
        .await
        .unwrap();
    assert_eq!(anon, json!({"items": [{"id": id, "name": "Lamp"}]}));
    let full: Value = api
        .get("/api/v1/items")
        .header(bearer(renewed))
        .dispatch()
        .await
        .into_json()
        .await
        .unwrap();
    assert_eq!(full["items"][0]["description"], "A brass lamp");
    // Reading one needs sign-in.
    assert_eq!(
        api.get(format!("/api/v1/items/{id}")).dispatch().await.status(),
        Status::Unauthorized
    );
    let res = api
        .get(format!("/api/v1/items/{id}"))
        .header(bearer(renewed))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);

    // Deleting needs the admin role.
    let res = api
        .delete(format!("/api/v1/items/{id}"))
        .header(bearer(renewed))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Forbidden);
    let (admin, _) = tokens(api, "root@example.com").await;
    let res = api
        .delete(format!("/api/v1/items/{id}"))
        .header(bearer(&admin))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::NoContent);
    let res = api
        .get(format!("/api/v1/items/{id}"))
        .header(bearer(&admin))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::NotFound);
}

async fn items_in_the_browser(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    app.create_user("root@example.com", "Root", Role::Admin).await;
    app.sign_in("ada@example.com").await;
    let csrf = app.csrf("/items").await;
    let res = app
        .client
        .post("/items")
        .header(ContentType::Form)
        .body(form_body(&[
            ("name", "Lamp"),
            ("description", "Brass"),
            ("csrf_token", &csrf),
        ]))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::SeeOther);
    let location = res.headers().get_one("Location").unwrap().to_owned();
    let (status, _, page) = app.follow(res).await;
    assert_eq!(status, Status::Ok);
    assert!(page.contains("Lamp") && page.contains("Item created."));
    assert!(!page.contains("Delete this item"), "only admins may delete");
    // Bad input: the form again, the error next to its field, what was
    // typed kept, nothing created.
    let res = app
        .client
        .post("/items")
        .header(ContentType::Form)
        .body(form_body(&[
            ("csrf_token", &csrf),
            ("name", "   "),
            ("description", "A second lamp"),
        ]))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    let page = res.into_string().await.unwrap();
    assert!(page.contains(r#"aria-describedby="name-error""#), "{page}");
    assert!(page.contains(r#"<p class="field-error" id="name-error">Give the item a name.</p>"#));
    assert!(
        page.contains(r#"value="A second lamp""#),
        "the description is kept"
    );
    assert_eq!(
        app.state()
            .db
            .run(gatehouse::db::item::Item::list)
            .await
            .unwrap()
            .len(),
        1
    );
    // Without the CSRF value, nothing is created.
    let res = app
        .client
        .post("/items")
        .header(ContentType::Form)
        .body(form_body(&[("name", "Rug"), ("description", "")]))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Forbidden);
    // A user can't delete.
    let res = app
        .client
        .post(format!("{location}/delete"))
        .header(ContentType::Form)
        .body(form_body(&[("csrf_token", &csrf)]))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Forbidden);

    // Signed out, the list shows names only, and an item needs sign-in.
    let res = app
        .bare
        .get("/items")
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap();
    assert!(res.contains("Lamp") && !res.contains("Brass") && !res.contains("Rug"));
    assert_redirect_to(
        &app.bare.get(location.clone()).dispatch().await,
        &format!("/login?next={location}"),
    );

    // An admin deletes it.
    app.sign_in("root@example.com").await;
    let page = app.get(&location).await.into_string().await.unwrap();
    assert!(page.contains("Delete this item"));
    let csrf = crate::common::csrf_in(&page).unwrap();
    let res = app
        .client
        .post(format!("{location}/delete"))
        .header(ContentType::Form)
        .body(form_body(&[("csrf_token", &csrf)]))
        .dispatch()
        .await;
    assert_redirect_to(&res, "/items");
    assert_eq!(app.get(&location).await.status(), Status::NotFound);
}
