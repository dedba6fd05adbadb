//! schemathesis (PyPI) fuzzes the API from its own document, against the
//! app served on 127.0.0.1 with an admin's access token: no 500, every
//! answer's status and body as documented, and every JSON error in the
//! error shape (`error_shape` in tests/schemathesis_hooks.py). Bounded by
//! examples per operation and by a time limit; the operations that would
//! end the token's own session (sign-out, revoking, disabling, deleting)
//! are left out so the rest run signed in.

use std::net::TcpListener;
use std::process::Command;

use gatehouse::domain::Role;
use gatehouse::state::Gatehouse;

use crate::common::{figment, TestDb, PASSWORD};
use crate::register_test;

register_test!(async schemathesis_finds_nothing, Schemathesis);

/// Operations that end the admin's own session or account.
const LEFT_OUT: &str = r"logout|revoke-sessions|reset-password|reset-two-factor|/disable|/password$|/admin/users/\{id\}$|/admin/sessions";

async fn schemathesis_finds_nothing() {
    let (_db, url) = TestDb::new(crate::common::Backend::Sqlite).expect("a database");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let rocket = gatehouse::build(
        figment(&url)
            .merge(("address", "127.0.0.1"))
            .merge(("port", port)),
    )
    .ignite()
    .await
    .expect("the app ignites");
    let app: &Gatehouse = rocket.state().expect("Gatehouse state");
    let admin =
        gatehouse::testing::create_named_user(app, "admin@example.com", "Admin", PASSWORD, Role::Admin)
            .await
            .expect("the admin");
    let tokens = gatehouse::testing::sign_in(app, &admin).await.expect("a session");
    let shutdown = rocket.shutdown();
    let server = rocket::tokio::spawn(rocket.launch());

    let base = format!("http://127.0.0.1:{port}");
    // schemathesis keeps a cache of examples in its working folder.
    let work = tempfile::tempdir().expect("a temp dir");
    let cwd = work.path().to_owned();
    let out = rocket::tokio::task::spawn_blocking(move || {
        let hooks = concat!(env!("CARGO_MANIFEST_DIR"), "/tests");
        Command::new("timeout")
            .arg("120")
            .arg("schemathesis")
            .args(["run", &format!("{base}/api/v1/openapi.json"), "--url", &base])
            .args(["--header", &format!("Authorization: Bearer {}", tokens.access_token)])
            .args([
                "--checks",
                "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance,error_shape",
            ])
            .args(["--phases", "examples,coverage,fuzzing", "--max-examples", "10"])
            .args(["--workers", "1", "--request-timeout", "30", "--no-color"])
            .args(["--exclude-path-regex", LEFT_OUT])
            .env("PYTHONPATH", hooks)
            .env("SCHEMATHESIS_HOOKS", "schemathesis_hooks")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .current_dir(cwd)
            .output()
            .expect("schemathesis runs")
    })
    .await
    .expect("the fuzzer's thread");
    shutdown.notify();
    let _ = server.await;
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found failures (exit {:?}):\n{report}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        report.contains(" passed"),
        "schemathesis ran no test case:\n{report}"
    );
}
