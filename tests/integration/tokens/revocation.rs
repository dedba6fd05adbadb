//! Revocation: nothing renews after sign-out, and a replayed refresh token
//! (stolen) revokes the whole session.

use gatehouse::domain::Role;
use rocket::http::{Cookie, Header, Status};

use super::{expired_access_cookie, refresh_cookie, renew_once};
use crate::common::{assert_redirect_to, TestApp};
use crate::db_tests;

db_tests!(
    no_renewal_after_sign_out,
    replayed_refresh_token_revokes_the_session,
    older_refresh_token_replayed_revokes_the_session,
);

async fn no_renewal_after_sign_out(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    app.sign_in("ada@example.com").await;
    let access = app.access_cookie().unwrap();
    let refresh = app
        .client
        .cookies()
        .get("refresh_token_cookie")
        .unwrap()
        .value()
        .to_owned();
    let csrf = app.csrf("/").await;
    let res = app
        .client
        .post("/logout")
        .header(rocket::http::ContentType::Form)
        .body(format!("csrf_token={csrf}"))
        .dispatch()
        .await;
    assert_redirect_to(&res, "/");
    // The old cookies, replayed after sign-out, neither work nor renew.
    let res = app
        .client
        .get("/protected")
        .cookie(Cookie::new("access_token_cookie", access))
        .cookie(Cookie::new("refresh_token_cookie", refresh.clone()))
        .dispatch()
        .await;
    assert_redirect_to(&res, "/login?next=/protected");
    assert!(res
        .cookies()
        .get("access_token_cookie")
        .is_none_or(|c| c.value().is_empty()));
    let res = app
        .client
        .get("/protected")
        .cookie(Cookie::new("refresh_token_cookie", refresh))
        .dispatch()
        .await;
    assert_redirect_to(&res, "/login?next=/protected");
}

async fn replayed_refresh_token_revokes_the_session(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    app.sign_in("ada@example.com").await;
    let first_refresh = refresh_cookie(&app);
    let res = app
        .client
        .get("/protected")
        .cookie(expired_access_cookie(&app))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok, "rotated once");
    assert_ne!(refresh_cookie(&app).value(), first_refresh.value());
    // Past the grace window, the replaced refresh token comes back (stolen).
    app.age_sessions(3600).await;
    let res = app
        .bare
        .get("/protected")
        .header(Header::new("Accept", "application/json"))
        .cookie(first_refresh)
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Unauthorized);
    let body: serde_json::Value = res.into_json().await.unwrap();
    assert_eq!(body["description"], "Token has been revoked");
    // The whole session is revoked: the legitimate browser is signed out too.
    assert_redirect_to(&app.get("/protected").await, "/login?next=/protected");
    assert!(app.audit_kinds().await.contains(&"refresh_reused".to_owned()));
}

async fn older_refresh_token_replayed_revokes_the_session(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    app.sign_in("ada@example.com").await;
    let first = renew_once(&app).await;
    renew_once(&app).await;
    // Two rotations later, the first refresh token comes back.
    let res = app.bare.get("/protected").cookie(first).dispatch().await;
    assert_redirect_to(&res, "/login?next=/protected");
    assert_redirect_to(&app.get("/protected").await, "/login?next=/protected");
    assert!(app.audit_kinds().await.contains(&"refresh_reused".to_owned()));
}
