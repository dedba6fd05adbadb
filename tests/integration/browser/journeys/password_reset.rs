//! A forgotten password: from the sign-in page to a mailed link, a new
//! password and a session, with the page check (accessibility, and a
//! 320-pixel phone width) on the new pages.

use super::sign_in_form;
use crate::browser::{slot, Browser, Server, PASSWORD};
use crate::browser_tests;

browser_tests!(forgotten_password);

async fn forgotten_password() {
    let _slot = slot().await;
    let server = Server::start(&[]).await;
    server.create_user("ada@example.com", "Ada Lovelace", false);
    let b = Browser::open().await;

    // From the sign-in page: the link, an address, "check your email".
    b.goto(&server, "/login").await;
    b.click("a#forgot-password").await;
    assert_eq!(b.path().await, "/password/forgot");
    b.check_page("forgot password").await;
    b.screenshot("password-forgot").await;
    b.fill("#email", "ada@").await;
    b.click("form[action='/password/forgot'] button[type=submit]")
        .await;
    assert!(
        b.text().await.contains("like name@example.com"),
        "{}",
        b.text().await
    );
    b.check_page("forgot password with an error").await;
    b.fill("#email", "ada@example.com").await;
    b.click("form[action='/password/forgot'] button[type=submit]")
        .await;
    assert!(b.text().await.contains("Check your email"), "{}", b.text().await);
    b.check_page("forgot password: mail sent").await;

    // The mailed link: a new password (errors next to their fields), then
    // signed in.
    b.goto(&server, &server.mailed_reset_link("ada@example.com"))
        .await;
    b.check_page("reset link").await;
    assert_eq!(b.value("#email").await, "ada@example.com");
    b.fill("#password", "a fine new passphrase").await;
    b.fill("#confirm_password", "not the same").await;
    b.click("form[action='/password/reset'] button[type=submit]")
        .await;
    assert!(b.text().await.contains("do not match"), "{}", b.text().await);
    b.check_page("reset link with errors").await;
    b.screenshot_tall("password-reset-errors").await;
    b.fill("#password", "a fine new passphrase").await;
    b.fill("#confirm_password", "a fine new passphrase").await;
    b.click("form[action='/password/reset'] button[type=submit]")
        .await;
    assert_eq!(b.path().await, "/");
    assert!(
        b.text().await.contains("Signed in as Ada Lovelace"),
        "{}",
        b.text().await
    );
    b.click("form[action='/logout'] button").await;

    // The old password is gone, the new one works.
    b.goto(&server, "/login").await;
    sign_in_form(&b, "ada@example.com", PASSWORD).await;
    assert!(b.text().await.contains("Incorrect email or password"));
    b.fill("#password", "a fine new passphrase").await;
    b.click("form[action='/login'] button[type=submit]").await;
    assert!(b.text().await.contains("Signed in as Ada Lovelace"));
    b.close().await;
}
