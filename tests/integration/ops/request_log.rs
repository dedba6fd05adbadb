//! The request log: one line per request with method, path (never the
//! query), status, time and an id, the same id as the `X-Request-Id`
//! header; a trusted proxy's own id is kept, anyone else's replaced.

use gatehouse::web::request_log::{RequestLines, HEADER};
use rocket::http::{Header, Status};
use rocket::local::asynchronous::LocalResponse;

use crate::backend_tests;
use crate::common::{Backend, TestApp};

backend_tests!(one_line_per_request, a_trusted_proxy_names_the_request);

async fn app_with_lines(backend: Backend) -> (TestApp, RequestLines) {
    let lines = RequestLines::default();
    let shared = lines.clone();
    let app = TestApp::spawn_rocket(backend, move |f| gatehouse::build(f).manage(shared.clone()))
        .await
        .expect("the app starts");
    (app, lines)
}

fn id_of(res: &LocalResponse<'_>) -> String {
    res.headers().get_one(HEADER).expect("an X-Request-Id").to_owned()
}

/// The last line, split into method, path, status, time, id.
fn last(lines: &RequestLines) -> (String, String, u16, f64, String) {
    let all = lines.lines();
    let line = all.last().expect("a logged line");
    let parts: Vec<&str> = line.split(' ').collect();
    assert_eq!(parts.len(), 5, "{line}");
    let ms = parts[3].strip_suffix("ms").expect("a time in ms");
    let id = parts[4].strip_prefix("id=").expect("id=");
    (
        parts[0].to_owned(),
        parts[1].to_owned(),
        parts[2].parse().expect("a status"),
        ms.parse().expect("a number of ms"),
        id.to_owned(),
    )
}

async fn one_line_per_request(backend: Backend) {
    let (app, lines) = app_with_lines(backend).await;
    // The tracked and untracked clients share the managed lines.
    let before = lines.lines().len();
    let res = app.get("/login?next=/secret&token=abc").await;
    assert_eq!(res.status(), Status::Ok);
    let id = id_of(&res);
    assert_eq!(lines.lines().len(), before + 1);
    let (method, path, status, ms, logged) = last(&lines);
    assert_eq!((method.as_str(), path.as_str(), status), ("GET", "/login", 200));
    assert!(ms >= 0.0);
    assert_eq!(logged, id);
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "a UUID: {id}");
    assert!(lines
        .lines()
        .iter()
        .all(|l| !l.contains("secret") && !l.contains("token=")));

    // Each request its own id; a 404 and a POST are logged too.
    let res = app.client.post("/nowhere?q=1").dispatch().await;
    assert_eq!(res.status(), Status::NotFound);
    let (method, path, status, _, logged) = last(&lines);
    assert_eq!(
        (method.as_str(), path.as_str(), status),
        ("POST", "/nowhere", 404)
    );
    assert_eq!(logged, id_of(&res));
    assert_ne!(logged, id);
}

async fn a_trusted_proxy_names_the_request(backend: Backend) {
    let (app, lines) = app_with_lines(backend).await;
    let from = |peer: &str, id: &str| {
        app.client
            .get("/health")
            .remote(peer.parse().unwrap())
            .header(Header::new(HEADER, id.to_owned()))
            .dispatch()
    };
    // Loopback is the default trusted proxy.
    let res = from("127.0.0.1:40000", "edge-7f3a.42").await;
    assert_eq!(id_of(&res), "edge-7f3a.42");
    assert_eq!(last(&lines).4, "edge-7f3a.42");
    // Anyone else's id is replaced.
    let res = from("203.0.113.9:40000", "spoofed-id").await;
    assert_ne!(id_of(&res), "spoofed-id");
    assert_eq!(last(&lines).4, id_of(&res));
    // So is a trusted proxy's that isn't sane (spaces, too long).
    for bad in ["two words", &"x".repeat(129)] {
        let res = from("127.0.0.1:40000", bad).await;
        let id = id_of(&res);
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
        assert_eq!(last(&lines).4, id);
    }
}
