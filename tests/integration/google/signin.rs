//! `/auth/google` to the callback: a new account, then the same one; linking
//! a verified email; and the refusals the settings and the account decide
//! (no account, no link, unverified email, hosted domain, disabled, rate
//! limit).

use gatehouse::db::user::User;
use gatehouse::domain::Role;
use rocket::http::{ContentType, Status};
use serde_json::json;

use super::provider::{Identity, Provider, REDIRECT_URI, SPA_REDIRECT_URI};
use super::{assert_refused, authorize, sign_in, signed_in_as, spawn, start, user_count};
use crate::backend_tests;
use crate::common::{assert_redirect_to, Backend};

backend_tests!(
    new_account_then_same_account,
    links_a_verified_email,
    no_account_or_link_unless_configured,
    unverified_email_never_links,
    hosted_domain_is_checked,
    disabled_users_are_refused,
    sign_ins_are_rate_limited,
);

async fn new_account_then_same_account(backend: Backend) {
    let provider = Provider::start();
    let app = spawn(backend, &provider, &[("google.auto_register", json!(true))]).await;
    // The login page offers the button.
    let login = app
        .get("/login?next=/protected")
        .await
        .into_string()
        .await
        .unwrap();
    assert!(login.contains("id=\"google-sign-in\""));
    assert!(login.contains("href=\"/auth/google?next=%2Fprotected\""));

    // A protected page sends the browser to sign in; Google brings it back.
    assert_redirect_to(&app.get("/protected").await, "/login?next=/protected");
    let url = start(&app, "/protected").await;
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(q["state"].len() >= 16 && q["nonce"].len() >= 16 && q["code_challenge"].len() >= 43);
    assert_eq!(q["redirect_uri"], REDIRECT_URI);
    let res = app.get(&authorize(&url).await).await;
    assert_redirect_to(&res, "/protected");
    let page = app.get("/protected").await.into_string().await.unwrap();
    assert!(
        page.contains("Grace Hopper"),
        "the protected page names the new user"
    );
    assert_eq!(signed_in_as(&app).await.as_deref(), Some("grace@example.com"));

    let user = app
        .find_user("grace@example.com")
        .await
        .expect("an account was made");
    assert_eq!(user.google_sub.as_deref(), Some("google-sub-1"));
    assert!(
        user.password_hash.is_none(),
        "a Google-only account has no password"
    );
    assert_eq!(user.role, "user");
    let kinds = app.audit_kinds().await;
    assert!(kinds.contains(&"user_created".to_owned()) && kinds.contains(&"sign_in".to_owned()));
    let account = app.get("/account").await.into_string().await.unwrap();
    assert!(account.contains("<dt>Google</dt><dd>Linked</dd>"));

    // Sign out, then in again: the same account, found by its subject even
    // if the email at Google changed.
    let out = app.sign_out().await;
    assert_eq!(out.status(), Status::SeeOther);
    assert_eq!(signed_in_as(&app).await, None);
    provider.set(|s| s.identity.email = "grace.hopper@example.com".into());
    assert_redirect_to(&sign_in(&app, "/").await, "/");
    assert_eq!(signed_in_as(&app).await.as_deref(), Some("grace@example.com"));
    assert_eq!(user_count(&app).await, 1, "one account");
}

async fn links_a_verified_email(backend: Backend) {
    let provider = Provider::start();
    let app = spawn(backend, &provider, &[("google.link_by_email", json!(true))]).await;
    let existing = app.create_user("grace@example.com", "Grace", Role::User).await;
    assert_redirect_to(&sign_in(&app, "/account").await, "/account");
    assert_eq!(signed_in_as(&app).await.as_deref(), Some("grace@example.com"));
    let user = app.find_user("grace@example.com").await.unwrap();
    assert_eq!(user.id, existing.id);
    assert_eq!(user.google_sub.as_deref(), Some("google-sub-1"));
    assert!(user.password_hash.is_some(), "the password still works too");
    assert_eq!(user_count(&app).await, 1);
    assert!(app.audit_kinds().await.contains(&"google_linked".to_owned()));

    // Another Google account with the same email can't take it over.
    provider.set(|s| s.identity = Identity::new("google-sub-2", "grace@example.com"));
    app.sign_out().await;
    assert_refused(sign_in(&app, "/").await, Status::Unauthorized, "linked_elsewhere").await;
    assert_eq!(
        app.find_user("grace@example.com")
            .await
            .unwrap()
            .google_sub
            .as_deref(),
        Some("google-sub-1")
    );

    // Never an account with two-factor sign-in on: Google isn't asked for
    // its code.
    let ada = app.create_user("ada@example.com", "Ada", Role::User).await;
    crate::two_factor::turn_on(&app, "ada@example.com").await;
    provider.set(|s| s.identity = Identity::new("google-sub-3", "ada@example.com"));
    assert_refused(sign_in(&app, "/").await, Status::Unauthorized, "link_not_allowed").await;
    let ada = app.find_user(&ada.email).await.unwrap();
    assert!(ada.google_sub.is_none(), "not linked");
}

async fn no_account_or_link_unless_configured(backend: Backend) {
    let provider = Provider::start();
    // auto_register is off by default: an unknown person gets no account.
    let app = spawn(backend, &provider, &[]).await;
    assert_refused(sign_in(&app, "/").await, Status::Forbidden, "no_account").await;
    assert_eq!(user_count(&app).await, 0, "nothing created");
    assert!(app.audit_kinds().await.contains(&"sign_in_failed".to_owned()));

    // link_by_email is off by default: an existing password account is not
    // linked (its owner links Google from the account page).
    let app = spawn(backend, &provider, &[]).await;
    app.create_user("grace@example.com", "Grace", Role::User).await;
    assert_refused(sign_in(&app, "/").await, Status::Unauthorized, "link_not_allowed").await;
    assert!(app
        .find_user("grace@example.com")
        .await
        .unwrap()
        .google_sub
        .is_none());
    assert_eq!(signed_in_as(&app).await, None);
}

async fn unverified_email_never_links(backend: Backend) {
    let provider = Provider::start();
    let app = spawn(
        backend,
        &provider,
        &[
            ("google.auto_register", json!(true)),
            ("google.link_by_email", json!(true)),
        ],
    )
    .await;
    app.create_user("grace@example.com", "Grace", Role::User).await;
    provider.set(|s| s.identity.email_verified = false);
    assert_refused(
        sign_in(&app, "/").await,
        Status::Unauthorized,
        "email_not_verified",
    )
    .await;
    assert!(app
        .find_user("grace@example.com")
        .await
        .unwrap()
        .google_sub
        .is_none());
    assert_eq!(user_count(&app).await, 1);
    // "true" as a string, as some providers send it, counts as verified.
    provider.set(|s| {
        s.identity.email_verified = true;
        s.patch.insert("email_verified".into(), json!("true"));
    });
    assert_redirect_to(&sign_in(&app, "/").await, "/");
}

async fn hosted_domain_is_checked(backend: Backend) {
    let provider = Provider::start();
    let app = spawn(
        backend,
        &provider,
        &[
            ("google.auto_register", json!(true)),
            ("google.allowed_domains", json!(["example.com"])),
        ],
    )
    .await;
    // The hint for Google's account chooser.
    let url = start(&app, "/").await;
    assert!(url.query_pairs().any(|(k, v)| k == "hd" && v == "example.com"));
    // No hd (a consumer account), and another domain, are refused.
    assert_refused(sign_in(&app, "/").await, Status::Forbidden, "domain_not_allowed").await;
    provider.set(|s| s.identity.hd = Some("evil.example".into()));
    assert_refused(sign_in(&app, "/").await, Status::Forbidden, "domain_not_allowed").await;
    assert_eq!(user_count(&app).await, 0);
    provider.set(|s| s.identity.hd = Some("Example.com".into()));
    assert_redirect_to(&sign_in(&app, "/").await, "/");
}

async fn disabled_users_are_refused(backend: Backend) {
    let provider = Provider::start();
    let app = spawn(backend, &provider, &[("google.link_by_email", json!(true))]).await;
    let user = app.create_user("grace@example.com", "Grace", Role::User).await;
    let id = user.id;
    app.state()
        .db
        .run(move |c| User::set_disabled(c, id, true))
        .await
        .unwrap();
    assert_refused(sign_in(&app, "/").await, Status::Forbidden, "account_disabled").await;
    assert!(
        app.find_user("grace@example.com")
            .await
            .unwrap()
            .google_sub
            .is_none(),
        "the refused sign-in linked nothing"
    );
    assert_eq!(signed_in_as(&app).await, None);
}

async fn sign_ins_are_rate_limited(backend: Backend) {
    let provider = Provider::start();
    let app = spawn(backend, &provider, &[("login.rate_limit_per_minute", json!(2))]).await;
    for _ in 0..2 {
        assert_refused(
            app.get("/auth/google/callback?code=x&state=y").await,
            Status::BadRequest,
            "flow_missing",
        )
        .await;
    }
    assert_refused(
        app.get("/auth/google/callback?code=x&state=y").await,
        Status::TooManyRequests,
        "rate_limited",
    )
    .await;
    // The same instance: each keeps its own per-IP counts.
    let res = app
        .client
        .post("/api/v1/auth/google")
        .header(ContentType::JSON)
        .body(
            json!({"code": "x", "redirect_uri": SPA_REDIRECT_URI, "code_verifier": "y", "nonce": "z"})
                .to_string(),
        )
        .dispatch()
        .await;
    assert_eq!(
        res.status(),
        Status::TooManyRequests,
        "{:?}",
        res.into_string().await
    );
    assert_eq!(provider.set(|s| s.token_requests), 0);
    let kinds = app.audit_kinds().await;
    let count = |kind: &str| kinds.iter().filter(|k| *k == kind).count();
    assert_eq!(count("sign_in_failed"), 2, "{kinds:?}: the two refusals");
    assert_eq!(
        count("rate_limited"),
        1,
        "{kinds:?}: the limit, recorded once a minute"
    );
}
