//! The four things people use Gatehouse for, as a person does them in a
//! browser, with the page check (accessibility, no sideways scrolling at
//! 320 px) of every page on the way.
//!
//! - [`sign_in`]: the form (registering first) and Google;
//! - [`google_link`]: linking Google from the account page;
//! - [`pages`]: protected pages and the example items; the accessibility
//!   check itself;
//! - [`admin`]: administering users;
//! - [`two_factor`]: turning two-factor sign-in on, and signing in with a
//!   code.
//! - [`password_reset`]: a forgotten password, by mailed link.
//! - [`passkeys`]: adding a passkey, signing in with it (no email, no
//!   password), as the second factor, removing it; Chromium's virtual
//!   authenticator in place of a phone.

mod admin;
mod google_link;
mod pages;
mod passkeys;
mod password_reset;
mod sign_in;
mod two_factor;

use super::{Browser, Server, PASSWORD};

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
