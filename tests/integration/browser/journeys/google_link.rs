//! Linking Google from the account page: the button is a form (a POST with
//! the CSRF value), and what follows it must get past Chromium's checks of
//! the CSP's `form-action 'self'` on the way to the provider.

use super::{sign_in, sign_out};
use crate::browser::{free_port, slot, Browser, Server};
use crate::browser_tests;
use crate::google::provider::{Identity, Provider, CLIENT_ID, CLIENT_SECRET};

browser_tests!(google_link);

async fn google_link() {
    let _slot = slot().await;
    let provider = Provider::start();
    let port = free_port();
    let callback = format!("http://127.0.0.1:{port}/auth/google/callback");
    provider.set(|s| {
        s.redirect_uri = callback.clone();
        // Not the account's email: linking from the account page takes any.
        s.identity = Identity::new("google-sub-ada", "ada.personal@example.com");
    });
    let server = Server::start_at(
        port,
        &[
            ("GATEHOUSE_GOOGLE__CLIENT_ID", CLIENT_ID),
            ("GATEHOUSE_GOOGLE__CLIENT_SECRET", CLIENT_SECRET),
            ("GATEHOUSE_GOOGLE__REDIRECT_URI", &callback),
            ("GATEHOUSE_GOOGLE__ISSUER", &provider.issuer),
        ],
    )
    .await;
    server.create_user("ada@example.com", "Ada", false);
    let b = Browser::open().await;

    // Signed in with a password (so the sign-in is fresh): the button, the
    // provider, and back on the account page, linked.
    sign_in(&b, &server, "ada@example.com").await;
    b.goto(&server, "/account").await;
    assert!(b.text().await.contains("Not linked"), "{}", b.text().await);
    b.click("form[action='/auth/google/link'] button[type=submit]")
        .await;
    wait_for_path(&b, "/account").await;
    let text = b.text().await;
    assert!(text.contains("Google is linked to your account."), "{text}");
    assert!(
        text.contains("Google\nLinked") || text.contains("Google Linked"),
        "{text}"
    );
    b.check_page("account, Google linked").await;
    b.screenshot("account-google-linked").await;

    // And now Google signs Ada in.
    sign_out(&b).await;
    b.goto(&server, "/login").await;
    b.click("#google-sign-in").await;
    wait_for_path(&b, "/").await;
    assert!(b.text().await.contains("Signed in as Ada"), "{}", b.text().await);
    b.close().await;
}

/// Waits (up to 15 s) for the browser to arrive at `path`, through pages
/// that navigate on their own; where it stops short (Chromium refusing a
/// navigation, say), fails with the page it stopped on.
async fn wait_for_path(b: &Browser, path: &str) {
    let began = std::time::Instant::now();
    while b.path().await != path {
        if began.elapsed() > std::time::Duration::from_secs(15) {
            let url = b.client.current_url().await.map(|u| u.to_string());
            panic!("stopped at {url:?} instead of {path}: {}", b.text().await);
        }
        rocket::tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    b.wait_new_page().await;
}
