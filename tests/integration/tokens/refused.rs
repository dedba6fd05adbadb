//! Tokens refused, each with its reason: forged and tampered cookies, a
//! disabled account; and the Bearer header, working and expiring.

use gatehouse::auth::TokenType;
use gatehouse::db::user::User;
use gatehouse::domain::Role;
use gatehouse::Claims;
use rocket::http::{Cookie, Header, Status};

use super::{b64, description, signed_in_claims};
use crate::common::{assert_redirect_to, TestApp};
use crate::db_tests;

db_tests!(
    forged_cookies_are_refused,
    disabled_user_is_refused_on_next_request,
    bearer_header_works_and_expires,
);

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
