//! Protected pages and the example items (each kind of access, a silent
//! renewal, "sign out everywhere"); and the page check (accessibility,
//! width) catching what it should.

use std::time::Duration;

use super::{nav, sign_in, sign_out};
use crate::browser::{slot, Browser, Server};
use crate::browser_tests;

browser_tests!(
    protected_pages_and_items,
    the_accessibility_check_catches_violations,
    the_width_check_catches_a_page_too_wide
);

async fn protected_pages_and_items() {
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
    a.check_page("item").await;
    nav(&a, "/items").await;
    a.check_page("items").await;
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
async fn the_accessibility_check_catches_violations() {
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

/// The width check can fail: a page with a 600-pixel-wide box scrolls
/// sideways at 320 px, and the check names the box; the same page with the
/// box fitting passes.
async fn the_width_check_catches_a_page_too_wide() {
    let _slot = slot().await;
    let b = Browser::open().await;
    let page = |width: &str| {
        format!(
            "data:text/html,<html lang=en><meta name=viewport content='width=device-width'>\
             <title>t</title><main><div id=wide style='width:{width}'>x</div></main></html>"
        )
    };
    b.client.goto(&page("600px")).await.unwrap();
    let wide = b.too_wide().await.expect("a 600-pixel box is too wide at 320 px");
    assert!(wide.contains("div#wide"), "{wide}");
    b.client.goto(&page("100%25")).await.unwrap();
    assert_eq!(b.too_wide().await, None);
    b.close().await;
}
