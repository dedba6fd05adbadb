//! Chromium through chromedriver (WebDriver): one browser, its pages, its
//! page check (accessibility, and no sideways scrolling at 320 px).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use super::{axe_path, free_port, root, Server, CHROMEDRIVER, CHROMIUM};

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

    /// The page's check: axe-core (any serious or critical violation
    /// fails, listed), then the width: at 320 px the page must not scroll
    /// sideways (see [`Browser::too_wide`]).
    pub async fn check_page(&self, label: &str) {
        let serious = self.a11y_violations().await;
        assert!(
            serious.is_empty(),
            "accessibility violations on {label} ({}):\n{}",
            self.path().await,
            serde_json::to_string_pretty(&serious).unwrap()
        );
        if let Some(wide) = self.too_wide().await {
            panic!(
                "{label} ({}) scrolls sideways at 320 px: {wide}",
                self.path().await
            );
        }
    }

    /// At a 320-pixel-wide window, whether the page scrolls sideways: then
    /// how wide it is and the deepest element reaching past the right
    /// edge. The window is back at its size afterwards.
    pub async fn too_wide(&self) -> Option<String> {
        let rect = self.client.get_window_rect().await.unwrap();
        self.client.set_window_size(320, rect.3 as u32).await.unwrap();
        let found = self
            .client
            .execute(
                "const root = document.documentElement;
                 if (window.innerWidth > 320) return `the window is ${window.innerWidth} px, not 320`;
                 if (root.scrollWidth <= root.clientWidth) return null;
                 let worst = null;
                 for (const el of document.body.querySelectorAll('*')) {
                   const r = el.getBoundingClientRect();
                   if (r.width > 0 && r.right > root.clientWidth + 0.5) worst = el;
                 }
                 const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
                   + (el.className && typeof el.className === 'string'
                      ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
                 return `${root.scrollWidth} px wide for ${root.clientWidth} px`
                   + (worst ? `, past the edge: ${name(worst)} (right at `
                      + `${Math.round(worst.getBoundingClientRect().right)} px)` : '');",
                vec![],
            )
            .await
            .expect("measure the page");
        self.client
            .set_window_size(rect.2 as u32, rect.3 as u32)
            .await
            .unwrap();
        found.as_str().map(str::to_owned)
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
