//! `/api/v1/auth/google`: a single-page app's code, verifier and nonce.

use oauth2::PkceCodeChallenge;
use rocket::http::{ContentType, Header, Status};
use serde_json::{json, Value};

use super::provider::{Provider, REDIRECT_URI, SPA_REDIRECT_URI};
use super::spawn;
use crate::backend_tests;
use crate::common::Backend;

backend_tests!(single_page_app_code);

async fn single_page_app_code(backend: Backend) {
    let provider = Provider::start();
    let app = spawn(backend, &provider, &[("google.auto_register", json!(true))]).await;
    let client = &app.bare;
    let post = |body: Value| async move {
        client
            .post("/api/v1/auth/google")
            .header(ContentType::JSON)
            .body(body.to_string())
            .dispatch()
            .await
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let code = provider.code_for_spa(challenge.as_str(), Some("spa-nonce"));
    let res = post(json!({
        "code": code, "redirect_uri": SPA_REDIRECT_URI,
        "code_verifier": verifier.secret(), "nonce": "spa-nonce",
    }))
    .await;
    assert_eq!(res.status(), Status::Ok);
    let tokens: Value = res.into_json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    let me = app
        .bare
        .get("/api/v1/me")
        .header(Header::new(
            "Authorization",
            format!("Bearer {}", tokens["access_token"].as_str().unwrap()),
        ))
        .dispatch()
        .await;
    assert_eq!(me.status(), Status::Ok);
    let me: Value = me.into_json().await.unwrap();
    assert_eq!(me["identity"]["email"], "grace@example.com");
    assert_eq!(me["claims"]["fresh"], true);

    // A wrong verifier: the provider refuses the code.
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let (_, other_verifier) = PkceCodeChallenge::new_random_sha256();
    let code = provider.code_for_spa(challenge.as_str(), Some("n"));
    let res = post(json!({
        "code": code, "redirect_uri": SPA_REDIRECT_URI,
        "code_verifier": other_verifier.secret(), "nonce": "n",
    }))
    .await;
    assert_eq!(res.status(), Status::Unauthorized);
    let err: Value = res.into_json().await.unwrap();
    assert_eq!(err["status_code"], 401);
    assert!(err["description"].as_str().unwrap().contains("PKCE"), "{err}");

    // A wrong nonce.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let code = provider.code_for_spa(challenge.as_str(), Some("spa-nonce"));
    let res = post(json!({"code": code, "redirect_uri": SPA_REDIRECT_URI, "code_verifier": verifier.secret(), "nonce": "other"})).await;
    assert_eq!(res.status(), Status::Unauthorized);

    // A redirect_uri that is not allowed is refused before any exchange.
    let requests = provider.set(|s| s.token_requests);
    for uri in ["https://evil.example/cb", REDIRECT_URI] {
        let body = json!({"code": "x", "redirect_uri": uri, "code_verifier": "y", "nonce": "z"});
        assert_eq!(post(body).await.status(), Status::BadRequest, "{uri}");
    }
    // Every field is needed, the nonce too.
    let body = json!({"code": "x", "redirect_uri": SPA_REDIRECT_URI, "code_verifier": "y"});
    assert_eq!(post(body).await.status(), Status::UnprocessableEntity);
    assert_eq!(
        post(json!({"code": "x"})).await.status(),
        Status::UnprocessableEntity
    );
    assert_eq!(provider.set(|s| s.token_requests), requests);
}
