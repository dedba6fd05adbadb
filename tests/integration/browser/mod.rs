//! End-to-end tests in a real browser: Debian's Chromium, driven through
//! chromedriver (WebDriver), against the release build's configuration of
//! the `gatehouse` binary on loopback, each test on a database of its own.
//!
//! They need `chromium`, `chromedriver` and axe-core (`npm ci --prefix e2e`);
//! without them they say so once and pass, unless `GATEHOUSE_REQUIRE_BROWSER`
//! is set (as `.ci/run` does), when they fail. Screenshots go to
//! `target/e2e-screenshots/`.
#![allow(dead_code)]

mod journeys;

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use rocket::tokio::sync::{Semaphore, SemaphorePermit};
use serde_json::{json, Value};

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

/// The `gatehouse` binary, serving on loopback with the release profile
/// (secrets from the environment, as in production) on a fresh SQLite file.
pub struct Server {
    pub base: String,
    child: Child,
    env: Vec<(String, String)>,
    dir: tempfile::TempDir,
}

impl Server {
    pub async fn start(extra: &[(&str, &str)]) -> Server {
        Self::start_at(free_port(), extra).await
    }

    pub async fn start_at(port: u16, extra: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let mut secret = [0u8; 48];
        rand::fill(&mut secret);
        let mut rocket_secret = [0u8; 32];
        rand::fill(&mut rocket_secret);
        use base64::Engine;
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let mut env: Vec<(String, String)> = vec![
            ("ROCKET_PROFILE", "release".to_owned()),
            ("ROCKET_ADDRESS", "127.0.0.1".to_owned()),
            ("ROCKET_PORT", port.to_string()),
            ("ROCKET_LOG_LEVEL", "normal".to_owned()),
            ("ROCKET_SECRET_KEY", b64(&rocket_secret)),
            ("JWT_SECRET_KEY", b64(&secret)),
            (
                "DATABASE_URL",
                format!("sqlite://{}", dir.path().join("e2e.db").display()),
            ),
            // Plain http on loopback: Chromium keeps `Secure` cookies for
            // localhost only, and this server is reached as 127.0.0.1.
            ("GATEHOUSE_JWT__COOKIE_SECURE", "false".to_owned()),
            ("GATEHOUSE_PASSWORD__BCRYPT_COST", "10".to_owned()),
            // Mails (registration links) go to files the test reads.
            ("GATEHOUSE_PUBLIC_URL", format!("http://127.0.0.1:{port}")),
            ("GATEHOUSE_MAIL__TRANSPORT", "file".to_owned()),
            (
                "GATEHOUSE_MAIL__DIR",
                dir.path().join("mail").display().to_string(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .arg("serve")
            .current_dir(root())
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start gatehouse");
        let server = Server {
            base: format!("http://127.0.0.1:{port}"),
            child,
            env,
            dir,
        };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&self) {
        let began = Instant::now();
        let http = reqwest::Client::new();
        while began.elapsed() < Duration::from_secs(60) {
            if let Ok(res) = http.get(self.url("/health")).send().await {
                if res.status().is_success() {
                    return;
                }
            }
            rocket::tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("gatehouse did not start:\n{}", self.log());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The path of the registration link last mailed to `email`.
    pub fn mailed_link(&self, email: &str) -> String {
        crate::mailbox::mails(&self.dir.path().join("mail"))
            .into_iter()
            .rev()
            .find(|m| m.to == email)
            .and_then(|m| m.link_under(&self.base))
            .unwrap_or_else(|| panic!("no link mailed to {email}"))
    }

    /// `gatehouse user create` on this server's database.
    pub fn create_user(&self, email: &str, name: &str, admin: bool) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
        cmd.args([
            "user",
            "create",
            "--email",
            email,
            "--name",
            name,
            "--password-stdin",
        ]);
        if admin {
            cmd.arg("--admin");
        }
        let mut child = cmd
            .current_dir(root())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "user create: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser (its own profile, so its own cookies).
pub struct Browser {
    pub client: Client,
    driver: Child,
    profile: tempfile::TempDir,
}

impl Browser {
    pub async fn open() -> Browser {
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1100,800",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        });
        let caps = match caps {
            Value::Object(map) => map,
            _ => unreachable!(),
        };
        let began = Instant::now();
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            let attempt = ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await;
            match attempt {
                Ok(client) => break client,
                Err(e) if began.elapsed() > Duration::from_secs(30) => panic!("chromedriver: {e}"),
                Err(_) => rocket::tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        Browser {
            client,
            driver,
            profile,
        }
    }

    pub async fn goto(&self, server: &Server, path: &str) {
        self.client.goto(&server.url(path)).await.unwrap();
    }

    /// The current path and query.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let field = self.find(css).await;
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    /// Clicks and waits for the next page to load.
    pub async fn click(&self, css: &str) {
        let marker: Value = self
            .client
            .execute("window.__gh_old = true; return 1;", vec![])
            .await
            .unwrap();
        assert_eq!(marker, json!(1));
        self.find(css).await.click().await.unwrap();
        self.wait_new_page().await;
    }

    /// Waits until the page the last action led to has loaded.
    pub async fn wait_new_page(&self) {
        let began = Instant::now();
        loop {
            let state = self
                .client
                .execute("return [document.readyState, window.__gh_old === true];", vec![])
                .await;
            if let Ok(Value::Array(v)) = state {
                if v[0] == "complete" && v[1] == false {
                    return;
                }
            }
            assert!(began.elapsed() < Duration::from_secs(15), "the page did not load");
            rocket::tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The page's visible text.
    pub async fn text(&self) -> String {
        self.find("body").await.text().await.unwrap()
    }

    pub async fn value(&self, css: &str) -> String {
        self.find(css)
            .await
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default()
    }

    pub async fn cookie(&self, name: &str) -> Option<String> {
        self.client
            .get_named_cookie(name)
            .await
            .ok()
            .map(|c| c.value().to_owned())
    }

    pub async fn screenshot(&self, name: &str) {
        let dir = root().join("target/e2e-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// A screenshot of more of the page (a taller window), for the README.
    pub async fn screenshot_tall(&self, name: &str) {
        self.client.set_window_size(1100, 1400).await.unwrap();
        self.screenshot(name).await;
        self.client.set_window_size(1100, 800).await.unwrap();
    }

    /// axe-core's serious and critical violations on the current page.
    pub async fn a11y_violations(&self) -> Vec<Value> {
        let axe = std::fs::read_to_string(axe_path()).unwrap();
        self.client.execute(&axe, vec![]).await.expect("inject axe-core");
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                    .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5) }))))
                    .catch(e => done([{ id: 'axe-error', impact: 'critical', help: String(e), nodes: [] }]));",
                vec![],
            )
            .await
            .expect("run axe-core");
        result
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .collect()
    }

    /// Runs axe-core on the page; fails on any serious or critical
    /// violation, listing them.
    pub async fn check_a11y(&self, label: &str) {
        let serious = self.a11y_violations().await;
        assert!(
            serious.is_empty(),
            "accessibility violations on {label} ({}):\n{}",
            self.path().await,
            serde_json::to_string_pretty(&serious).unwrap()
        );
    }

    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
