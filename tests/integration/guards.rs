//! Guards on an app's own routes, and an app's own catchers.

use gatehouse::domain::Role;
use gatehouse::{failure_reason, AdminUser, CurrentUser, LoginRequired};
use rocket::http::{Header, Status};
use rocket::{catch, catchers, get, routes, Request};

use crate::common::{assert_redirect_to, Backend, TestApp};

#[get("/dashboard")]
fn dashboard(user: CurrentUser) -> String {
    format!("dashboard of {}", user.user.email)
}

#[get("/members")]
fn members(_user: LoginRequired) -> &'static str {
    "members only"
}

#[get("/maybe")]
fn maybe(user: Option<CurrentUser>) -> String {
    match user {
        Some(user) => format!("hello {}", user.user.email),
        None => "hello stranger".into(),
    }
}

#[get("/admin-only")]
fn admin_only(admin: AdminUser) -> String {
    format!("admin {}", admin.user.email)
}

/// Forwarding: an anonymous visitor falls through to the public variant.
#[get("/feed")]
fn feed_private(_user: CurrentUser) -> &'static str {
    "your feed"
}

#[get("/feed", rank = 2)]
fn feed_public() -> &'static str {
    "public feed"
}

fn app_with_routes(figment: rocket::figment::Figment) -> rocket::Rocket<rocket::Build> {
    gatehouse::build(figment).mount(
        "/",
        routes![dashboard, members, maybe, admin_only, feed_private, feed_public],
    )
}

async fn spawn(backend: Backend) -> Option<TestApp> {
    TestApp::spawn_rocket(backend, app_with_routes).await
}

mod own_routes {
    use super::*;

    #[rocket::async_test]
    async fn sqlite() {
        check(spawn(Backend::Sqlite).await.unwrap()).await;
    }

    #[rocket::async_test]
    #[cfg(feature = "postgres")]
    async fn postgres() {
        if let Some(app) = spawn(Backend::Postgres).await {
            check(app).await;
        }
    }
}

async fn check(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    app.create_user("root@example.com", "Root", Role::Admin).await;

    // Anonymous.
    assert_redirect_to(&app.get("/dashboard").await, "/login?next=/dashboard");
    assert_redirect_to(&app.get("/members").await, "/login?next=/members");
    assert_redirect_to(&app.get("/admin-only").await, "/login?next=/admin-only");
    assert_eq!(
        app.get("/maybe").await.into_string().await.unwrap(),
        "hello stranger"
    );
    assert_eq!(app.get("/feed").await.into_string().await.unwrap(), "public feed");

    // A user.
    app.sign_in("ada@example.com").await;
    assert_eq!(
        app.get("/dashboard").await.into_string().await.unwrap(),
        "dashboard of ada@example.com"
    );
    assert_eq!(app.get("/members").await.status(), Status::Ok);
    assert_eq!(
        app.get("/maybe").await.into_string().await.unwrap(),
        "hello ada@example.com"
    );
    assert_eq!(app.get("/feed").await.into_string().await.unwrap(), "your feed");
    let res = app.get("/admin-only").await;
    assert_eq!(res.status(), Status::Forbidden);
    assert!(res.into_string().await.unwrap().contains("Access denied"));
    let res = app.get_json("/admin-only").await;
    assert_eq!(res.status(), Status::Forbidden);
    let body: serde_json::Value = res.into_json().await.unwrap();
    assert_eq!(body["error"], "Forbidden");
    assert_eq!(
        body["description"],
        "You do not have permission to access this resource"
    );
    assert_eq!(body["status_code"], 403);

    // An admin; demoted, they lose access on the next request.
    app.sign_in("root@example.com").await;
    assert_eq!(
        app.get("/admin-only").await.into_string().await.unwrap(),
        "admin root@example.com"
    );
    app.create_user("other-admin@example.com", "Other", Role::Admin)
        .await;
    let root = app.find_user("root@example.com").await.unwrap();
    app.state()
        .db
        .run(move |conn| gatehouse::db::user::User::set_role(conn, root.id, Role::User))
        .await
        .unwrap();
    assert_eq!(app.get("/admin-only").await.status(), Status::Forbidden);
}

/// An app built on Gatehouse answers unauthorized requests its own way,
/// reason by reason.
#[catch(401)]
fn my_unauthorized(req: &Request<'_>) -> String {
    match failure_reason(req) {
        Some(reason) => format!("custom 401: {}", reason.code()),
        None => "custom 401".into(),
    }
}

#[rocket::async_test]
async fn an_app_registers_its_own_catchers() {
    let app = TestApp::spawn_rocket(Backend::Sqlite, |figment| {
        gatehouse::stage(rocket::custom(figment))
            .mount("/", routes![dashboard])
            .register("/", catchers![my_unauthorized])
    })
    .await
    .unwrap();
    let res = app.get("/dashboard").await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(res.into_string().await.unwrap(), "custom 401: missing_token");
    let res = app
        .client
        .get("/dashboard")
        .header(Header::new("Authorization", "Bearer junk"))
        .dispatch()
        .await;
    assert_eq!(res.into_string().await.unwrap(), "custom 401: malformed_token");

    // Or keeps Gatehouse's catchers and overrides one path's.
    let app = TestApp::spawn_rocket(Backend::Sqlite, |figment| {
        gatehouse::build(figment)
            .mount("/", routes![dashboard])
            .register("/dashboard", catchers![my_unauthorized])
    })
    .await
    .unwrap();
    assert_eq!(
        app.get("/dashboard").await.into_string().await.unwrap(),
        "custom 401: missing_token"
    );
    assert_redirect_to(&app.get("/protected").await, "/login?next=/protected");
}

#[rocket::get("/unguarded")]
fn unguarded() -> &'static str {
    "anyone?"
}

#[rocket::get("/public-feed")]
fn public_feed() -> &'static str {
    "public"
}

#[rocket::post("/webhook")]
fn webhook() -> &'static str {
    "hooked"
}

mod deny_by_default {
    use super::*;

    async fn check(backend: Backend) {
        let Some(app) = TestApp::spawn_rocket(backend, |f| {
            gatehouse::build(
                f.merge(("deny_by_default", true))
                    .merge(("white_list_routes", vec![("GET", "/public-feed")]))
                    .merge(("ignored_routes", vec!["/webhook"])),
            )
            .mount("/", routes![unguarded, public_feed, webhook])
        })
        .await
        else {
            return;
        };
        app.create_user("ada@example.com", "Ada", Role::User).await;
        // A route with no guard at all is protected.
        assert_redirect_to(&app.get("/unguarded?x=1").await, "/login?next=/unguarded%3Fx%3D1");
        let res = app.get_json("/unguarded").await;
        assert_eq!(res.status(), Status::Unauthorized);
        let body: serde_json::Value = res.into_json().await.unwrap();
        assert_eq!(body["description"], "Request does not contain an access token");
        let res = app
            .bare
            .get("/unguarded")
            .header(Header::new("Authorization", "Bearer junk"))
            .header(Header::new("Accept", "application/json"))
            .dispatch()
            .await;
        let body: serde_json::Value = res.into_json().await.unwrap();
        assert_eq!(body["description"], "The token is malformed");
        // An API client without an Accept header still gets JSON on API paths.
        let res = app.bare.get("/api/v1/private").dispatch().await;
        assert_eq!(res.status(), Status::Unauthorized);
        assert_eq!(res.content_type(), Some(rocket::http::ContentType::JSON));
        // White-listed and ignored routes, and Gatehouse's own public ones.
        assert_eq!(
            app.get("/public-feed").await.into_string().await.unwrap(),
            "public"
        );
        assert_eq!(
            app.client
                .post("/webhook")
                .dispatch()
                .await
                .into_string()
                .await
                .unwrap(),
            "hooked"
        );
        assert_eq!(app.get("/login").await.status(), Status::Ok);
        assert_eq!(app.get("/static/style.css").await.status(), Status::Ok);
        // The internal route is nothing when asked for directly.
        assert_eq!(app.get("/__gatehouse/denied").await.status(), Status::NotFound);
        // Signed in, everything works.
        app.sign_in("ada@example.com").await;
        assert_eq!(
            app.get("/unguarded").await.into_string().await.unwrap(),
            "anyone?"
        );
    }

    #[rocket::async_test]
    async fn sqlite() {
        check(Backend::Sqlite).await;
    }

    #[rocket::async_test]
    #[cfg(feature = "postgres")]
    async fn postgres() {
        check(Backend::Postgres).await;
    }
}

#[rocket::post("/unguarded-write")]
fn unguarded_write() -> &'static str {
    "written"
}

/// A cookie-authenticated write to a route with no Gatehouse guard at all
/// still needs the CSRF value: it is refused before routing.
#[rocket::async_test]
async fn csrf_protects_routes_without_guards() {
    let app = TestApp::spawn_rocket(Backend::Sqlite, |f| {
        gatehouse::build(f).mount("/", routes![unguarded_write])
    })
    .await
    .unwrap();
    app.create_user("ada@example.com", "Ada", Role::User).await;
    // Anonymous: nothing to forge.
    assert_eq!(
        app.bare.post("/unguarded-write").dispatch().await.status(),
        Status::Ok
    );
    app.sign_in("ada@example.com").await;
    let res = app.client.post("/unguarded-write").dispatch().await;
    assert_eq!(res.status(), Status::Forbidden);
    assert!(res.into_string().await.unwrap().contains("This form has expired"));
    let res = app
        .client
        .post("/unguarded-write")
        .header(Header::new("Authorization", "Bearer junk"))
        .header(Header::new("Accept", "application/json"))
        .dispatch()
        .await;
    let body: serde_json::Value = res.into_json().await.unwrap();
    assert_eq!(body["description"], "CSRF double submit tokens do not match");
    let csrf = app.csrf("/").await;
    let res = app
        .client
        .post("/unguarded-write")
        .header(Header::new("X-CSRF-TOKEN", csrf))
        .dispatch()
        .await;
    assert_eq!(res.into_string().await.unwrap(), "written");
}
