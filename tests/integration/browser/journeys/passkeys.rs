//! Passkeys in the browser, with Chromium's virtual authenticator in place
//! of a phone: adding one on `/account/passkeys`, signing in with it
//! without an email or a password, using it in place of a two-factor code,
//! removing it. WebAuthn wants a domain name, so these servers are reached
//! as `http://localhost:PORT`.

use std::time::{Duration, Instant};

use fantoccini::Locator;

use super::{sign_in, sign_in_form, sign_out};
use crate::browser::{slot, Authenticator, Browser, Server, PASSWORD};
use crate::browser_tests;
use crate::two_factor::code;

browser_tests!(
    the_virtual_authenticator_answers,
    passkey_sign_in,
    passkey_as_second_factor
);

/// The plumbing: an authenticator added through chromedriver, WebAuthn on
/// a `localhost` page of the server, and a ceremony straight through
/// `navigator.credentials` (no passkey route of the server involved) that
/// the authenticator answers by itself, its counter going up.
async fn the_virtual_authenticator_answers() {
    let _slot = slot().await;
    let server = Server::start_localhost(&[]).await;
    let b = Browser::open().await;
    let authenticator = b.add_authenticator().await;
    b.goto(&server, "/login").await;
    assert!(server.base.starts_with("http://localhost:"));
    let defined = b
        .client
        .execute("return typeof window.PublicKeyCredential;", vec![])
        .await
        .unwrap();
    assert_eq!(defined, "function", "WebAuthn on a localhost page");
    assert!(authenticator.credentials().await.is_empty());

    let created = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             navigator.credentials.create({ publicKey: {
                 rp: { id: 'localhost', name: 'Gatehouse' },
                 user: { id: new Uint8Array([1, 2, 3, 4]), name: 'ada@example.com', displayName: 'Ada' },
                 challenge: new Uint8Array(32),
                 pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
                 authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
             } }).then(c => done(c.id), e => done('error: ' + e.name + ': ' + e.message));",
            vec![],
        )
        .await
        .unwrap();
    let created = created.as_str().unwrap().to_owned();
    assert!(!created.starts_with("error"), "create: {created}");
    let held = authenticator.credentials().await;
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].credential_id, created, "base64url ids on both sides");
    assert!(held[0].is_resident_credential, "discoverable");
    assert_eq!(held[0].rp_id.as_deref(), Some("localhost"));
    let count = held[0].sign_count;

    // A discoverable sign-in: no allowCredentials, the user handle back.
    let handle = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             navigator.credentials.get({ publicKey: {
                 challenge: new Uint8Array(32), rpId: 'localhost', userVerification: 'required',
             } }).then(c => done(Array.from(new Uint8Array(c.response.userHandle))),
                       e => done('error: ' + e.name + ': ' + e.message));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(handle, serde_json::json!([1, 2, 3, 4]), "get: {handle}");
    assert!(authenticator.credentials().await[0].sign_count > count);

    // Autofill, then none: the switch the journeys use.
    let autofill = "const done = arguments[arguments.length - 1];
        PublicKeyCredential.isConditionalMediationAvailable().then(done, () => done(null));";
    let before = b.client.execute_async(autofill, vec![]).await.unwrap();
    assert_eq!(before, true, "Chromium offers passkey autofill");
    b.without_passkey_autofill().await;
    b.goto(&server, "/login").await;
    let after = b.client.execute_async(autofill, vec![]).await.unwrap();
    assert_eq!(after, false, "no autofill after without_passkey_autofill");

    // The script is served from the site itself (the CSP allows no other).
    let script = reqwest::get(server.url("/static/passkeys.js")).await.unwrap();
    assert!(script.status().is_success());
    assert!(script.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("javascript"));
    authenticator.remove().await;
    b.close().await;
}

/// The journey of the issue: add a passkey, sign out, sign in with it on
/// the way to a protected page, remove it.
async fn passkey_sign_in() {
    let _slot = slot().await;
    let server = Server::start_localhost(&[]).await;
    server.create_user("ada@example.com", "Ada Lovelace", false);
    let b = Browser::open().await;
    let authenticator = b.add_authenticator().await;

    // From the account page to the passkeys page, and one added.
    sign_in(&b, &server, "ada@example.com").await;
    b.goto(&server, "/account").await;
    b.click("a[href='/account/passkeys']").await;
    assert_eq!(b.path().await, "/account/passkeys");
    assert!(passkeys_listed(&b).await.is_empty());
    b.check_page("passkeys: none yet").await;
    add_passkey(&b, "Laptop").await;
    let text = b.text().await;
    assert!(text.contains("Passkey “Laptop” added."), "{text}");
    let listed = passkeys_listed(&b).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(listed[0].contains("Laptop"), "{listed:?}");
    assert!(listed[0].contains("never"), "not used yet: {listed:?}");
    let held = authenticator.credentials().await;
    assert_eq!(held.len(), 1, "the authenticator holds it");
    assert!(held[0].is_resident_credential, "a discoverable credential");
    assert_eq!(held[0].rp_id.as_deref(), Some("localhost"));
    let count = held[0].sign_count;
    b.check_page("passkeys: one").await;
    b.screenshot("passkeys").await;

    // Signed out, a protected page: the sign-in page, where the browser
    // offers the passkey in the email field's autofill; the virtual
    // authenticator picks it at once, and the page asked for opens.
    sign_out(&b).await;
    b.goto(&server, "/protected").await;
    wait_path(&b, "/protected").await;
    assert!(b.text().await.contains("Ada Lovelace"));
    let count = signed(&authenticator, count).await;

    // In a browser without autofill: the sign-in page, with the button.
    sign_out(&b).await;
    b.without_passkey_autofill().await;
    b.goto(&server, "/protected").await;
    assert_eq!(b.path().await, "/login?next=/protected");
    wait_shown(&b, "#passkey-sign-in").await;
    b.check_page("login with a passkey button").await;
    b.screenshot("login-passkey").await;

    // The button alone: no email, no password; back at the page asked for.
    assert_eq!(b.value("#email").await, "");
    b.click("#passkey-sign-in").await;
    assert_eq!(b.path().await, "/protected");
    assert!(b.text().await.contains("Ada Lovelace"));
    signed(&authenticator, count).await;

    // A passkey sign-in is fresh: removing the passkey needs no password.
    b.goto(&server, "/account/passkeys").await;
    let listed = passkeys_listed(&b).await;
    assert!(!listed[0].contains("never"), "used now: {listed:?}");
    b.click("tr[data-passkey-id] form[action$='/delete'] button")
        .await;
    assert_eq!(b.path().await, "/account/passkeys");
    assert!(passkeys_listed(&b).await.is_empty());
    b.check_page("passkeys: removed").await;

    // The authenticator still holds it; the server no longer knows it.
    sign_out(&b).await;
    b.goto(&server, "/login").await;
    wait_shown(&b, "#passkey-sign-in").await;
    b.find("#passkey-sign-in").await.click().await.unwrap();
    let error = wait_shown(&b, "#passkey-error").await;
    assert!(!error.is_empty());
    assert_eq!(b.path().await, "/login");
    assert!(b.cookie("access_token_cookie").await.is_none(), "not signed in");
    b.check_page("login: a passkey refused").await;

    // Where the browser is not at the relying party's host (127.0.0.1 for
    // a server set up as localhost), the page says where passkeys work.
    let port = server.base.rsplit(':').next().unwrap();
    b.client
        .goto(&format!("http://127.0.0.1:{port}/login"))
        .await
        .unwrap();
    let elsewhere = b.find("#passkey-elsewhere a").await;
    let href = elsewhere.attr("href").await.unwrap().unwrap_or_default();
    assert_eq!(href, server.url("/login"));
    assert!(!b.find("#passkey-area").await.is_displayed().await.unwrap());
    authenticator.remove().await;
    b.close().await;
}

/// A password, then a passkey in place of the two-factor code.
async fn passkey_as_second_factor() {
    let _slot = slot().await;
    let server = Server::start_localhost(&[]).await;
    server.create_user("ada@example.com", "Ada Lovelace", false);
    let b = Browser::open().await;
    let _authenticator = b.add_authenticator().await;
    // Else the sign-in page's autofill signs in with the passkey at once.
    b.without_passkey_autofill().await;

    // Two-factor sign-in on, then a passkey.
    sign_in(&b, &server, "ada@example.com").await;
    b.goto(&server, "/account/two-factor").await;
    b.click("form[action='/account/two-factor/setup'] button").await;
    let secret = b
        .find("#totp-secret")
        .await
        .text()
        .await
        .unwrap()
        .replace(' ', "");
    b.fill("#code", &code(&secret, 0)).await;
    b.click("form[action='/account/two-factor/confirm'] button").await;
    assert!(b.text().await.contains("Two-factor sign-in is on"));
    b.goto(&server, "/account/passkeys").await;
    add_passkey(&b, "Phone").await;
    assert_eq!(passkeys_listed(&b).await.len(), 1);

    // The password, then the passkey instead of a code.
    sign_out(&b).await;
    b.goto(&server, "/protected").await;
    sign_in_form(&b, "ada@example.com", PASSWORD).await;
    assert_eq!(b.path().await, "/login/two-factor");
    assert!(b.cookie("access_token_cookie").await.is_none(), "no session yet");
    wait_shown(&b, "#passkey-second-factor").await;
    b.check_page("login: the code or a passkey").await;
    b.click("#passkey-second-factor").await;
    assert_eq!(b.path().await, "/protected");
    assert!(b.text().await.contains("Ada Lovelace"));
    b.close().await;
}

/// Adds a passkey named `name` on `/account/passkeys` (the authenticator
/// answers), and waits for the page the script goes to.
async fn add_passkey(b: &Browser, name: &str) {
    b.fill("#passkey-name", name).await;
    b.click("#passkey-add-submit").await;
    assert_eq!(b.path().await, "/account/passkeys", "{}", b.text().await);
}

/// The text of each passkey's row on `/account/passkeys`.
async fn passkeys_listed(b: &Browser) -> Vec<String> {
    let mut rows = Vec::new();
    for row in b
        .client
        .find_all(Locator::Css("tr[data-passkey-id]"))
        .await
        .unwrap()
    {
        rows.push(row.text().await.unwrap());
    }
    rows
}

/// Waits until the browser is at `path` (the script goes there after a
/// ceremony).
async fn wait_path(b: &Browser, path: &str) {
    let began = Instant::now();
    while b.path().await != path {
        assert!(
            began.elapsed() < Duration::from_secs(10),
            "not at {path} but at {}: {}",
            b.path().await,
            b.text().await
        );
        rocket::tokio::time::sleep(Duration::from_millis(50)).await;
    }
    b.find("body").await;
}

/// Asserts that the authenticator signed since its counter was `before`;
/// the counter now.
async fn signed(authenticator: &Authenticator, before: u64) -> u64 {
    let now = authenticator.credentials().await[0].sign_count;
    assert!(now > before, "the authenticator signed: {before} -> {now}");
    now
}

/// Waits until the script shows `css` (it un-hides the passkey parts once
/// it knows they work); its text.
async fn wait_shown(b: &Browser, css: &str) -> String {
    let element = b.find(css).await;
    let began = Instant::now();
    while !element.is_displayed().await.unwrap() {
        assert!(
            began.elapsed() < Duration::from_secs(10),
            "{css} is not shown on {}",
            b.path().await
        );
        rocket::tokio::time::sleep(Duration::from_millis(50)).await;
    }
    element.text().await.unwrap()
}
