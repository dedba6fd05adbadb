//! The four things people use Gatehouse for, as a person does them in a
//! browser, with an accessibility check of every page on the way.

use std::time::Duration;

use fantoccini::key::Key;
use serde_json::Value;

use super::{available, slot, Browser, Server, PASSWORD};
use crate::oidc_provider::{Identity, Provider, CLIENT_ID, CLIENT_SECRET};

/// Signs in through the form on the current login page.
async fn sign_in_form(b: &Browser, email: &str, password: &str) {
    b.fill("#email", email).await;
    b.fill("#password", password).await;
    b.click("form[action='/login'] button[type=submit]").await;
}

async fn sign_in(b: &Browser, server: &Server, email: &str) {
    b.goto(server, "/login").await;
    sign_in_form(b, email, PASSWORD).await;
    assert!(b.text().await.contains("Signed in as"), "signed in as {email}");
}

async fn sign_out(b: &Browser) {
    b.click("form[action='/logout'] button").await;
}

/// A link in the main navigation, as a person clicks it.
async fn nav(b: &Browser, href: &str) {
    b.click(&format!("nav a[href='{href}']")).await;
}

#[rocket::async_test]
async fn form_sign_in() {
    if !available() {
        return;
    }
    let _slot = slot().await;
    let server = Server::start(&[("GATEHOUSE_REGISTRATION", "true")]).await;
    server.create_user("ada@example.com", "Ada Lovelace", false);
    let b = Browser::open().await;

    // Someone new registers: an email, a mailed link, then a name and a
    // password (errors next to their fields), an account and a session.
    b.goto(&server, "/login").await;
    b.click("a[href^='/register']").await;
    b.check_a11y("register").await;
    b.fill("#email", "newcomer@").await;
    b.click("form[action='/register'] button[type=submit]").await;
    assert!(
        b.text().await.contains("like name@example.com"),
        "{}",
        b.text().await
    );
    assert_eq!(b.value("#email").await, "newcomer@", "kept");
    b.fill("#email", "newcomer@example.com").await;
    b.click("form[action='/register'] button[type=submit]").await;
    assert!(b.text().await.contains("Check your email"), "{}", b.text().await);
    b.check_a11y("register: mail sent").await;
    b.screenshot("register-sent").await;
    b.goto(&server, &server.mailed_link("newcomer@example.com")).await;
    b.check_a11y("register: the link").await;
    assert_eq!(b.value("#email").await, "newcomer@example.com");
    b.fill("#name", "New Comer").await;
    b.fill("#password", "a fine long passphrase").await;
    b.fill("#confirm_password", "not the same").await;
    b.click("form[action='/register/confirm'] button[type=submit]")
        .await;
    assert!(b.text().await.contains("do not match"), "{}", b.text().await);
    assert_eq!(b.value("#name").await, "New Comer", "kept");
    b.check_a11y("register with errors").await;
    b.screenshot_tall("register-errors").await;
    b.fill("#password", "a fine long passphrase").await;
    b.fill("#confirm_password", "a fine long passphrase").await;
    b.click("form[action='/register/confirm'] button[type=submit]")
        .await;
    assert!(b.text().await.contains("Signed in as New Comer"));
    sign_out(&b).await;

    // Home, then a protected page: the login page, which will come back.
    b.goto(&server, "/").await;
    b.check_a11y("home").await;
    b.goto(&server, "/protected").await;
    assert_eq!(b.path().await, "/login?next=/protected");
    b.check_a11y("login").await;
    b.screenshot("login").await;

    // A wrong password: the error, next to the form, with the email kept.
    sign_in_form(&b, "ada@example.com", "not the password").await;
    assert!(b.text().await.contains("Incorrect email or password"));
    assert_eq!(b.value("#email").await, "ada@example.com");
    assert_eq!(b.value("#password").await, "", "the password is never sent back");
    b.check_a11y("login with an error").await;
    b.screenshot("login-error").await;

    // The right one: back at the page asked for, which names the person.
    b.fill("#password", PASSWORD).await;
    b.click("form[action='/login'] button[type=submit]").await;
    assert_eq!(b.path().await, "/protected");
    assert!(b.text().await.contains("Ada Lovelace"));
    b.check_a11y("protected").await;
    b.screenshot("protected").await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.screenshot("protected-phone").await;
    b.check_a11y("protected at phone width").await;
    b.client.set_window_size(1100, 800).await.unwrap();

    // Sign out; the back button does not bring the protected page back.
    sign_out(&b).await;
    assert_eq!(b.path().await, "/");
    assert!(b.text().await.contains("You are signed out."));
    b.client
        .execute("window.__gh_old = true; return 1;", vec![])
        .await
        .unwrap();
    b.client.back().await.unwrap();
    b.wait_new_page().await;
    assert!(
        !b.text().await.contains("Ada Lovelace"),
        "no protected content after going back"
    );
    assert_eq!(b.path().await, "/login?next=/protected");

    // Keyboard only: the email field has the focus, Tab moves on (with a
    // visible focus ring), Enter submits.
    b.goto(&server, "/login").await;
    let active = b.client.active_element().await.unwrap();
    assert_eq!(active.attr("id").await.unwrap().as_deref(), Some("email"));
    active
        .send_keys(&format!("ada@example.com{}", char::from(Key::Tab)))
        .await
        .unwrap();
    let focused = b.client.active_element().await.unwrap();
    assert_eq!(focused.attr("id").await.unwrap().as_deref(), Some("password"));
    let ring: Value = b
        .client
        .execute(
            "const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth];",
            vec![],
        )
        .await
        .unwrap();
    assert_ne!(ring[0], "none", "a visible focus style: {ring}");
    b.client
        .execute("window.__gh_old = true; return 1;", vec![])
        .await
        .unwrap();
    focused
        .send_keys(&format!("{PASSWORD}{}", char::from(Key::Enter)))
        .await
        .unwrap();
    b.wait_new_page().await;
    assert_eq!(b.path().await, "/");
    assert!(b.text().await.contains("Signed in as Ada Lovelace"));

    // The error pages are pages of the site too.
    b.goto(&server, "/no/such/page").await;
    assert!(b.text().await.contains("Page not found"));
    b.check_a11y("404").await;
    b.goto(&server, "/admin").await;
    assert!(b.text().await.contains("Access denied"));
    b.check_a11y("403").await;
    b.close().await;
}

#[rocket::async_test]
async fn google_sign_in() {
    if !available() {
        return;
    }
    let _slot = slot().await;
    let provider = Provider::start();
    let port = super::free_port();
    let callback = format!("http://127.0.0.1:{port}/auth/google/callback");
    provider.set(|s| s.redirect_uri = callback.clone());
    let server = Server::start_at(
        port,
        &[
            ("GATEHOUSE_GOOGLE__CLIENT_ID", CLIENT_ID),
            ("GATEHOUSE_GOOGLE__CLIENT_SECRET", CLIENT_SECRET),
            ("GATEHOUSE_GOOGLE__REDIRECT_URI", &callback),
            ("GATEHOUSE_GOOGLE__ISSUER", &provider.issuer),
            ("GATEHOUSE_GOOGLE__AUTO_REGISTER", "true"),
            ("GATEHOUSE_GOOGLE__LINK_BY_EMAIL", "true"),
        ],
    )
    .await;
    server.create_user("linus@example.com", "Linus", false);
    let b = Browser::open().await;

    // A new person: the button, the provider, and back on the page asked
    // for with a new account.
    b.goto(&server, "/protected").await;
    b.screenshot("login-with-google").await;
    b.click("#google-sign-in").await;
    assert_eq!(b.path().await, "/protected");
    assert!(b.text().await.contains("Grace Hopper"), "{}", b.text().await);
    b.goto(&server, "/account").await;
    assert!(b.text().await.contains("Google\nLinked") || b.text().await.contains("Google Linked"));
    b.check_a11y("account").await;
    b.screenshot("account").await;
    sign_out(&b).await;

    // Someone with a password account: their verified Google email links it.
    provider.set(|s| s.identity = Identity::new("google-sub-linus", "linus@example.com"));
    b.goto(&server, "/login").await;
    b.click("#google-sign-in").await;
    assert_eq!(b.path().await, "/");
    assert!(b.text().await.contains("Signed in as Linus"));
    sign_out(&b).await;

    // A refusal is a page that says what went wrong, with a way back.
    provider.set(|s| {
        s.identity = Identity {
            email_verified: false,
            ..Identity::new("someone-new", "new@example.com")
        }
    });
    b.goto(&server, "/login").await;
    b.click("#google-sign-in").await;
    assert!(b.text().await.contains("not verified"), "{}", b.text().await);
    b.check_a11y("Google sign-in refused").await;
    b.screenshot("google-refused").await;
    b.click("a[href^='/login']").await;
    assert_eq!(b.path().await, "/login");
    b.close().await;
}

#[rocket::async_test]
async fn protected_pages_and_items() {
    if !available() {
        return;
    }
    let _slot = slot().await;
    // Short-lived access tokens, so a renewal happens during the test.
    let server = Server::start(&[
        ("GATEHOUSE_JWT__ACCESS_TOKEN_EXPIRES", "6"),
        ("GATEHOUSE_JWT__RENEW_BEFORE_EXPIRY", "2"),
    ])
    .await;
    server.create_user("ada@example.com", "Ada Lovelace", false);
    server.create_user("root@example.com", "Root", true);
    let a = Browser::open().await;

    // Anonymous: the list shows names only; an item needs a sign-in.
    a.goto(&server, "/items").await;
    assert!(a.text().await.contains("sign in to see the rest"));
    a.goto(&server, "/items/1").await;
    assert_eq!(a.path().await, "/login?next=/items/1");

    // Signed in (fresh): create an item; no delete button for a user.
    sign_in(&a, &server, "ada@example.com").await;
    nav(&a, "/items").await;
    a.fill("#name", "Brass lamp").await;
    a.fill("#description", "Made in a browser test").await;
    a.click("form[action='/items'] button[type=submit]").await;
    assert!(a.text().await.contains("Item created."));
    let item_path = a.path().await;
    assert!(item_path.starts_with("/items/"));
    assert!(a
        .client
        .find(fantoccini::Locator::Css("form[action$='/delete']"))
        .await
        .is_err());
    a.check_a11y("item").await;
    nav(&a, "/items").await;
    a.check_a11y("items").await;
    a.screenshot("items").await;

    // The access token expires and is renewed without anyone noticing...
    let before = a.cookie("access_token_cookie").await.unwrap();
    rocket::tokio::time::sleep(Duration::from_secs(7)).await;
    nav(&a, "/protected").await;
    assert_eq!(a.path().await, "/protected");
    assert!(a.text().await.contains("Ada Lovelace"));
    let after = a.cookie("access_token_cookie").await.unwrap();
    assert_ne!(before, after, "a new access token");
    // ...but a renewed token is not fresh: creating needs the password again.
    nav(&a, "/items").await;
    assert!(a.text().await.contains("needs a fresh sign-in"));
    a.fill("#name", "Second lamp").await;
    a.click("form[action='/items'] button[type=submit]").await;
    assert!(
        a.path().await.starts_with("/login"),
        "asked to sign in again: {}",
        a.path().await
    );

    // An admin sees the delete button and uses it.
    let b = Browser::open().await;
    sign_in(&b, &server, "root@example.com").await;
    b.goto(&server, &item_path).await;
    b.click("form[action$='/delete'] button").await;
    assert!(b.text().await.contains("Item deleted."));
    assert!(!b.text().await.contains("Brass lamp"));
    sign_out(&b).await;

    // Two browsers of one person: "sign out everywhere" in one sends the
    // other to the login page on its next click.
    sign_in(&a, &server, "ada@example.com").await;
    sign_in(&b, &server, "ada@example.com").await;
    nav(&a, "/account").await;
    a.click("form[action='/account/sessions/revoke-all'] button")
        .await;
    nav(&b, "/protected").await;
    assert_eq!(b.path().await, "/login?next=/protected");
    assert!(!b.text().await.contains("Ada Lovelace"));
    a.close().await;
    b.close().await;
}

/// The accessibility check can fail: a page with an unlabelled field and
/// an image without alternative text is caught.
#[rocket::async_test]
async fn the_accessibility_check_catches_violations() {
    if !available() {
        return;
    }
    let _slot = slot().await;
    let b = Browser::open().await;
    b.client
        .goto("data:text/html,<html lang=en><title>t</title><main><img src=x.png><input type=text></main></html>")
        .await
        .unwrap();
    let found: Vec<String> = b
        .a11y_violations()
        .await
        .iter()
        .map(|v| v["id"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(found.contains(&"image-alt".to_owned()), "{found:?}");
    assert!(found.contains(&"label".to_owned()), "{found:?}");
    b.close().await;
}

#[rocket::async_test]
async fn administering_users() {
    if !available() {
        return;
    }
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
    admin.check_a11y("admin dashboard").await;
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
    admin.check_a11y("users").await;
    admin.click("td a[href^='/admin/users/']").await;
    assert!(admin.text().await.contains("Bob Builder"));
    let bob_page = admin.path().await;
    admin.check_a11y("a user").await;
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
    admin.check_a11y("temporary password").await;
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
    admin.check_a11y("new user").await;
    admin.goto(&server, &format!("{bob_page}/edit")).await;
    assert_eq!(admin.value("#email").await, "bob@example.com");
    admin.check_a11y("edit user").await;

    // Deleting Carol takes a confirmation.
    admin.goto(&server, "/admin/users?q=carol").await;
    admin.click("td a[href^='/admin/users/']").await;
    admin.click("a[href$='/delete']").await;
    assert!(admin.text().await.contains("can't be undone"));
    admin.check_a11y("delete confirmation").await;
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
    admin.check_a11y("audit log").await;
    admin.screenshot_tall("admin-audit").await;
    admin.goto(&server, "/admin/users").await;
    admin.screenshot_tall("admin-users").await;
    admin.close().await;
    bob.close().await;
}
