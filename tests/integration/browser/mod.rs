//! End-to-end tests in a real browser: Debian's Chromium, driven through
//! chromedriver (WebDriver), against the release build's configuration of
//! the `gatehouse` binary on loopback, each test on a database of its own.
//!
//! They need `chromium`, `chromedriver` and axe-core (`npm ci --prefix e2e`);
//! without them the harness ignores them and says why after the summary,
//! unless `TEST_REQUIRE_BROWSER` is set (as `.ci/run` does), when they fail.
//! Each is declared with [`browser_tests!`](crate::browser_tests).
//! Screenshots go to `target/e2e-screenshots/`.
#![allow(dead_code)]

mod authenticator;
mod chromium;
mod journeys;
pub mod server;

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use rocket::tokio::sync::{Semaphore, SemaphorePermit};

pub use authenticator::Authenticator;
pub use chromium::Browser;
pub use server::Server;

pub const PASSWORD: &str = "correct horse battery staple";
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn axe_path() -> PathBuf {
    root().join("e2e/node_modules/axe-core/axe.min.js")
}

/// What the browser tests lack here, if anything, and how to get it: e.g.
/// `chromedriver not found (apt install chromium-driver)`. The harness
/// ignores them then, unless [`required`].
pub fn missing() -> Option<String> {
    let missing: Vec<(&str, &str)> = [
        (Path::new(CHROMIUM).exists(), "chromium", "apt install chromium"),
        (
            Path::new(CHROMEDRIVER).exists(),
            "chromedriver",
            "apt install chromium-driver",
        ),
        (axe_path().exists(), "axe-core", "npm ci --prefix e2e"),
    ]
    .into_iter()
    .filter(|(found, _, _)| !found)
    .map(|(_, what, how)| (what, how))
    .collect();
    if missing.is_empty() {
        return None;
    }
    let (what, how): (Vec<&str>, Vec<&str>) = missing.into_iter().unzip();
    Some(format!("{} not found ({})", what.join(", "), how.join("; ")))
}

/// Whether the browser tests must run (`TEST_REQUIRE_BROWSER` is set, as
/// `.ci/run` does): then a missing piece fails them instead.
pub fn required() -> bool {
    std::env::var_os("TEST_REQUIRE_BROWSER").is_some()
}

/// At most two browsers and servers at once: two cores.
pub async fn slot() -> SemaphorePermit<'static> {
    static SLOTS: Semaphore = Semaphore::const_new(2);
    SLOTS.acquire().await.expect("the semaphore is never closed")
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
