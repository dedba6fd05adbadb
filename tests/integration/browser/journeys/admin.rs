//! An admin finds, disables, resets, signs out and deletes users; the
//! users' open browsers feel it.

use super::{nav, sign_in, sign_in_form};
use crate::browser::{slot, Browser, Server};
use crate::browser_tests;

browser_tests!(administering_users);

async fn administering_users() {
    let _slot = slot().await;
    let server = Server::start(&[]).await;
    server.create_user("root@example.com", "Root Admin", true);
    server.create_user("bob@example.com", "Bob Builder", false);
    server.create_user("carol@example.com", "Carol Danvers", false);
    let admin = Browser::open().await;
    let bob = Browser::open().await;
    sign_in(&bob, &server, "bob@example.com").await;

    // The admin finds Bob by searching.
    sign_in(&admin, &server, "root@example.com").await;
    nav(&admin, "/admin").await;
    assert!(admin.text().await.contains("Users"));
    admin.check_page("admin dashboard").await;
    admin.screenshot_tall("admin-dashboard").await;
    admin
        .click("nav[aria-label='Admin'] a[href='/admin/users']")
        .await;
    admin.fill("#q", "bob").await;
    admin.click("form[role='search'] button[type=submit]").await;
    let list = admin.text().await;
    assert!(
        list.contains("bob@example.com") && !list.contains("carol@example.com"),
        "{list}"
    );
    admin.check_page("users").await;
    admin.screenshot("admin-users").await;
    admin.click("td a[href^='/admin/users/']").await;
    assert!(admin.text().await.contains("Bob Builder"));
    let bob_page = admin.path().await;
    admin.check_page("a user").await;
    admin.screenshot_tall("admin-user").await;

    // Disabled: Bob's open browser is sent to the login page on its next click.
    admin.click("form[action$='/status'] button").await;
    assert!(admin.text().await.contains("Disabled"));
    nav(&bob, "/protected").await;
    assert_eq!(bob.path().await, "/login?next=/protected");
    admin.click("form[action$='/status'] button").await; // enable again

    // A password reset: a temporary password, shown once; Bob must choose
    // his own before anything else.
    admin.click("form[action$='/reset-password'] button").await;
    let temporary = admin.find("#temporary-password").await.text().await.unwrap();
    let temporary = temporary.trim().to_owned();
    admin.check_page("temporary password").await;
    bob.goto(&server, "/login").await;
    sign_in_form(&bob, "bob@example.com", &temporary).await;
    nav(&bob, "/protected").await;
    assert!(
        bob.path().await.starts_with("/account"),
        "sent to choose a password: {}",
        bob.path().await
    );
    bob.fill("#current_password", &temporary).await;
    bob.fill("#new_password", "a brand new passphrase").await;
    bob.fill("#confirm_password", "a brand new passphrase").await;
    bob.click("form[action='/account/password'] button[type=submit]")
        .await;
    assert!(
        bob.text().await.contains("Your password is changed"),
        "{}",
        bob.text().await
    );
    nav(&bob, "/protected").await;
    assert_eq!(bob.path().await, "/protected");

    // Revoking his sessions sends him to the login page on his next click.
    admin.goto(&server, &bob_page).await;
    admin.click("form[action$='/sessions/revoke-all'] button").await;
    nav(&bob, "/items").await;
    assert!(bob.text().await.contains("Sign in"));
    nav(&bob, "/protected").await;
    assert_eq!(bob.path().await, "/login?next=/protected");

    // The other admin pages: a new user, and editing one.
    admin
        .click("nav[aria-label='Admin'] a[href='/admin/users/new']")
        .await;
    admin.check_page("new user").await;
    admin.goto(&server, &format!("{bob_page}/edit")).await;
    assert_eq!(admin.value("#email").await, "bob@example.com");
    admin.check_page("edit user").await;

    // Deleting Carol takes a confirmation.
    admin.goto(&server, "/admin/users?q=carol").await;
    admin.click("td a[href^='/admin/users/']").await;
    admin.click("a[href$='/delete']").await;
    assert!(admin.text().await.contains("can't be undone"));
    admin.check_page("delete confirmation").await;
    admin.click("form[action$='/delete'] button[type=submit]").await;
    admin.goto(&server, "/admin/users").await;
    assert!(!admin.text().await.contains("carol@example.com"));

    // The audit log tells the story.
    admin
        .click("nav[aria-label='Admin'] a[href='/admin/audit']")
        .await;
    let log = admin.text().await;
    assert!(
        log.contains("user disabled") && log.contains("user deleted"),
        "{log}"
    );
    admin.check_page("audit log").await;
    admin.screenshot_tall("admin-audit").await;
    // The same page on a phone: its table stacked as cards.
    admin.client.set_window_size(390, 1400).await.unwrap();
    admin.screenshot("admin-audit-phone").await;
    admin.client.set_window_size(1100, 800).await.unwrap();
    admin.goto(&server, "/admin/users").await;
    admin.screenshot_tall("admin-users").await;
    admin.close().await;
    bob.close().await;
}
