//! ID tokens: every forgery refused (key, algorithm, claims), and the
//! provider's keys (rotation, a flood of unknown `kid`s).

use rocket::http::Status;
use serde_json::{json, Value};

use super::provider::{keys, Provider, Signing, ATTACKER, CURRENT, ROTATED};
use super::{assert_refused, sign_in, signed_in_as, spawn, user_count};
use crate::backend_tests;
use crate::common::{assert_redirect_to, Backend, TestApp};

backend_tests!(id_token_forgeries_are_refused, key_rotation_and_unknown_kid_flood);

/// Signs in with the provider doing `misbehave` first; expects a refusal.
async fn refused_with(
    app: &TestApp,
    provider: &Provider,
    misbehave: impl FnOnce(&mut super::provider::ProviderState),
) {
    provider.set(misbehave);
    assert_refused(sign_in(app, "/").await, Status::Unauthorized, "invalid_id_token").await;
    assert_eq!(signed_in_as(app).await, None);
    provider.set(|s| {
        s.patch.clear();
        s.signing = Signing::Rsa {
            key: CURRENT,
            kid: keys()[CURRENT].kid.clone(),
        };
    });
}

async fn id_token_forgeries_are_refused(backend: Backend) {
    let provider = Provider::start();
    let app = spawn(backend, &provider, &[("google.auto_register", json!(true))]).await;
    let patch = |k: &'static str, v: Value| {
        move |s: &mut super::provider::ProviderState| {
            s.patch.insert(k.into(), v);
        }
    };
    // Signed by another key posing as the provider's.
    refused_with(&app, &provider, |s| {
        s.signing = Signing::Rsa {
            key: ATTACKER,
            kid: keys()[CURRENT].kid.clone(),
        }
    })
    .await;
    refused_with(&app, &provider, |s| {
        s.signing = Signing::Rsa {
            key: ATTACKER,
            kid: "attacker".into(),
        }
    })
    .await;
    // Not RS256.
    refused_with(&app, &provider, |s| s.signing = Signing::HmacWithClientSecret).await;
    refused_with(&app, &provider, |s| s.signing = Signing::Rs384).await;
    // Claims.
    refused_with(&app, &provider, patch("nonce", json!("another-sign-in"))).await;
    refused_with(&app, &provider, patch("nonce", Value::Null)).await;
    refused_with(
        &app,
        &provider,
        patch("iss", json!("https://accounts.google.com")),
    )
    .await;
    refused_with(&app, &provider, patch("aud", json!("another-client"))).await;
    refused_with(
        &app,
        &provider,
        patch("aud", json!([super::provider::CLIENT_ID, "another-client"])),
    )
    .await;
    refused_with(&app, &provider, patch("azp", json!("another-client"))).await;
    let now = gatehouse::domain::now();
    refused_with(&app, &provider, |s| {
        s.patch.insert("exp".into(), json!(now - 3600));
        s.patch.insert("iat".into(), json!(now - 7200));
    })
    .await;
    refused_with(&app, &provider, patch("iat", json!(now + 3600))).await;
    refused_with(&app, &provider, patch("exp", Value::Null)).await;
    refused_with(&app, &provider, patch("iat", json!(now - 3600))).await;
    assert_eq!(user_count(&app).await, 0, "nothing was created by any of them");
    // And the honest token still works, with `aud` as a one-item list too.
    provider.set(|s| {
        s.patch.insert("aud".into(), json!([super::provider::CLIENT_ID]));
    });
    assert_redirect_to(&sign_in(&app, "/").await, "/");
    let failures = app
        .state()
        .db
        .run(|c| gatehouse::db::audit::recent(c, None, 100))
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.detail == "google: invalid_id_token")
        .count();
    assert_eq!(failures, 14, "each refusal is audited");
}

async fn key_rotation_and_unknown_kid_flood(backend: Backend) {
    let provider = Provider::start();
    let app = spawn(backend, &provider, &[("google.auto_register", json!(true))]).await;
    assert_redirect_to(&sign_in(&app, "/").await, "/");
    assert_eq!(provider.jwks_fetches(), 1);
    assert_redirect_to(&sign_in(&app, "/").await, "/");
    assert_eq!(provider.jwks_fetches(), 1, "the keys are cached");

    // The provider rotates: a token with the new key is accepted after one
    // refetch.
    provider.set(|s| {
        s.published = vec![CURRENT, ROTATED];
        s.signing = Signing::Rsa {
            key: ROTATED,
            kid: keys()[ROTATED].kid.clone(),
        };
    });
    assert_redirect_to(&sign_in(&app, "/").await, "/");
    assert_eq!(provider.jwks_fetches(), 2);

    // A flood of made-up kids: refused, and at most one more fetch.
    for i in 0..15 {
        provider.set(|s| {
            s.signing = Signing::Rsa {
                key: ATTACKER,
                kid: format!("made-up-{i}"),
            }
        });
        assert_refused(sign_in(&app, "/").await, Status::Unauthorized, "invalid_id_token").await;
    }
    assert!(
        provider.jwks_fetches() <= 3,
        "{} fetches",
        provider.jwks_fetches()
    );
    assert_eq!(user_count(&app).await, 1);
}
