//! Two-factor sign-in in the browser: turning it on from the account (the
//! secret read off the page, a code made from it), the recovery codes, then
//! signing in with the password and a code.

use super::{sign_in, sign_in_form, sign_out};
use crate::browser::{slot, Browser, Server, PASSWORD};
use crate::browser_tests;
use crate::two_factor::code;

browser_tests!(two_factor_sign_in);

async fn two_factor_sign_in() {
    let _slot = slot().await;
    let server = Server::start(&[]).await;
    server.create_user("ada@example.com", "Ada Lovelace", false);
    let b = Browser::open().await;

    sign_in(&b, &server, "ada@example.com").await;
    b.goto(&server, "/account").await;
    b.click("a[href='/account/two-factor']").await;
    assert!(b.text().await.contains("Two-factor sign-in is off"));
    b.check_page("two-factor: off").await;
    b.click("form[action='/account/two-factor/setup'] button").await;
    let secret = b
        .find("#totp-secret")
        .await
        .text()
        .await
        .unwrap()
        .replace(' ', "");
    assert_eq!(secret.len(), 32, "the secret as text: {secret}");
    b.find(".qr-wrap svg").await;
    b.check_page("two-factor: set up").await;
    b.screenshot_tall("two-factor-setup").await;

    // A wrong code first, then the right one.
    b.fill("#code", "12345").await;
    b.click("form[action='/account/two-factor/confirm'] button").await;
    assert!(b.text().await.contains("That code is not right"));
    b.check_page("two-factor: a wrong code").await;
    b.fill("#code", &code(&secret, 0)).await;
    b.click("form[action='/account/two-factor/confirm'] button").await;
    assert!(b.text().await.contains("Two-factor sign-in is on"));
    let codes = b.find("#recovery-codes").await.text().await.unwrap();
    assert_eq!(
        codes.lines().filter(|l| l.trim().len() == 19).count(),
        10,
        "{codes}"
    );
    b.check_page("two-factor: recovery codes").await;

    // Sign out, and in again: the password, then the code.
    sign_out(&b).await;
    b.goto(&server, "/protected").await;
    sign_in_form(&b, "ada@example.com", PASSWORD).await;
    assert_eq!(b.path().await, "/login/two-factor");
    assert!(!b.text().await.contains("Signed in as"));
    assert!(b.cookie("access_token_cookie").await.is_none(), "no session yet");
    b.check_page("login: the code").await;
    b.screenshot("login-two-factor").await;
    b.fill("#code", &code(&secret, 1)).await;
    b.click("form[action='/login/two-factor'] button[type=submit]")
        .await;
    assert_eq!(b.path().await, "/protected");
    assert!(b.text().await.contains("Ada Lovelace"));
    b.close().await;
}
