//! What an identity provider says comes in too: a look-alike email is not
//! linked to the account it imitates, and a long or dirty name is made fit.

use gatehouse::domain::Role;
use serde_json::json;

use crate::backend_tests;
use crate::common::{assert_redirect_to, Backend};
use crate::google::provider::{Identity, Provider};
use crate::google::{sign_in, spawn};

backend_tests!(
    a_look_alike_email_is_not_linked,
    a_long_provider_name_is_cut_not_refused
);

/// "\u{212A}ate@example.com" (a KELVIN SIGN, which Unicode lower-casing
/// turns into `k`) is not kate@example.com.
async fn a_look_alike_email_is_not_linked(backend: Backend) {
    let provider = Provider::start();
    let settings = [
        ("google.link_by_email", json!(true)),
        ("google.auto_register", json!(true)),
    ];
    let app = spawn(backend, &provider, &settings).await;
    let kate = app.create_user("kate@example.com", "Kate", Role::User).await;
    provider.set(|s| s.identity = Identity::new("sub-kelvin", "\u{212A}ate@example.com"));
    let _ = sign_in(&app, "/").await;
    let kate = app.find_user(&kate.email).await.unwrap();
    assert!(
        kate.google_sub.is_none(),
        "Kate's account is not linked to a look-alike"
    );
    let kinds = app.audit_kinds().await;
    assert!(!kinds.contains(&"google_linked".to_owned()), "{kinds:?}");
    // The provider's account got one of its own, under its own address.
    let other = app.find_user("\u{212A}ate@example.com").await.unwrap();
    assert_ne!(other.id, kate.id);
    assert_eq!(other.email, "\u{212A}ate@example.com");
}

async fn a_long_provider_name_is_cut_not_refused(backend: Backend) {
    let provider = Provider::start();
    let app = spawn(backend, &provider, &[("google.auto_register", json!(true))]).await;
    let name = format!("Grace\u{200B} \0Hopper {}", "x".repeat(300));
    provider.set(|s| s.identity.name = name);
    assert_redirect_to(&sign_in(&app, "/").await, "/");
    let grace = app.find_user("grace@example.com").await.unwrap();
    assert!(
        grace.name.chars().count() <= 100,
        "{} characters",
        grace.name.chars().count()
    );
    assert!(
        grace.name.starts_with("Grace Hopper xxx"),
        "cleaned: {:?}",
        grace.name
    );
}
