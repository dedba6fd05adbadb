//! Slow clients, behind the shipped reverse proxy. Rocket 0.5 has no header,
//! body or idle timeout (hyper's header timeout is turned off, and
//! `keep_alive` only switches keep-alive on or off), so `deploy/nginx.conf`
//! enforces them. This runs that file as it is, but for its ports,
//! certificate, timeouts (2 s) and per-address limit (2), in front of the
//! `gatehouse` binary, all on 127.0.0.1, and probes it with clients that
//! stall.
//!
//! It needs Debian's nginx and the `openssl` command (its `s_client` is the
//! TLS client that can stop half-way); without them the harness ignores it
//! and says why, unless `TEST_REQUIRE_NGINX` is set (as `.ci/run` does).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(2);
/// How late a close may come after the timeout, on a busy machine.
const SLACK: Duration = Duration::from_secs(4);

crate::register_test!(fn slow_clients_are_cut_off_by_the_proxy, Nginx);

fn nginx() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join("nginx"))
        .find(|p| p.is_file())
}

fn has_openssl() -> bool {
    Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// What this test lacks here, if anything, and how to get it.
pub fn missing() -> Option<String> {
    match (nginx().is_some(), has_openssl()) {
        (true, true) => None,
        (false, true) => Some("nginx not found (apt install nginx)".to_owned()),
        (true, false) => Some("openssl not found (apt install openssl)".to_owned()),
        (false, false) => Some("nginx, openssl not found (apt install nginx openssl)".to_owned()),
    }
}

/// Whether it must run (`TEST_REQUIRE_NGINX` is set): then a missing piece
/// fails it instead.
pub fn required() -> bool {
    std::env::var_os("TEST_REQUIRE_NGINX").is_some()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process, ended with the test.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The `gatehouse` binary in release mode on 127.0.0.1:`port`, set up as
/// the README's production recipe says.
fn gatehouse(dir: &Path, port: u16) -> Running {
    use base64::Engine;
    let b64 = |n: usize| {
        let mut key = vec![0u8; n];
        rand::fill(&mut key[..]);
        base64::engine::general_purpose::STANDARD.encode(key)
    };
    let log = std::fs::File::create(dir.join("gatehouse.log")).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("serve")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("ROCKET_PROFILE", "release")
        .env("ROCKET_ADDRESS", "127.0.0.1")
        .env("ROCKET_PORT", port.to_string())
        .env("ROCKET_IP_HEADER", "X-Real-IP")
        .env("ROCKET_SECRET_KEY", b64(32))
        .env("JWT_SECRET_KEY", b64(48))
        .env("GATEHOUSE_PASSWORD__BCRYPT_COST", "10")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("gatehouse.db").display()),
        )
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("start gatehouse");
    Running(child)
}

/// `deploy/nginx.conf`, with each change the test makes to it found there
/// (so the file can't drift from what is tested).
fn site_conf(dir: &Path, http: u16, https: u16, upstream: u16) -> String {
    let shipped = include_str!("../../../../deploy/nginx.conf");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let changes = [
        ("listen 80;", format!("listen 127.0.0.1:{http};")),
        ("listen [::]:80;", String::new()),
        (
            "listen 443 ssl http2;",
            format!("listen 127.0.0.1:{https} ssl http2;"),
        ),
        ("listen [::]:443 ssl http2;", String::new()),
        ("server 127.0.0.1:8000;", format!("server 127.0.0.1:{upstream};")),
        (
            "/etc/letsencrypt/live/accounts.example.com/fullchain.pem",
            cert.display().to_string(),
        ),
        (
            "/etc/letsencrypt/live/accounts.example.com/privkey.pem",
            key.display().to_string(),
        ),
        ("client_header_timeout 10s;", "client_header_timeout 2s;".into()),
        ("client_body_timeout 10s;", "client_body_timeout 2s;".into()),
        ("keepalive_timeout 30s;", "keepalive_timeout 2s;".into()),
        ("send_timeout 10s;", "send_timeout 2s;".into()),
        (
            "limit_conn gatehouse_addr 32;",
            "limit_conn gatehouse_addr 2;".into(),
        ),
    ];
    changes.iter().fold(shipped.to_owned(), |conf, (from, to)| {
        assert!(conf.contains(from), "deploy/nginx.conf has no `{from}`");
        conf.replace(from, to)
    })
}

/// nginx as this user, in the foreground, with every file in `dir`.
fn start_nginx(dir: &Path, site: &str) -> Running {
    std::fs::write(dir.join("site.conf"), site).unwrap();
    let d = dir.display();
    let main = format!(
        "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log info;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/body;\n  \
         proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  \
         scgi_temp_path {d}/scgi;\n  include {d}/site.conf;\n}}\n"
    );
    std::fs::write(dir.join("nginx.conf"), main).unwrap();
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout"])
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl req: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let child = Command::new(nginx().unwrap())
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .arg("-e")
        .arg(dir.join("error.log"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nginx");
    Running(child)
}

/// Waits until `port` answers `GET /health` (through TLS when `tls`).
fn wait_ready(process: &mut Running, port: u16, tls: bool, what: &str, log: &Path) {
    let began = Instant::now();
    loop {
        let answer = if tls {
            Probe::tls(
                port,
                b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                None,
            )
            .output
        } else {
            plain(
                port,
                b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            )
            .1
        };
        if answer.starts_with("HTTP/1.1 200") {
            return;
        }
        let log = std::fs::read_to_string(log).unwrap_or_default();
        let exited = process.0.try_wait().unwrap();
        assert!(exited.is_none(), "{what} exited ({exited:?}):\n{log}");
        assert!(
            began.elapsed() < Duration::from_secs(60),
            "{what} did not start:\n{log}"
        );
        thread::sleep(Duration::from_millis(200));
    }
}

/// Sends `data` on a plain connection; how long until the other end closed
/// it (none: still open after the timeout and its slack), and what it sent.
fn plain(port: u16, data: &[u8]) -> (Option<Duration>, String) {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return (Some(Duration::ZERO), String::new());
    };
    let began = Instant::now();
    stream.write_all(data).unwrap();
    stream.set_read_timeout(Some(TIMEOUT + SLACK)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = loop {
        match stream.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
            Err(_) => break false,
        }
    };
    (
        closed.then(|| began.elapsed()),
        String::from_utf8_lossy(&got).into_owned(),
    )
}

/// A TLS client (`openssl s_client`) that sends `data` and then, with
/// `trickle`, one more byte every interval, never finishing.
struct Probe {
    /// How long until nginx closed the connection (none: still open after
    /// the timeout and its slack).
    closed_after: Option<Duration>,
    output: String,
}

impl Probe {
    fn tls(port: u16, data: &[u8], trickle: Option<Duration>) -> Probe {
        let mut child = Command::new("openssl")
            .args(["s_client", "-quiet", "-verify_quiet", "-connect"])
            .arg(format!("127.0.0.1:{port}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl s_client");
        let began = Instant::now();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(data).unwrap();
        stdin.flush().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let reader = thread::spawn(move || {
            let mut out = Vec::new();
            let _ = stdout.read_to_end(&mut out);
            out
        });
        let mut last = Instant::now();
        let closed_after = loop {
            if child.try_wait().unwrap().is_some() {
                break Some(began.elapsed());
            }
            if began.elapsed() > TIMEOUT + SLACK {
                break None;
            }
            if trickle.is_some_and(|every| last.elapsed() >= every) {
                let _ = stdin.write_all(b"a").and_then(|()| stdin.flush());
                last = Instant::now();
            }
            thread::sleep(Duration::from_millis(20));
        };
        drop(Running(child));
        drop(stdin);
        let output = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
        Probe { closed_after, output }
    }
}

/// Closed by the timeout: not at once (that would be some other failure),
/// and not much later.
fn assert_cut_off(what: &str, closed_after: Option<Duration>) {
    let after = closed_after.unwrap_or_else(|| panic!("{what}: still open after {:?}", TIMEOUT + SLACK));
    assert!(
        after >= TIMEOUT - Duration::from_millis(500),
        "{what}: closed after {after:?}, before the timeout"
    );
}

fn slow_clients_are_cut_off_by_the_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let (upstream, http, https) = (free_port(), free_port(), free_port());
    let mut gatehouse = gatehouse(dir, upstream);
    wait_ready(
        &mut gatehouse,
        upstream,
        false,
        "gatehouse",
        &dir.join("gatehouse.log"),
    );
    let mut nginx = start_nginx(dir, &site_conf(dir, http, https, upstream));
    wait_ready(&mut nginx, https, true, "nginx", &dir.join("error.log"));

    // A normal request gets Gatehouse's page (its own CSP among its
    // headers); plain HTTP is sent to HTTPS.
    let page = Probe::tls(
        https,
        b"GET /login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        None,
    );
    assert!(page.output.starts_with("HTTP/1.1 200"), "{}", page.output);
    let headers = page.output.to_ascii_lowercase();
    assert!(
        headers.contains("content-security-policy: default-src 'self'"),
        "{}",
        page.output
    );
    assert!(page.output.contains("<title>Sign in"), "{}", page.output);
    let (_, redirect) = plain(http, b"GET /login HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert!(redirect.starts_with("HTTP/1.1 301"), "{redirect}");
    assert!(
        redirect.contains("Location: https://localhost/login"),
        "{redirect}"
    );

    // Nothing sent at all (not even a TLS handshake).
    assert_cut_off("nothing sent", plain(https, b"").0);
    // Half a request, then nothing.
    let half = Probe::tls(https, b"GET /login HTTP/1.1\r\nHost: localhost\r\n", None);
    assert_cut_off("a partial header", half.closed_after);
    // Headers a byte at a time: the timeout is for all of them.
    let trickled = Probe::tls(https, b"GET /login HTTP/1.1\r\nX-Slow: ", Some(TIMEOUT / 4));
    assert_cut_off("a trickled header", trickled.closed_after);
    // A body that stops half-way.
    let body = b"POST /login HTTP/1.1\r\nHost: localhost\r\n\
        Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nemail=a";
    assert_cut_off("a stalled body", Probe::tls(https, body, None).closed_after);
    // An idle kept-alive connection after a complete request.
    let idle = Probe::tls(https, b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n", None);
    assert!(idle.output.starts_with("HTTP/1.1 200"), "{}", idle.output);
    assert_cut_off("an idle keep-alive connection", idle.closed_after);

    // A body sent a byte at a time, each within the body timeout, is held
    // by nginx (Gatehouse sees complete requests only), and one address
    // holds at most `limit_conn` of them: the next request gets a 429.
    let tricklers: Vec<_> = (0..2)
        .map(|_| thread::spawn(move || Probe::tls(https, body, Some(TIMEOUT / 4))))
        .collect();
    thread::sleep(TIMEOUT / 2);
    let refused = Probe::tls(
        https,
        b"GET /login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        None,
    );
    assert!(refused.output.starts_with("HTTP/1.1 429"), "{}", refused.output);
    for trickler in tricklers {
        let held = trickler.join().unwrap();
        assert_eq!(
            held.closed_after, None,
            "a trickled body is held: {}",
            held.output
        );
    }
    let again = Probe::tls(
        https,
        b"GET /login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        None,
    );
    assert!(again.output.starts_with("HTTP/1.1 200"), "{}", again.output);
}
