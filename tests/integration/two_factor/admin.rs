//! Admins and apps: an admin's reset of a user's two-factor sign-in (page
//! and API, fresh sign-in needed, audited), `[two_factor]
//! required_for_admins`, and the `SecondFactor` guard on an app's route.

use gatehouse::domain::Role;
use gatehouse::testing;
use gatehouse::SecondFactor;
use rocket::http::{Header, Status};
use rocket::routes;
use serde_json::Value;

use super::{code, turn_on};
use crate::common::{assert_redirect_to, Backend, TestApp, PASSWORD};
use crate::{backend_tests, db_tests};

db_tests!(an_admin_resets_two_factor);
backend_tests!(required_for_admins, the_second_factor_guard);

async fn an_admin_resets_two_factor(app: TestApp) {
    let root = app.create_user("root@example.com", "Root", Role::Admin).await;
    let ada = app.create_user("ada@example.com", "Ada", Role::User).await;
    turn_on(&app, "ada@example.com").await;
    let admin = app.browser().await;
    assert_redirect_to(&admin.sign_in("root@example.com", PASSWORD).await, "/");
    let user_page = format!("/admin/users/{}", ada.id);
    let page = admin.get(&user_page).await.into_string().await.unwrap();
    assert!(page.contains("id=\"two-factor-status\">On<"), "{page}");
    assert!(page.contains("/reset-two-factor"));

    // Not with a renewed token.
    let stale = testing::sign_in_stale(app.state(), &root).await.unwrap();
    let uri = format!("/api/v1/admin/users/{}/reset-two-factor", ada.id);
    let res = app
        .bare
        .post(uri.clone())
        .header(stale.authorization())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert!(app.find_user("ada@example.com").await.unwrap().two_factor_on());
    // Not by a non-admin.
    let own = testing::sign_in(app.state(), &ada).await.unwrap();
    let res = app
        .bare
        .post(uri.clone())
        .header(own.authorization())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Forbidden);

    // The page's button (a POST with the CSRF value).
    let res = admin.post(&format!("{user_page}/reset-two-factor"), &[]).await;
    assert_redirect_to(&res, &user_page);
    assert!(!app.find_user("ada@example.com").await.unwrap().two_factor_on());
    let events = app
        .state()
        .db
        .run(|conn| gatehouse::db::audit::recent(conn, None, 100))
        .await
        .unwrap();
    let reset = events
        .iter()
        .find(|e| e.kind == "two_factor_reset")
        .expect("audited");
    assert_eq!((reset.user_id, reset.actor_id), (Some(ada.id), Some(root.id)));
    // Ada signs in with her password alone again.
    let browser = app.browser().await;
    assert_redirect_to(&browser.sign_in("ada@example.com", PASSWORD).await, "/");

    // The API, with a fresh token.
    turn_on(&app, "ada@example.com").await;
    let fresh = testing::sign_in(app.state(), &root).await.unwrap();
    let res = app
        .bare
        .get(format!("/api/v1/admin/users/{}", ada.id))
        .header(fresh.authorization())
        .dispatch()
        .await;
    assert_eq!(res.into_json::<Value>().await.unwrap()["two_factor"], true);
    let res = app
        .bare
        .post(uri.clone())
        .header(fresh.authorization())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(res.into_json::<Value>().await.unwrap()["two_factor"], false);
    // Nothing to reset: a 4xx.
    let res = app.bare.post(uri).header(fresh.authorization()).dispatch().await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
}

async fn required_for_admins(backend: Backend) {
    let app = TestApp::spawn_with(backend, |f| f.merge(("two_factor.required_for_admins", true)))
        .await
        .unwrap();
    let root = app.create_user("root@example.com", "Root", Role::Admin).await;
    app.sign_in("root@example.com").await;
    // Every admin page sends the admin to turn it on first.
    for path in ["/admin", "/admin/users", &format!("/admin/users/{}", root.id)] {
        assert_redirect_to(&app.get(path).await, "/account/two-factor");
    }
    let (_, path, page) = app.follow(app.get("/admin").await).await;
    assert_eq!(path, "/account/two-factor");
    assert!(page.contains("Turn on two-factor sign-in to continue."), "{page}");
    // The admin API says so in JSON.
    let tokens = testing::sign_in(app.state(), &root).await.unwrap();
    let res = app
        .bare
        .get("/api/v1/admin/users")
        .header(tokens.authorization())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Forbidden);
    let body: Value = res.into_json().await.unwrap();
    assert_eq!(body["description"], "Turn on two-factor sign-in first");
    // Other users' pages are not affected.
    assert_eq!(app.get("/account").await.status(), Status::Ok);

    turn_on(&app, "root@example.com").await;
    assert_eq!(app.get("/admin").await.status(), Status::Ok);
    let res = app
        .bare
        .get("/api/v1/admin/users")
        .header(tokens.authorization())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
}

#[rocket::get("/vault")]
fn vault(user: SecondFactor) -> String {
    format!("vault of {}", user.user.email)
}

async fn the_second_factor_guard(backend: Backend) {
    let app = TestApp::spawn_rocket(backend, |f| gatehouse::build(f).mount("/", routes![vault]))
        .await
        .unwrap();
    let bob = app.create_user("bob@example.com", "Bob", Role::User).await;
    app.create_user("ada@example.com", "Ada", Role::User).await;
    // Without two-factor on: a page goes to turn it on, JSON gets a 403.
    let bobs = testing::sign_in(app.state(), &bob).await.unwrap();
    let res = app.bare.get("/vault").cookies(bobs.cookies()).dispatch().await;
    assert_redirect_to(&res, "/account/two-factor");
    let res = app
        .bare
        .get("/vault")
        .header(bobs.authorization())
        .header(Header::new("Accept", "application/json"))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Forbidden);
    let body: Value = res.into_json().await.unwrap();
    assert_eq!(body["description"], "Turn on two-factor sign-in first");

    // On, but this session signed in without a code: 403.
    let (secret, _) = turn_on(&app, "ada@example.com").await;
    let ada = app.find_user("ada@example.com").await.unwrap();
    let without = testing::sign_in(app.state(), &ada).await.unwrap();
    let res = app
        .bare
        .get("/vault")
        .header(without.authorization())
        .header(Header::new("Accept", "application/json"))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Forbidden);
    let body: Value = res.into_json().await.unwrap();
    assert_eq!(
        body["description"],
        "A sign-in with a second factor (a two-factor code or a passkey) is required"
    );

    // Signed in with the code: in.
    app.sign_in_form("ada@example.com", PASSWORD, &[("next", "/vault")])
        .await;
    assert_redirect_to(&app.code_form(&code(&secret, 1)).await, "/vault");
    let res = app.get("/vault").await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(res.into_string().await.unwrap(), "vault of ada@example.com");
}
