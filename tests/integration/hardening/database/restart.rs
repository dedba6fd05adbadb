//! Lost PostgreSQL connections, as after a restart, without restarting the
//! server other tests use: each test makes a database of its own, runs the
//! app on it, and terminates that database's backends from another
//! connection (what a restart does to every pooled connection).

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use gatehouse::domain::Role;
use gatehouse::testing::{self, TestTokens};
use gatehouse::Gatehouse;
use rocket::http::{Header, Status};
use rocket::local::asynchronous::Client;
use serde_json::json;

use super::{api_login, patch_user};
use crate::common::{self, PASSWORD};

crate::register_test!(async no_signed_in_request_fails_after_a_restart, Postgres);
crate::register_test!(async after_a_quiet_spell_not_even_a_first_write_fails, Postgres);
crate::register_test!(async ready_is_503_once_the_database_is_gone, Postgres);

/// A database of one test's own on `TEST_DATABASE_URL`'s server, dropped
/// (with whatever is still connected) at the end.
struct OwnDatabase {
    base: String,
    name: String,
    url: String,
}

impl OwnDatabase {
    fn new() -> Self {
        let base = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
        let name = format!("gh_restart_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::establish(&base).expect("TEST_DATABASE_URL answers");
        conn.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        let (path, query) = base
            .split_once('?')
            .map_or((base.as_str(), None), |(p, q)| (p, Some(q)));
        let server = path.rsplit_once('/').expect("a URL with a database").0;
        let url = match query {
            Some(q) => format!("{server}/{name}?{q}"),
            None => format!("{server}/{name}"),
        };
        OwnDatabase { base, name, url }
    }

    fn admin(&self) -> PgConnection {
        PgConnection::establish(&self.base).unwrap()
    }

    /// Ends every connection to this database (the app's pool), as a
    /// restart would; returns how many there were.
    fn terminate_backends(&self) -> i64 {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let count: Count = diesel::sql_query(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) AS n \
             FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind::<Text, _>(&self.name)
        .get_result(&mut self.admin())
        .unwrap();
        count.n
    }

    fn drop_now(&self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        self.admin().batch_execute(&sql).unwrap();
    }
}

impl Drop for OwnDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let _ = self.admin().batch_execute(&sql);
    }
}

/// The app on its own database, an admin and their tokens, and every
/// pooled connection opened (so that all of them die).
async fn start(db: &OwnDatabase) -> (Client, TestTokens) {
    let client = Client::tracked(gatehouse::build(common::figment(&db.url)))
        .await
        .expect("the app ignites");
    let app = client.rocket().state::<Gatehouse>().unwrap();
    let admin = testing::create_user(app, "boss@example.com", PASSWORD, Role::Admin)
        .await
        .unwrap();
    let tokens = testing::sign_in(app, &admin).await.unwrap();
    let size = app.config.database_pool_size;
    let warm = (0..size).map(|_| me(&client, &tokens));
    for status in rocket::futures::future::join_all(warm).await {
        assert_eq!(status, Status::Ok);
    }
    (client, tokens)
}

async fn me(client: &Client, tokens: &TestTokens) -> Status {
    client
        .get("/api/v1/me")
        .header(tokens.authorization())
        .dispatch()
        .await
        .status()
}

/// A signed-in page with the session's cookies.
async fn page(client: &Client, tokens: &TestTokens) -> Status {
    let mut req = client
        .get("/protected")
        .header(Header::new("Accept", "text/html"));
    for cookie in tokens.cookies() {
        req = req.cookie(cookie);
    }
    req.dispatch().await.status()
}

/// After every pooled connection died, no signed-in request fails, reads
/// and writes alike: the session check each starts with is a read, retried
/// once on a new connection, and the failure drops every connection opened
/// before it. (Before, each dead connection failed one request whenever it
/// was next used.) An anonymous write right after the restart is the one
/// request that can still fail, once: its first query found a dead
/// connection, and a write is not run twice.
async fn no_signed_in_request_fails_after_a_restart() {
    let db = OwnDatabase::new();
    let (client, tokens) = start(&db).await;
    let app = client.rocket().state::<Gatehouse>().unwrap();
    let me_id = app.db.run(gatehouse::db::user::User::list).await.unwrap()[0].id;
    for restart in 0..2 {
        let killed = db.terminate_backends();
        assert!(killed >= 2, "the pool had connections to lose: {killed}");
        let mut statuses = Vec::new();
        for i in 0..12 {
            let status = match i % 3 {
                0 => page(&client, &tokens).await,
                1 => me(&client, &tokens).await,
                _ => {
                    let name = json!({"name": format!("Boss {restart}.{i}")});
                    patch_user(&client, &tokens, me_id, name).await
                }
            };
            statuses.push(status);
        }
        assert!(
            statuses.iter().all(|s| *s == Status::Ok),
            "restart {restart} ({killed} connections lost): {statuses:?}"
        );
    }
    db.terminate_backends();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(api_login(&client, "boss@example.com").await);
    }
    let failed = statuses.iter().filter(|s| **s != Status::Ok).count();
    assert!(
        failed <= 1 && statuses[1..].iter().all(|s| *s == Status::Ok),
        "at most the first anonymous write fails: {statuses:?}"
    );
}

/// A connection that sat idle a while is pinged at checkout, so after a
/// quiet spell not even an anonymous write (a sign-in) is the one to find
/// a dead connection.
async fn after_a_quiet_spell_not_even_a_first_write_fails() {
    let db = OwnDatabase::new();
    let (client, _tokens) = start(&db).await;
    db.terminate_backends();
    rocket::tokio::time::sleep(Duration::from_millis(1200)).await;
    let statuses = [
        api_login(&client, "boss@example.com").await,
        api_login(&client, "boss@example.com").await,
    ];
    assert_eq!(statuses, [Status::Ok, Status::Ok]);
}

/// `/health/ready` answers 503 once the database is gone (dropped here),
/// within its short timeout, while `/health` goes on answering 200.
async fn ready_is_503_once_the_database_is_gone() {
    let db = OwnDatabase::new();
    let (client, _tokens) = start(&db).await;
    assert_eq!(client.get("/health/ready").dispatch().await.status(), Status::Ok);
    db.drop_now();
    let started = Instant::now();
    let res = client.get("/health/ready").dispatch().await;
    assert_eq!(res.status(), Status::ServiceUnavailable);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let body: serde_json::Value = res.into_json().await.unwrap();
    assert_eq!(body["status_code"], 503, "{body}");
    assert_eq!(client.get("/health").dispatch().await.status(), Status::Ok);
}
