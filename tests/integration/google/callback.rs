//! The callback's own checks: the state (checked, single use), the PKCE
//! verifier, the flow cookie (private, short-lived) and a local `next`.

use std::time::Duration;

use oauth2::url::Url;
use rocket::http::Status;
use serde_json::json;

use super::provider::Provider;
use super::{assert_refused, authorize, sign_in, spawn, start, user_count};
use crate::backend_tests;
use crate::common::{assert_redirect_to, Backend};

backend_tests!(
    state_is_checked_and_single_use,
    pkce_verifier_must_match,
    flow_cookie_is_private_short_lived_and_next_stays_local,
);

async fn state_is_checked_and_single_use(backend: Backend) {
    let provider = Provider::start();
    let app = spawn(backend, &provider, &[("google.auto_register", json!(true))]).await;

    // Wrong state: the code is not even exchanged.
    let callback = authorize(&start(&app, "/").await).await;
    let forged = callback.replace("state=", "state=forged");
    assert_refused(app.get(&forged).await, Status::BadRequest, "state_mismatch").await;
    // The started sign-in was used up by that attempt.
    assert_refused(app.get(&callback).await, Status::BadRequest, "flow_missing").await;

    // Missing state.
    let callback = authorize(&start(&app, "/").await).await;
    let without: String = callback
        .split(['?', '&'])
        .filter(|p| !p.starts_with("state="))
        .collect::<Vec<_>>()
        .join("&")
        .replacen('&', "?", 1);
    assert_refused(app.get(&without).await, Status::BadRequest, "state_mismatch").await;

    // Another browser (no flow cookie) can't finish this browser's sign-in.
    let callback = authorize(&start(&app, "/").await).await;
    let res = app.bare.get(callback.clone()).dispatch().await;
    assert_refused(res, Status::BadRequest, "flow_missing").await;

    // Replayed: works once, then never again.
    let callback = authorize(&start(&app, "/").await).await;
    let flow_cookie = app.client.cookies().get_private("gatehouse_oidc").unwrap();
    assert_redirect_to(&app.get(&callback).await, "/");
    assert_refused(app.get(&callback).await, Status::BadRequest, "flow_missing").await;
    // Even with the old flow cookie put back, the provider's code is spent.
    let res = app
        .bare
        .get(callback)
        .private_cookie(flow_cookie)
        .dispatch()
        .await;
    assert_refused(res, Status::Unauthorized, "code_rejected").await;
    assert_eq!(
        provider.set(|s| s.token_requests),
        2,
        "refused callbacks never reached the token endpoint"
    );

    // The provider said no (the person cancelled), for this browser's sign-in.
    let url = start(&app, "/").await;
    let state = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let res = app
        .get(&format!(
            "/auth/google/callback?error=access_denied&state={state}"
        ))
        .await;
    assert_refused(res, Status::Unauthorized, "denied").await;
}

async fn pkce_verifier_must_match(backend: Backend) {
    let provider = Provider::start();
    let app = spawn(backend, &provider, &[("google.auto_register", json!(true))]).await;
    // A code obtained for one sign-in, injected into another: the state is
    // right (it is the second sign-in's) but the verifier is not.
    let first = authorize(&start(&app, "/").await).await;
    let second = authorize(&start(&app, "/").await).await;
    let code = |cb: &str| {
        Url::parse(&format!("http://x{cb}"))
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "code")
            .unwrap()
            .1
            .into_owned()
    };
    let injected = second.replace(&code(&second), &code(&first));
    let body = assert_refused(app.get(&injected).await, Status::Unauthorized, "code_rejected").await;
    assert!(body.contains("PKCE"), "the provider's reason is shown");
    assert_eq!(user_count(&app).await, 0);
}

async fn flow_cookie_is_private_short_lived_and_next_stays_local(backend: Backend) {
    let provider = Provider::start();
    let app = spawn(
        backend,
        &provider,
        &[
            ("google.auto_register", json!(true)),
            ("google.flow_expires", json!(1)),
        ],
    )
    .await;
    let res = app.get("/auth/google?next=/items").await;
    let cookie = res
        .headers()
        .get("Set-Cookie")
        .find(|c| c.starts_with("gatehouse_oidc="))
        .unwrap()
        .to_owned();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/auth/google", "Max-Age=1"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(
        !cookie.contains("verifier") && !cookie.contains("/items"),
        "encrypted: {cookie}"
    );
    // Too slow: the started sign-in has expired.
    let callback = authorize(&Url::parse(res.headers().get_one("Location").unwrap()).unwrap()).await;
    rocket::tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_refused(app.get(&callback).await, Status::BadRequest, "flow_missing").await;

    // A hostile `next` lands on the home page; a local one is honoured.
    let app = spawn(backend, &provider, &[("google.auto_register", json!(true))]).await;
    for hostile in [
        "//evil.example",
        "/%5Cevil.example",
        "https:evil.example",
        "%2F%2Fevil.example",
    ] {
        assert_redirect_to(&sign_in(&app, hostile).await, "/");
    }
    assert_redirect_to(&sign_in(&app, "/items?x=1").await, "/items?x=1");
}
