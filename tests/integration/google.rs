//! Sign in with Google, against the loopback OpenID Connect provider in
//! `oidc_provider.rs`: the whole browser flow through Gatehouse's routes,
//! the single-page app's API, and every way an ID token or a callback can be
//! wrong.

use std::time::{Duration, Instant};

use gatehouse::db::user::User;
use gatehouse::domain::Role;
use oauth2::url::Url;
use oauth2::PkceCodeChallenge;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::LocalResponse;
use serde_json::{json, Value};

use crate::common::{assert_redirect_to, Backend, TestApp};
use crate::oidc_provider::{
    keys, Identity, Provider, Signing, ATTACKER, CURRENT, REDIRECT_URI, ROTATED, SPA_REDIRECT_URI,
};

/// Runs each `async fn name(backend: Backend)` once per backend.
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[rocket::async_test]
                async fn sqlite() {
                    super::$name($crate::common::Backend::Sqlite).await;
                }

                #[rocket::async_test]
                async fn postgres() {
                    if std::env::var("TEST_DATABASE_URL").is_ok() {
                        super::$name($crate::common::Backend::Postgres).await;
                    }
                }
            }
        )*
    };
}

/// The app with the provider configured, plus `extra` settings.
async fn spawn(backend: Backend, provider: &Provider, extra: &[(&str, Value)]) -> TestApp {
    let extra: Vec<(String, Value)> = extra.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    TestApp::spawn_with(backend, move |f| {
        extra.iter().fold(provider.configure(f), |f, (k, v)| {
            f.merge((k.as_str(), v.clone()))
        })
    })
    .await
    .expect("the app starts")
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Clicks "Sign in with Google": the provider URL Gatehouse sends the
/// browser to.
async fn start(app: &TestApp, next: &str) -> Url {
    let res = app.get(&format!("/auth/google?next={next}")).await;
    assert_eq!(res.status(), Status::SeeOther, "the sign-in starts");
    Url::parse(res.headers().get_one("Location").unwrap()).unwrap()
}

/// The browser at the provider: it signs in and is sent back; returns the
/// callback's path and query on Gatehouse.
async fn authorize(url: &Url) -> String {
    let res = http().get(url.clone()).send().await.unwrap();
    assert_eq!(
        res.status().as_u16(),
        302,
        "the provider accepts the request: {url}"
    );
    let back = res.headers()["location"].to_str().unwrap().to_owned();
    let back = back
        .strip_prefix("http://localhost:8000")
        .expect("sent back to the configured redirect_uri");
    back.to_owned()
}

/// The whole browser flow; returns Gatehouse's answer to the callback.
async fn sign_in<'a>(app: &'a TestApp, next: &str) -> LocalResponse<'a> {
    let url = start(app, next).await;
    let callback = authorize(&url).await;
    app.get(&callback).await
}

/// A refusal: the friendly page, with its status and error code.
async fn assert_refused(res: LocalResponse<'_>, status: Status, code: &str) -> String {
    assert_eq!(res.status(), status, "refused with {code}");
    let body = res.into_string().await.unwrap();
    assert!(
        body.contains(&format!("data-code=\"{code}\"")),
        "expected {code} in:\n{body}"
    );
    assert!(body.contains("href=\"/login"), "a way back");
    body
}

async fn user_count(app: &TestApp) -> usize {
    app.state().db.run(User::list).await.unwrap().len()
}

async fn signed_in_as(app: &TestApp) -> Option<String> {
    let res = app.get_json("/api/v1/me").await;
    if res.status() != Status::Ok {
        return None;
    }
    let me: Value = res.into_json().await.unwrap();
    assert_eq!(me["claims"]["fresh"], json!(true), "a Google sign-in is fresh");
    me["identity"]["email"].as_str().map(str::to_owned)
}

backend_tests!(
    new_account_then_same_account,
    links_a_verified_email,
    no_account_or_link_unless_configured,
    state_is_checked_and_single_use,
    pkce_verifier_must_match,
    id_token_forgeries_are_refused,
    unverified_email_never_links,
    hosted_domain_is_checked,
    disabled_users_are_refused,
    key_rotation_and_unknown_kid_flood,
    single_page_app_code,
    flow_cookie_is_private_short_lived_and_next_stays_local,
    linking_from_the_account_page,
    discovery_is_checked,
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

async fn linking_from_the_account_page(backend: Backend) {
    let provider = Provider::start();
    let app = spawn(backend, &provider, &[]).await;
    app.create_user("ada@example.com", "Ada", Role::Admin).await;
    // Signed out: nothing to link to.
    let res = app.client.post("/auth/google/link").dispatch().await;
    assert_eq!(res.status(), Status::SeeOther);
    assert!(res.headers().get_one("Location").unwrap().starts_with("/login"));

    // Signed in (fresh, with a password): the button, the provider, and back
    // on the account page, linked, whatever email Google has.
    app.sign_in("ada@example.com").await;
    let account = app.get("/account").await.into_string().await.unwrap();
    assert!(account.contains("action=\"/auth/google/link\""), "a link button");
    let csrf = crate::common::csrf_in(&account).unwrap();
    let res = app
        .client
        .post("/auth/google/link")
        .header(ContentType::Form)
        .body(format!("csrf_token={csrf}"))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::SeeOther);
    let url = Url::parse(res.headers().get_one("Location").unwrap()).unwrap();
    let res = app.get(&authorize(&url).await).await;
    assert_redirect_to(&res, "/account");
    let account = app.get("/account").await.into_string().await.unwrap();
    assert!(account.contains("Google is linked"));
    let ada = app.find_user("ada@example.com").await.unwrap();
    assert_eq!(ada.google_sub.as_deref(), Some("google-sub-1"));
    // An admin sees it on the user's page (Ada is an admin: her own page).
    let admin_view = app
        .get(&format!("/admin/users/{}", ada.id))
        .await
        .into_string()
        .await
        .unwrap();
    assert!(
        admin_view.contains("<dt>Google</dt><dd>Linked</dd>"),
        "{admin_view}"
    );
    // And now Google signs her in (an admin, linked by her own hand).
    app.sign_out().await;
    assert_redirect_to(&sign_in(&app, "/").await, "/");
    assert_eq!(signed_in_as(&app).await.as_deref(), Some("ada@example.com"));

    // A Google account already linked elsewhere can't be linked again.
    app.create_user("bob@example.com", "Bob", Role::User).await;
    app.sign_out().await;
    app.sign_in("bob@example.com").await;
    let res = app
        .client
        .post("/auth/google/link")
        .header(Header::new("X-CSRF-TOKEN", app.csrf_cookie()))
        .dispatch()
        .await;
    let url = Url::parse(res.headers().get_one("Location").unwrap()).unwrap();
    assert_refused(
        app.get(&authorize(&url).await).await,
        Status::Unauthorized,
        "subject_taken",
    )
    .await;
    assert!(app
        .find_user("bob@example.com")
        .await
        .unwrap()
        .google_sub
        .is_none());
}

async fn discovery_is_checked(backend: Backend) {
    // A discovery document naming another issuer.
    let provider = Provider::start();
    provider.set(|s| s.discovery_issuer = Some("https://accounts.google.com".into()));
    let app = spawn(backend, &provider, &[]).await;
    let body = assert_refused(
        app.get("/auth/google").await,
        Status::BadGateway,
        "provider_unreachable",
    )
    .await;
    assert!(
        !body.contains("accounts.google.com"),
        "details are logged, not shown"
    );
    // A redirect is not followed.
    let provider = Provider::start();
    provider.set(|s| s.redirect_discovery = true);
    let app = spawn(backend, &provider, &[]).await;
    assert_refused(
        app.get("/auth/google").await,
        Status::BadGateway,
        "provider_unreachable",
    )
    .await;
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

/// Signs in with the provider doing `misbehave` first; expects a refusal.
async fn refused_with(
    app: &TestApp,
    provider: &Provider,
    misbehave: impl FnOnce(&mut crate::oidc_provider::ProviderState),
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
        move |s: &mut crate::oidc_provider::ProviderState| {
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
        patch("aud", json!([crate::oidc_provider::CLIENT_ID, "another-client"])),
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
        s.patch
            .insert("aud".into(), json!([crate::oidc_provider::CLIENT_ID]));
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

#[rocket::async_test]
async fn a_provider_that_never_answers_fails_in_bounded_time() {
    let silent = crate::oidc_provider::silent_server();
    let app = TestApp::spawn_with(Backend::Sqlite, |f| {
        Provider {
            issuer: silent.clone(),
            state: Provider::start().state,
        }
        .configure(f)
        .merge(("google.timeout", 2))
    })
    .await
    .unwrap();
    let began = Instant::now();
    let (slow, health_done) = rocket::tokio::join!(
        async {
            let res = app.get("/auth/google").await;
            (res.status(), res.into_string().await.unwrap(), Instant::now())
        },
        async {
            rocket::tokio::time::sleep(Duration::from_millis(200)).await;
            assert_eq!(app.bare.get("/health").dispatch().await.status(), Status::Ok);
            Instant::now()
        }
    );
    let (status, body, slow_done) = slow;
    assert_eq!(status, Status::BadGateway);
    assert!(body.contains("data-code=\"provider_timeout\""), "{body}");
    assert!(body.contains("did not answer in time"), "{body}");
    assert!(
        began.elapsed() < Duration::from_secs(8),
        "bounded by the 2-second timeout"
    );
    // Meanwhile, the next sign-in fails at once rather than waiting again.
    let again = Instant::now();
    assert_eq!(app.get("/auth/google").await.status(), Status::BadGateway);
    assert!(
        again.elapsed() < Duration::from_millis(1900),
        "the failure is remembered for a few seconds"
    );
    assert!(health_done < slow_done, "other requests are served meanwhile");
}

#[rocket::async_test]
async fn configuration_is_checked_at_launch() {
    // No provider: no button, and the routes say so.
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let login = app.get("/login").await.into_string().await.unwrap();
    assert!(!login.contains("google-sign-in"));
    assert_eq!(app.get("/auth/google").await.status(), Status::BadRequest);
    drop(app);
    // Half configured: the launch stops, naming the missing key.
    let (_db, url) = crate::common::TestDb::new(Backend::Sqlite).unwrap();
    let half = crate::common::figment(&url).merge(("google.client_id", "only-the-id"));
    let err = gatehouse::config::Config::from_figment(&half).unwrap_err();
    assert_eq!(err.key, "google.client_secret");
    assert!(
        err.to_string().contains("GATEHOUSE_GOOGLE__CLIENT_SECRET"),
        "{err}"
    );
    match rocket::local::asynchronous::Client::untracked(gatehouse::build(half)).await {
        Ok(_) => panic!("a half-configured provider must stop the launch"),
        Err(e) => assert!(
            matches!(e.kind(), rocket::error::ErrorKind::FailedFairings(_)),
            "{e}"
        ),
    }
    let plain_http = crate::common::figment(&url)
        .merge(("google.client_id", "id"))
        .merge(("google.client_secret", "secret"))
        .merge(("google.redirect_uri", REDIRECT_URI))
        .merge(("google.issuer", "http://accounts.example.com"));
    assert_eq!(
        gatehouse::config::Config::from_figment(&plain_http)
            .unwrap_err()
            .key,
        "google.issuer",
        "plain http off loopback"
    );
    let with_registration = crate::common::figment(&url)
        .merge(("google.client_id", "id"))
        .merge(("google.client_secret", "secret"))
        .merge(("google.redirect_uri", REDIRECT_URI))
        .merge(("google.link_by_email", true))
        .merge(("registration", true));
    assert_eq!(
        gatehouse::config::Config::from_figment(&with_registration)
            .unwrap_err()
            .key,
        "google.link_by_email",
        "linking by email with self-registered accounts"
    );
}
