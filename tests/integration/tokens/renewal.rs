//! Renewal: an expired (or nearly expired) access cookie renews from the
//! refresh cookie; two tabs within the grace window; the idle timeout.

use gatehouse::auth::TokenType;
use gatehouse::domain::Role;
use gatehouse::Claims;
use rocket::http::{Cookie, Status};

use super::{expired_access_cookie, refresh_cookie, renew_once};
use crate::common::{assert_redirect_to, TestApp};
use crate::db_tests;

db_tests!(
    expired_access_cookie_renews_from_the_refresh_cookie,
    expired_cookie_without_refresh_is_refused,
    access_cookie_near_expiry_is_renewed_early,
    concurrent_renewal_within_grace_keeps_the_session,
    idle_session_ends,
);

async fn expired_access_cookie_renews_from_the_refresh_cookie(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    app.sign_in("ada@example.com").await;
    let csrf = app.csrf("/").await;
    let refresh_before = refresh_cookie(&app).value().to_owned();
    let expired = expired_access_cookie(&app);

    // The browser sends its expired access cookie (and its refresh cookie).
    let res = app
        .client
        .get("/protected")
        .cookie(expired.clone())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok, "renewed silently");
    let renewed = res
        .cookies()
        .get("access_token_cookie")
        .unwrap()
        .value()
        .to_owned();
    assert_ne!(renewed, expired.value());
    let claims = app
        .state()
        .tokens
        .decode(&renewed, TokenType::Access)
        .unwrap()
        .claims;
    assert!(!claims.fresh, "a renewed token is not fresh");
    assert_eq!(claims.csrf, csrf, "open forms keep working");
    let refresh_after = app
        .client
        .cookies()
        .get("refresh_token_cookie")
        .unwrap()
        .value()
        .to_owned();
    assert_ne!(refresh_before, refresh_after, "the refresh token rotates");
    assert_eq!(app.get("/protected").await.status(), Status::Ok);
}

async fn expired_cookie_without_refresh_is_refused(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    app.sign_in("ada@example.com").await;
    let res = app
        .bare
        .get("/protected")
        .cookie(expired_access_cookie(&app))
        .dispatch()
        .await;
    assert_redirect_to(&res, "/login?next=/protected");
}

async fn access_cookie_near_expiry_is_renewed_early(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    app.sign_in("ada@example.com").await;
    let token = app.access_cookie().unwrap();
    let tokens = &app.state().tokens;
    let claims = tokens.decode(&token, TokenType::Access).unwrap().claims;
    let soon = Cookie::new(
        "access_token_cookie",
        tokens
            .sign(&Claims {
                exp: gatehouse::domain::now() + 30,
                ..claims
            })
            .unwrap(),
    );
    let res = app.client.get("/protected").cookie(soon.clone()).dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    let renewed = res
        .cookies()
        .get("access_token_cookie")
        .expect("renewed early")
        .value()
        .to_owned();
    assert_ne!(renewed, soon.value());
    // Without a refresh cookie it is simply used until it expires.
    let res = app.bare.get("/protected").cookie(soon).dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    assert!(res.cookies().get("access_token_cookie").is_none());
}

async fn concurrent_renewal_within_grace_keeps_the_session(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    app.sign_in("ada@example.com").await;
    let expired = expired_access_cookie(&app);
    // Tab one renews; tab two, a moment later, presents the same (now
    // replaced) refresh token.
    let presented = renew_once(&app).await;
    let res = app
        .bare
        .get("/protected")
        .cookie(expired)
        .cookie(presented)
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok, "within the grace window");
    let reissued = res
        .cookies()
        .get("refresh_token_cookie")
        .expect("the current refresh token")
        .value()
        .to_owned();
    assert_eq!(
        app.state()
            .tokens
            .decode(&reissued, TokenType::Refresh)
            .unwrap()
            .claims
            .jti,
        app.state()
            .tokens
            .decode(refresh_cookie(&app).value(), TokenType::Refresh)
            .unwrap()
            .claims
            .jti,
    );
    assert_eq!(
        app.get("/protected").await.status(),
        Status::Ok,
        "the session lives on"
    );
}

async fn idle_session_ends(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    app.sign_in("ada@example.com").await;
    let res = app
        .sign_in_form(
            "ada@example.com",
            crate::common::PASSWORD,
            &[("remember", "true")],
        )
        .await;
    assert_redirect_to(&res, "/");
    // Unused for longer than the idle timeout (7 days by default).
    app.age_sessions(8 * 24 * 3600).await;
    let res = app
        .client
        .get("/protected")
        .cookie(expired_access_cookie(&app))
        .dispatch()
        .await;
    assert_redirect_to(&res, "/login?next=/protected");
}
