//! Forged, expired and revoked cookies are refused; a live session renews.

use base64::Engine;
use gatehouse::auth::{Claims, TokenType};
use gatehouse::db::user::User;
use gatehouse::domain::Role;
use rocket::http::{Cookie, Header, Status};

use crate::common::{assert_redirect_to, TestApp};
use crate::db_tests;

db_tests!(
    older_refresh_token_replayed_revokes_the_session,
    concurrent_renewal_within_grace_keeps_the_session,
    idle_session_ends,
    cookie_writes_need_csrf_on_every_route,
    forged_cookies_are_refused,
    expired_access_cookie_renews_from_the_refresh_cookie,
    expired_cookie_without_refresh_is_refused,
    no_renewal_after_sign_out,
    replayed_refresh_token_revokes_the_session,
    disabled_user_is_refused_on_next_request,
    bearer_header_works_and_expires,
);

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

async fn signed_in_claims(app: &TestApp) -> (String, Claims) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    app.sign_in("ada@example.com").await;
    let token = app.access_cookie().unwrap();
    let claims = app
        .state()
        .tokens
        .decode(&token, TokenType::Access)
        .unwrap()
        .claims;
    (token, claims)
}

async fn description(app: &TestApp, token: &str) -> String {
    let res = app.get_with_cookie("/protected", token).await;
    assert_eq!(
        res.status(),
        Status::Unauthorized,
        "token should be refused: {token}"
    );
    assert!(res
        .headers()
        .get_one("WWW-Authenticate")
        .unwrap()
        .starts_with("Bearer"));
    let body: serde_json::Value = res.into_json().await.unwrap();
    assert_eq!(body["error"], "Authorization Required");
    assert_eq!(body["status_code"], 401);
    body["description"].as_str().unwrap().to_owned()
}

async fn forged_cookies_are_refused(app: TestApp) {
    let (token, claims) = signed_in_claims(&app).await;
    assert_eq!(
        app.get_with_cookie("/protected", &token).await.status(),
        Status::Ok
    );
    let parts: Vec<&str> = token.split('.').collect();
    let now = gatehouse::domain::now();

    // Tampered payload, signature kept.
    let mut admin = serde_json::to_value(&claims).unwrap();
    admin["sub"] = "999".into();
    let tampered = format!("{}.{}.{}", parts[0], b64(admin.to_string().as_bytes()), parts[2]);
    assert_eq!(
        description(&app, &tampered).await,
        "Signature verification failed"
    );

    // alg: none, with the signature stripped.
    let none = format!("{}.{}.", b64(br#"{"alg":"none","typ":"JWT"}"#), parts[1]);
    assert_eq!(description(&app, &none).await, "The token is malformed");

    // Signed with another key.
    let other = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"another-secret-another-secret-another"),
    )
    .unwrap();
    assert_eq!(description(&app, &other).await, "Signature verification failed");

    // Wrong audience and wrong issuer, correctly signed.
    let tokens = &app.state().tokens;
    let aud = tokens
        .sign(&Claims {
            aud: "other-app".into(),
            ..claims.clone()
        })
        .unwrap();
    assert_eq!(
        description(&app, &aud).await,
        "Token has an invalid issuer, audience or claim"
    );
    let iss = tokens
        .sign(&Claims {
            iss: "other-issuer".into(),
            ..claims.clone()
        })
        .unwrap();
    assert_eq!(
        description(&app, &iss).await,
        "Token has an invalid issuer, audience or claim"
    );

    // Not yet valid.
    let future = tokens
        .sign(&Claims {
            nbf: now + 3600,
            ..claims.clone()
        })
        .unwrap();
    assert_eq!(description(&app, &future).await, "Token is not yet valid");

    // Expired (and no refresh cookie sent with it).
    let expired = tokens
        .sign(&Claims {
            exp: now - 60,
            ..claims.clone()
        })
        .unwrap();
    assert_eq!(description(&app, &expired).await, "Token has expired");

    // A refresh token where an access token is expected.
    let refresh = tokens
        .sign(&Claims {
            token_type: TokenType::Refresh,
            ..claims.clone()
        })
        .unwrap();
    assert_eq!(
        description(&app, &refresh).await,
        "Only access tokens are allowed"
    );

    // Missing iss or aud, correctly signed.
    for claim in ["iss", "aud"] {
        let mut value = serde_json::to_value(&claims).unwrap();
        value.as_object_mut().unwrap().remove(claim);
        let token = tokens.sign(&value).unwrap();
        assert_eq!(
            description(&app, &token).await,
            "Token has an invalid issuer, audience or claim",
            "missing {claim}"
        );
    }
    // A duplicated claim, correctly signed: refused, not resolved either way.
    let json = serde_json::to_string(&claims).unwrap();
    let dup = serde_json::value::RawValue::from_string(json.replacen('{', "{\"sub\":\"999\",", 1)).unwrap();
    assert_eq!(
        description(&app, &tokens.sign(&dup).unwrap()).await,
        "The token is malformed"
    );

    // Garbage and an oversized token.
    assert_eq!(description(&app, "not-a-jwt").await, "The token is malformed");
    assert_eq!(
        description(&app, &"a".repeat(100_000)).await,
        "The token is malformed"
    );

    // A browser with a bad cookie is sent to sign in, and the cookie cleared.
    let res = app
        .client
        .get("/protected")
        .cookie(Cookie::new("access_token_cookie", tampered))
        .dispatch()
        .await;
    assert_redirect_to(&res, "/login?next=/protected");
    assert_eq!(
        res.cookies()
            .get("access_token_cookie")
            .map(|c| c.value().to_owned()),
        Some(String::new())
    );
}

/// The browser's access token, re-signed as expired.
fn expired_access_cookie(app: &TestApp) -> Cookie<'static> {
    let token = app.access_cookie().unwrap();
    let tokens = &app.state().tokens;
    let claims = tokens.decode(&token, TokenType::Access).unwrap().claims;
    let expired = tokens
        .sign(&Claims {
            exp: gatehouse::domain::now() - 60,
            ..claims
        })
        .unwrap();
    Cookie::new("access_token_cookie", expired)
}

fn refresh_cookie(app: &TestApp) -> Cookie<'static> {
    let value = app
        .client
        .cookies()
        .get("refresh_token_cookie")
        .unwrap()
        .value()
        .to_owned();
    Cookie::new("refresh_token_cookie", value)
}

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

async fn disabled_user_is_refused_on_next_request(app: TestApp) {
    let user = app.create_user("ada@example.com", "Ada", Role::User).await;
    app.create_user("root@example.com", "Root", Role::Admin).await;
    app.sign_in("ada@example.com").await;
    let token = app.access_cookie().unwrap();
    assert_eq!(app.get("/protected").await.status(), Status::Ok);
    app.state()
        .db
        .run(move |conn| User::set_disabled(conn, user.id, true))
        .await
        .unwrap();
    assert_eq!(description(&app, &token).await, "The account is disabled");
    assert_redirect_to(&app.get("/protected").await, "/login?next=/protected");
}

async fn bearer_header_works_and_expires(app: TestApp) {
    let (token, claims) = signed_in_claims(&app).await;
    let expired = app
        .state()
        .tokens
        .sign(&Claims {
            exp: gatehouse::domain::now() - 60,
            ..claims
        })
        .unwrap();
    // Another instance on the same database, with no cookies: an API client.
    let api = &app.bare;
    for header in [format!("Bearer {token}"), format!("JWT {token}")] {
        let res = api
            .get("/protected")
            .header(Header::new("Authorization", header))
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::Ok);
    }
    let res = api
        .get("/protected")
        .header(Header::new("Authorization", format!("Bearer {expired}")))
        .header(Header::new("Accept", "application/json"))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Unauthorized);
    let body: serde_json::Value = res.into_json().await.unwrap();
    assert_eq!(body["description"], "Token has expired");
    let res = api
        .get("/protected")
        .header(Header::new("Accept", "application/json"))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Unauthorized);
    let body: serde_json::Value = res.into_json().await.unwrap();
    assert_eq!(body["description"], "Request does not contain an access token");
}

/// Renews once with the browser (its access cookie expired), returning the
/// refresh cookie it presented.
async fn renew_once(app: &TestApp) -> Cookie<'static> {
    let presented = refresh_cookie(app);
    let res = app
        .client
        .get("/protected")
        .cookie(expired_access_cookie(app))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    assert_ne!(refresh_cookie(app).value(), presented.value(), "rotated");
    presented
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

#[rocket::post("/notes", data = "<body>")]
fn add_note(user: gatehouse::CurrentUser, body: rocket::serde::json::Json<serde_json::Value>) -> String {
    format!("{} noted {}", user.user.email, body.0)
}

/// A route of the app's own, with no CSRF code in it, is protected too; a
/// junk `Authorization` header next to the cookie changes nothing.
async fn cookie_writes_need_csrf_on_every_route(app: TestApp) {
    let backend = app.backend;
    drop(app);
    let app = TestApp::spawn_rocket(backend, |f| {
        gatehouse::build(f).mount("/", rocket::routes![add_note])
    })
    .await
    .unwrap();
    app.create_user("ada@example.com", "Ada", Role::User).await;
    app.sign_in("ada@example.com").await;
    let csrf = app.csrf("/").await;
    let post = |headers: Vec<Header<'static>>| {
        let mut req = app
            .client
            .post("/notes")
            .header(rocket::http::ContentType::JSON)
            .body("{\"n\":1}");
        for h in headers {
            req = req.header(h);
        }
        req.dispatch()
    };
    for headers in [
        vec![],
        vec![Header::new("X-CSRF-TOKEN", "wrong")],
        vec![Header::new("Authorization", "Bearer junk")],
        vec![
            Header::new("Authorization", "Bearer junk"),
            Header::new("X-CSRF-TOKEN", ""),
        ],
    ] {
        let res = post(headers).await;
        assert_eq!(res.status(), Status::Forbidden);
        let body: serde_json::Value = res.into_json().await.unwrap();
        assert_eq!(body["description"], "CSRF double submit tokens do not match");
    }
    let res = post(vec![Header::new("X-CSRF-TOKEN", csrf.clone())]).await;
    assert_eq!(res.status(), Status::Ok);
    assert!(res
        .into_string()
        .await
        .unwrap()
        .starts_with("ada@example.com noted"));
    // An API client with a Bearer token and no cookies needs no CSRF value.
    let token = app.access_cookie().unwrap();
    let res = app
        .bare
        .post("/notes")
        .header(rocket::http::ContentType::JSON)
        .header(Header::new("Authorization", format!("Bearer {token}")))
        .body("{}")
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
}

db_tests!(access_cookie_near_expiry_is_renewed_early);

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
