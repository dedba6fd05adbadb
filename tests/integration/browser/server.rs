//! The `gatehouse` binary the browser tests drive, on loopback.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{free_port, root, PASSWORD};

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
        Self::launch("127.0.0.1", port, extra).await
    }

    /// The same server, reached as `http://localhost:PORT` (its public URL
    /// too): WebAuthn needs a domain name for its relying party id, and
    /// Chromium refuses an IP address. It still listens on 127.0.0.1.
    pub async fn start_localhost(extra: &[(&str, &str)]) -> Server {
        Self::launch("localhost", free_port(), extra).await
    }

    async fn launch(host: &str, port: u16, extra: &[(&str, &str)]) -> Server {
        let base = format!("http://{host}:{port}");
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
            // localhost only, and most of these servers are reached as
            // 127.0.0.1.
            ("GATEHOUSE_JWT__COOKIE_SECURE", "false".to_owned()),
            ("GATEHOUSE_PASSWORD__BCRYPT_COST", "10".to_owned()),
            // Mails (registration links) go to files the test reads.
            ("GATEHOUSE_PUBLIC_URL", base.clone()),
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
            base,
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
        crate::common::mailbox::mails(&self.dir.path().join("mail"))
            .into_iter()
            .rev()
            .find(|m| m.to == email)
            .and_then(|m| m.link_under(&self.base))
            .unwrap_or_else(|| panic!("no link mailed to {email}"))
    }

    /// The path of the password-reset link last mailed to `email`.
    pub fn mailed_reset_link(&self, email: &str) -> String {
        crate::common::mailbox::mails(&self.dir.path().join("mail"))
            .into_iter()
            .rev()
            .find(|m| m.to == email)
            .and_then(|m| m.link_to(&self.base, "/password/reset?token="))
            .unwrap_or_else(|| panic!("no reset link mailed to {email}"))
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

impl Server {
    /// Asks the server to stop as an operator's SIGTERM would, and waits up
    /// to `limit` for it to exit: its status, or `None` if it is still up.
    pub async fn terminate(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success(), "kill -TERM {pid}");
        let began = Instant::now();
        while began.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            rocket::tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
