//! End-to-end tests in a real browser: Debian's Chromium, driven through
//! chromedriver (WebDriver), against the release build's configuration of
//! the `gatehouse` binary on loopback, each test on a database of its own.
//!
//! They need `chromium`, `chromedriver` and axe-core (`npm ci --prefix e2e`);
//! without them they say so once and pass, unless `GATEHOUSE_REQUIRE_BROWSER`
//! is set (as `.ci/run` does), when they fail. Screenshots go to
//! `target/e2e-screenshots/`.
#![allow(dead_code)]

mod chromium;
mod journeys;
mod server;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Once;

use rocket::tokio::sync::{Semaphore, SemaphorePermit};

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

/// Whether the browser tests can run here; says once why not.
pub fn available() -> bool {
    let missing: Vec<&str> = [
        (CHROMIUM, "chromium (apt install chromium)"),
        (CHROMEDRIVER, "chromedriver (apt install chromium-driver)"),
    ]
    .into_iter()
    .filter(|(path, _)| !Path::new(path).exists())
    .map(|(_, what)| what)
    .chain((!axe_path().exists()).then_some("axe-core (npm ci --prefix e2e)"))
    .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var_os("GATEHOUSE_REQUIRE_BROWSER").is_some() {
        panic!("browser tests required but missing: {}", missing.join(", "));
    }
    static SAID: Once = Once::new();
    SAID.call_once(|| eprintln!("browser tests SKIPPED: missing {}", missing.join(", ")));
    false
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
