//! MyApp's own test: its routes, guards, catcher, claims and templates, on
//! the same app `main.rs` serves, with a database of its own.

use gatehouse::domain::Role;
use gatehouse::testing;
use rocket::http::{Accept, Header, Status};
use rocket::local::asynchronous::Client;

const PASSWORD: &str = "a long enough passphrase";

async fn client(dir: &tempfile::TempDir) -> Client {
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    Client::untracked(myapp::app(testing::figment(&url)))
        .await
        .expect("the app starts")
}

async fn get(client: &Client, path: &str, auth: Option<Header<'static>>) -> (Status, String, Option<String>) {
    let mut req = client.get(path);
    if let Some(auth) = auth {
        req = req.header(auth);
    }
    let res = req.dispatch().await;
    let location = res.headers().get_one("Location").map(str::to_owned);
    (res.status(), res.into_string().await.unwrap_or_default(), location)
}

#[rocket::async_test]
async fn visitors_see_the_apps_home_page_and_are_sent_to_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let client = client(&dir).await;
    let (status, home, _) = get(&client, "/", None).await;
    assert_eq!(status, Status::Ok);
    assert!(home.contains(r#"id="myapp-home""#), "the app's own index template: {home}");
    let (status, login, _) = get(&client, "/login", None).await;
    assert_eq!(status, Status::Ok);
    assert!(login.contains(r#"action="/login""#), "Gatehouse's sign-in page");
    let (status, _, location) = get(&client, "/dashboard", None).await;
    assert_eq!(status, Status::SeeOther);
    assert_eq!(location.as_deref(), Some("/login?next=/dashboard"));
    assert_eq!(get(&client, "/maybe", None).await.1, "hello stranger");
    let (status, css, _) = get(&client, "/static/style.css", None).await;
    assert_eq!(status, Status::Ok);
    assert!(!css.is_empty());
}

#[rocket::async_test]
async fn people_get_their_pages_and_admins_the_reports() {
    let dir = tempfile::tempdir().unwrap();
    let client = client(&dir).await;
    let app = testing::state(&client);
    let ada = testing::create_named_user(app, "ada@example.com", "Ada", PASSWORD, Role::User)
        .await
        .unwrap();
    let tokens = testing::sign_in(app, &ada).await.unwrap();

    let (status, page, _) = get(&client, "/dashboard", Some(tokens.authorization())).await;
    assert_eq!(status, Status::Ok);
    assert!(page.contains("Hello, Ada"), "{page}");
    assert!(page.contains(r#"<strong id="plan">free</strong>"#), "the app's claim: {page}");
    assert_eq!(get(&client, "/members", Some(tokens.authorization())).await.1, "members only");

    // The app's own catcher answers under /reports.
    let (status, body, _) = get(&client, "/reports", Some(tokens.authorization())).await;
    assert_eq!(status, Status::Forbidden);
    assert_eq!(body, "Reports are for admins (forbidden)");

    let grace = testing::create_user(app, "grace@example.com", PASSWORD, Role::Admin)
        .await
        .unwrap();
    let admin = testing::sign_in(app, &grace).await.unwrap();
    let (status, body, _) = get(&client, "/reports", Some(admin.authorization())).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body, "reports for grace@example.com");

    // A renewed (not fresh) token can't do what needs a fresh sign-in: an
    // API client (a token header, or Accept: JSON) gets a 401, a client
    // asking for a page (Accept: text/html) the sign-in page.
    let stale = testing::sign_in_stale(app, &ada).await.unwrap();
    let res = client
        .post("/danger")
        .header(stale.authorization())
        .header(Accept::JSON)
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Unauthorized);
    let res = client.post("/danger").header(stale.authorization()).dispatch().await;
    assert_eq!(res.status(), Status::Unauthorized);
    let res = client
        .post("/danger")
        .header(stale.authorization())
        .header(Accept::HTML)
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::SeeOther);
    let res = client.post("/danger").header(tokens.authorization()).dispatch().await;
    assert_eq!(res.status(), Status::Ok);
}
