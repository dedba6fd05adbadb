//! Google sign-in and two-factor: no code is asked (the provider's own
//! factors apply), and the session's `amr` says `google`.

use serde_json::json;

use super::provider::Provider;
use super::{sign_in, spawn};
use crate::backend_tests;
use crate::common::{assert_redirect_to, Backend};
use crate::two_factor::turn_on;

backend_tests!(google_is_not_asked_for_the_code);

async fn google_is_not_asked_for_the_code(backend: Backend) {
    let provider = Provider::start();
    let app = spawn(backend, &provider, &[("google.auto_register", json!(true))]).await;
    assert_redirect_to(&sign_in(&app, "/protected").await, "/protected");
    assert_eq!(app.claims().await["amr"], json!(["google"]));

    // With two-factor on, Google still signs in at once.
    turn_on(&app, "grace@example.com").await;
    app.sign_out().await;
    assert_redirect_to(&sign_in(&app, "/protected").await, "/protected");
    let claims = app.claims().await;
    assert_eq!(claims["amr"], json!(["google"]));
    assert_eq!(claims["fresh"], true);
}
