//! Signing in: with the form (after registering), and with Google against
//! the loopback provider.

use fantoccini::key::Key;
use serde_json::Value;

use super::{sign_in_form, sign_out};
use crate::browser::{free_port, slot, Browser, Server, PASSWORD};
use crate::browser_tests;
use crate::google::provider::{Identity, Provider, CLIENT_ID, CLIENT_SECRET};

browser_tests!(form_sign_in, google_sign_in);

async fn form_sign_in() {
    let _slot = slot().await;
    let server = Server::start(&[("GATEHOUSE_REGISTRATION", "true")]).await;
    server.create_user("ada@example.com", "Ada Lovelace", false);
    let b = Browser::open().await;

    // Someone new registers: an email, a mailed link, then a name and a
    // password (errors next to their fields), an account and a session.
    b.goto(&server, "/login").await;
    b.click("a[href^='/register']").await;
    b.check_page("register").await;
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
    b.check_page("register: mail sent").await;
    b.screenshot("register-sent").await;
    b.goto(&server, &server.mailed_link("newcomer@example.com")).await;
    b.check_page("register: the link").await;
    assert_eq!(b.value("#email").await, "newcomer@example.com");
    b.fill("#name", "New Comer").await;
    b.fill("#password", "a fine long passphrase").await;
    b.fill("#confirm_password", "not the same").await;
    b.click("form[action='/register/confirm'] button[type=submit]")
        .await;
    assert!(b.text().await.contains("do not match"), "{}", b.text().await);
    assert_eq!(b.value("#name").await, "New Comer", "kept");
    b.check_page("register with errors").await;
    b.screenshot_tall("register-errors").await;
    b.fill("#password", "a fine long passphrase").await;
    b.fill("#confirm_password", "a fine long passphrase").await;
    b.click("form[action='/register/confirm'] button[type=submit]")
        .await;
    assert!(b.text().await.contains("Signed in as New Comer"));
    sign_out(&b).await;

    // Home, then a protected page: the login page, which will come back.
    b.goto(&server, "/").await;
    b.check_page("home").await;
    b.goto(&server, "/protected").await;
    assert_eq!(b.path().await, "/login?next=/protected");
    b.check_page("login").await;
    b.screenshot("login").await;

    // A wrong password: the error, next to the form, with the email kept.
    sign_in_form(&b, "ada@example.com", "not the password").await;
    assert!(b.text().await.contains("Incorrect email or password"));
    assert_eq!(b.value("#email").await, "ada@example.com");
    assert_eq!(b.value("#password").await, "", "the password is never sent back");
    b.check_page("login with an error").await;
    b.screenshot("login-error").await;

    // The right one: back at the page asked for, which names the person.
    b.fill("#password", PASSWORD).await;
    b.click("form[action='/login'] button[type=submit]").await;
    assert_eq!(b.path().await, "/protected");
    assert!(b.text().await.contains("Ada Lovelace"));
    b.check_page("protected").await;
    b.screenshot("protected").await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.screenshot("protected-phone").await;
    b.check_page("protected at phone width").await;
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
    // `autofocus` applies once the page has loaded: allow a loaded machine
    // up to two seconds for it.
    let mut active = b.client.active_element().await.unwrap();
    for _ in 0..20 {
        if active.attr("id").await.unwrap().as_deref() == Some("email") {
            break;
        }
        rocket::tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        active = b.client.active_element().await.unwrap();
    }
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
    b.check_page("404").await;
    b.goto(&server, "/admin").await;
    assert!(b.text().await.contains("Access denied"));
    b.check_page("403").await;
    b.close().await;
}

async fn google_sign_in() {
    let _slot = slot().await;
    let provider = Provider::start();
    let port = free_port();
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
    b.check_page("account").await;
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
    b.check_page("Google sign-in refused").await;
    b.screenshot("google-refused").await;
    b.click("a[href^='/login']").await;
    assert_eq!(b.path().await, "/login");
    b.close().await;
}
