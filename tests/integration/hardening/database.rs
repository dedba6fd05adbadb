//! A busy SQLite and a restarting PostgreSQL (see [`super`]):
//!
//! - here: eight writers and the command line at once, two admins demoting
//!   each other, `/health/ready` (on both backends);
//! - [`restart`]: lost PostgreSQL connections (on a database of the test's
//!   own, whose backends it terminates), and readiness once it is gone.

#[cfg(feature = "postgres")]
mod restart;

use std::process::{Command, Output};

use gatehouse::db::session::Device;
use gatehouse::db::user::User;
use gatehouse::domain::Role;
use gatehouse::services::admin::{self, Actor, Changes};
use gatehouse::testing::{self, TestTokens};
use gatehouse::Error;
use rocket::futures::future::join_all;
use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::Client;
use serde_json::{json, Value};

use crate::common::{Backend, TestApp, PASSWORD};
use crate::{backend_tests, db_tests};

db_tests!(
    eight_writers_and_the_command_line_never_find_the_database_locked,
    two_admins_demoting_each_other_leave_one_admin,
);
backend_tests!(
    ready_answers_without_sign_in_when_the_database_does,
    ready_is_503_when_no_connection_comes,
);

/// `PATCH /api/v1/admin/users/<id>` with a JSON body, as an admin.
async fn patch_user(client: &Client, tokens: &TestTokens, id: i32, body: Value) -> Status {
    client
        .patch(format!("/api/v1/admin/users/{id}"))
        .header(ContentType::JSON)
        .header(tokens.authorization())
        .body(body.to_string())
        .dispatch()
        .await
        .status()
}

/// `POST /api/v1/login`.
async fn api_login(client: &Client, email: &str) -> Status {
    client
        .post("/api/v1/login")
        .header(ContentType::JSON)
        .body(json!({"email": email, "password": PASSWORD}).to_string())
        .dispatch()
        .await
        .status()
}

/// The `gatehouse` binary on the test's database.
fn cli(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("GATEHOUSE_PASSWORD__BCRYPT_COST", "10")
        .env(
            "ROCKET_CONFIG",
            format!("{}/Rocket.toml", env!("CARGO_MANIFEST_DIR")),
        )
        .env_remove("ROCKET_PROFILE")
        .env_remove("ROCKET_LOG_LEVEL")
        .output()
        .expect("the gatehouse binary runs")
}

/// Eight clients write at once (admin edits, which read a row and then
/// write it, and sign-ins) while the command line changes a role, all on
/// one database (on SQLite a file, as in production). Every request and
/// every command succeeds: no "database is locked", no 500, no exit 1.
/// (SQLite's deferred `BEGIN` failed a transaction that read before
/// writing whenever another writer got in first.)
async fn eight_writers_and_the_command_line_never_find_the_database_locked(app: TestApp) {
    const WRITERS: usize = 8;
    const ROUNDS: usize = 40;
    let admin = app.create_user("boss@example.com", "Boss", Role::Admin).await;
    let tokens = testing::sign_in(app.state(), &admin).await.unwrap();
    let mut users = Vec::new();
    for i in 0..WRITERS {
        let email = format!("writer{i}@example.com");
        users.push(app.create_user(&email, "Writer", Role::User).await);
    }
    let url = app.url.clone();
    let command_line = rocket::tokio::task::spawn_blocking(move || {
        let mut failures = Vec::new();
        for round in 0..5 {
            for role in ["admin", "user"] {
                let out = cli(&url, &["user", "set-role", "writer0@example.com", role]);
                if !out.status.success() {
                    failures.push(format!(
                        "round {round}, set-role {role}: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    ));
                }
            }
        }
        failures
    });
    let writers = users.iter().enumerate().map(|(i, user)| {
        let (client, tokens) = (&app.client, &tokens);
        async move {
            let mut statuses = Vec::new();
            for round in 0..ROUNDS {
                let name = json!({"name": format!("Writer {i}.{round}")});
                statuses.push(("edit", patch_user(client, tokens, user.id, name).await));
                if round % 20 == 0 {
                    statuses.push(("sign-in", api_login(client, &user.email).await));
                }
            }
            statuses
        }
    });
    let statuses: Vec<_> = join_all(writers).await.into_iter().flatten().collect();
    let failed: Vec<_> = statuses.iter().filter(|(_, s)| *s != Status::Ok).collect();
    let failures = command_line.await.unwrap();
    assert!(
        failed.is_empty() && failures.is_empty(),
        "{} of {} writes failed: {failed:?}; the command line failed {} of 10 times: {failures:#?}",
        failed.len(),
        statuses.len(),
        failures.len()
    );
    let last = app.find_user("writer0@example.com").await.unwrap();
    assert_eq!(last.role, "user", "the last set-role holds");
}

/// Two admins demote each other at the same moment, over and over: each
/// time one wins and the other is refused with a 422 ("the last admin"),
/// never a 500, and one admin is always left. Odd rounds call the admin
/// service itself, so both changes reach the database at once; even rounds
/// go through the API, where the loser may instead come late enough to
/// find itself demoted (403). (On SQLite one of the two transactions failed
/// "database is locked"; on PostgreSQL each renamed its target, locking its
/// row, and then waited for the other's to count the admins: a deadlock.)
async fn two_admins_demoting_each_other_leave_one_admin(app: TestApp) {
    const ROUNDS: usize = 24;
    let state = app.state();
    let mut standing = app
        .create_user("admin0@example.com", "Admin 0", Role::Admin)
        .await;
    for round in 1..=ROUNDS {
        let email = format!("admin{round}@example.com");
        let other = app.create_user(&email, "Other", Role::Admin).await;
        let (first, second) = if round % 2 == 1 {
            let demote = |by: i32, id: i32| async move {
                let actor = Actor {
                    id: by,
                    device: Device::default(),
                };
                // As the edit form sends it: the name too.
                let changes = Changes {
                    name: Some(format!("Demoted in round {round}")),
                    email: None,
                    role: Some("user".into()),
                };
                match admin::edit_user(state, &actor, id, changes).await {
                    Ok(_) => Status::Ok,
                    Err(e @ Error::Invalid(_)) => Status::new(e.status().code),
                    Err(e) => panic!("round {round}: {}", e.chain()),
                }
            };
            rocket::tokio::join!(demote(standing.id, other.id), demote(other.id, standing.id))
        } else {
            let (mine, theirs) = (
                testing::sign_in(state, &standing).await.unwrap(),
                testing::sign_in(state, &other).await.unwrap(),
            );
            let demote = json!({"name": format!("Demoted in round {round}"), "role": "user"});
            rocket::tokio::join!(
                patch_user(&app.client, &mine, other.id, demote.clone()),
                patch_user(&app.client, &theirs, standing.id, demote.clone()),
            )
        };
        let outcome = format!("round {round}: {first} and {second}");
        let refused =
            |s: Status| s == Status::UnprocessableEntity || (round % 2 == 0 && s == Status::Forbidden);
        match (first, second) {
            (Status::Ok, s) if refused(s) => {}
            (s, Status::Ok) if refused(s) => standing = other,
            _ => panic!("one demotion wins, the other is refused: {outcome}"),
        }
        let admins = state.db.run(User::count_admins).await.unwrap();
        assert_eq!(admins, 1, "{outcome}: one admin is left");
    }
}

/// `/health/ready` answers 200 when the database does, without sign-in even
/// under `deny_by_default`; `/health` stays the bare liveness route.
async fn ready_answers_without_sign_in_when_the_database_does(backend: Backend) {
    let app = TestApp::spawn_with(backend, |f| f.merge(("deny_by_default", true)))
        .await
        .unwrap();
    let res = app.bare.get("/health/ready").dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(res.content_type(), Some(ContentType::JSON));
    let body: Value = res.into_json().await.unwrap();
    assert_eq!(body, json!({"status": "ready"}));
    let res = app.bare.get("/health").dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(res.into_string().await.unwrap(), "ok");
    // A protected page is still refused: the exemption is this route's.
    let res = app.bare.get("/protected").dispatch().await;
    assert_ne!(res.status(), Status::Ok);
}

/// When no connection comes within the readiness timeout (here: every
/// pooled connection is held by slow work), `/health/ready` answers 503 in
/// the usual JSON error shape, and `/health` still 200; once the work is
/// done, ready again.
async fn ready_is_503_when_no_connection_comes(backend: Backend) {
    let app = TestApp::spawn(backend).await.unwrap();
    let db = app.state().db.clone();
    let size = app.state().config.database_pool_size;
    let holders: Vec<_> = (0..size)
        .map(|_| {
            let db = db.clone();
            rocket::tokio::spawn(async move {
                db.run(|_| {
                    std::thread::sleep(std::time::Duration::from_secs(3));
                    Ok(())
                })
                .await
            })
        })
        .collect();
    rocket::tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let res = app.client.get("/health/ready").dispatch().await;
    assert_eq!(res.status(), Status::ServiceUnavailable);
    assert!(res.headers().get_one("Retry-After").is_some());
    let body: Value = res.into_json().await.unwrap();
    assert_eq!(body["status_code"], 503, "{body}");
    assert_eq!(body["error"], "Service Unavailable", "{body}");
    assert_eq!(app.client.get("/health").dispatch().await.status(), Status::Ok);
    for holder in holders {
        holder.await.unwrap().unwrap();
    }
    assert_eq!(
        app.client.get("/health/ready").dispatch().await.status(),
        Status::Ok
    );
}
