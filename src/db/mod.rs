//! The database: one connection type for SQLite and PostgreSQL (with the
//! `postgres` feature), picked at run time from the URL, a pool, embedded
//! migrations, and the models.

pub mod audit;
pub mod item;
pub mod passkey;
pub mod passkey_challenge;
pub mod password_reset;
mod pool;
pub mod registration;
pub mod schema;
pub mod session;
pub mod sign_in_limit;
pub mod two_factor;
pub mod user;
mod write;

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
#[cfg(feature = "postgres")]
use diesel::PgConnection;
use diesel::SqliteConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::DatabaseUrl;
use crate::error::Error;
pub use pool::is_disconnect;
use pool::Manager;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
#[cfg(feature = "postgres")]
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to either backend. Queries written once against `schema.rs`
/// run on both.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(SqliteConnection),
    #[cfg(feature = "postgres")]
    Postgres(PgConnection),
}

/// The pool, shared by the server (as managed state) and the command line.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<Manager>,
    /// On SQLite, read-only connections for [`Db::read`].
    readers: Option<r2d2::Pool<Manager>>,
    /// Moves on when a connection is found lost (see `pool.rs`).
    generation: Arc<AtomicU64>,
    url: DatabaseUrl,
}

/// How long [`Db::ready`] waits for a connection before saying the
/// database does not answer.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

impl Db {
    /// Connects (failing fast if the database can't be reached) without
    /// touching the schema.
    pub fn connect(url: &DatabaseUrl, max_size: u32) -> Result<Self, Error> {
        let generation = Arc::new(AtomicU64::new(0));
        let manager = Manager::new(url, false, generation.clone());
        // Check one connection by hand first so a bad URL gives its own error
        // rather than r2d2's generic time-out.
        drop(manager.connect()?);
        let pool = r2d2::Pool::builder()
            .max_size(max_size)
            .connection_timeout(Duration::from_secs(10))
            // A check that costs no round trip (see `pool.rs`): pinging on
            // every checkout would double the queries of a signed-in page.
            .test_on_check_out(true)
            .build(manager)
            .map_err(|e| Error::Connection(e.to_string()))?;
        Ok(Self {
            pool,
            readers: Self::readers(url, generation.clone())?,
            generation,
            url: url.clone(),
        })
    }

    /// One read-only SQLite connection per core, opened now (an in-memory
    /// database has none: each connection would be another database).
    fn readers(url: &DatabaseUrl, generation: Arc<AtomicU64>) -> Result<Option<r2d2::Pool<Manager>>, Error> {
        let in_memory = |path: &str| {
            path == ":memory:" || path.contains("mode=memory") || path.starts_with("file::memory:")
        };
        if !matches!(url, DatabaseUrl::Sqlite(path) if !in_memory(path)) {
            return Ok(None);
        }
        let size = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
        let pool = r2d2::Pool::builder()
            .max_size(size)
            .min_idle(Some(size))
            .test_on_check_out(true)
            .build(Manager::new(url, true, generation))
            .map_err(|e| Error::Connection(e.to_string()))?;
        Ok(Some(pool))
    }

    /// Each pool's connections in use and idle: `writer` (every
    /// connection on PostgreSQL) and, on a SQLite file, `reader`.
    pub fn pool_use(&self) -> Vec<(&'static str, u32, u32)> {
        let state = |name, pool: &r2d2::Pool<Manager>| {
            let s = pool.state();
            (name, s.connections - s.idle_connections, s.idle_connections)
        };
        let mut out = vec![state("writer", &self.pool)];
        out.extend(self.readers.as_ref().map(|r| state("reader", r)));
        out
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Applies the embedded migrations of this backend; returns how many ran.
    pub fn migrate(&self) -> Result<usize, Error> {
        let mut conn = self.pool.get()?;
        let applied = match &mut **conn {
            DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
            #[cfg(feature = "postgres")]
            DbConn::Postgres(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len()),
        };
        applied.map_err(|e| Error::Migration(e.to_string()))
    }

    /// Runs blocking database work on the current thread (command line, tests).
    pub fn run_blocking<R>(&self, f: impl FnOnce(&mut DbConn) -> Result<R, Error>) -> Result<R, Error> {
        run_on(&self.pool, &self.generation, f)
    }

    /// [`Db::run_blocking`] as one write transaction ([`DbConn::write`]).
    pub fn write_blocking<R>(&self, f: impl FnOnce(&mut DbConn) -> Result<R, Error>) -> Result<R, Error> {
        self.run_blocking(|conn| conn.write(f))
    }

    /// A read that can't wait, for the signed-in hot path. On SQLite (WAL,
    /// where readers don't wait for writers) it runs right here on a
    /// read-only connection that never waits for a lock: a microsecond
    /// query costs less than a trip to the blocking pool. When no reader
    /// is free or SQLite answers busy, it goes the usual way ([`Db::run`]),
    /// as every PostgreSQL read does. A read that fails because its
    /// connection was lost (the database restarted) runs once more, on a
    /// new connection: reading twice is harmless.
    pub async fn read<R, F>(&self, f: F) -> Result<R, Error>
    where
        F: FnOnce(&mut DbConn) -> Result<R, Error> + Send + Clone + 'static,
        R: Send + 'static,
    {
        if let Some(mut conn) = self.readers.as_ref().and_then(|readers| readers.try_get()) {
            let outcome = f.clone()(&mut conn);
            pool::after(&self.generation, &mut conn, &outcome);
            match outcome {
                Err(e) if is_busy(&e) || is_disconnect(&e) => {}
                done => return done,
            }
        }
        match self.run(f.clone()).await {
            Err(e) if is_disconnect(&e) => self.run(f).await,
            done => done,
        }
    }

    /// Runs database work on Tokio's blocking pool, off Rocket's async workers.
    pub async fn run<R, F>(&self, f: F) -> Result<R, Error>
    where
        F: FnOnce(&mut DbConn) -> Result<R, Error> + Send + 'static,
        R: Send + 'static,
    {
        let (pool, generation) = (self.pool.clone(), self.generation.clone());
        rocket::tokio::task::spawn_blocking(move || run_on(&pool, &generation, f)).await?
    }

    /// Whether the database answers, for a readiness check: a `SELECT 1`
    /// on a pooled connection, waiting at most [`READY_TIMEOUT`] for one.
    /// A lost connection is dropped (and the check tried once more), so a
    /// database that is back is ready at once.
    pub async fn ready(&self) -> Result<(), Error> {
        let db = self.clone();
        rocket::tokio::task::spawn_blocking(move || {
            let check = || {
                let mut conn = db.pool.get_timeout(READY_TIMEOUT)?;
                let outcome = diesel::sql_query("SELECT 1")
                    .execute(&mut **conn)
                    .map(drop)
                    .map_err(Error::from);
                pool::after(&db.generation, &mut conn, &outcome);
                outcome
            };
            match check() {
                Err(e) if is_disconnect(&e) => check(),
                done => done,
            }
        })
        .await?
    }
}

/// Runs `f` on a connection of `pool`, noting a lost connection.
fn run_on<R>(
    pool: &r2d2::Pool<Manager>,
    generation: &AtomicU64,
    f: impl FnOnce(&mut DbConn) -> Result<R, Error>,
) -> Result<R, Error> {
    let mut conn = pool.get()?;
    let outcome = f(&mut conn);
    pool::after(generation, &mut conn, &outcome);
    outcome
}

/// SQLite's "database is locked" (`SQLITE_BUSY`), or a WAL read that gave up
/// retrying under heavy contention (`SQLITE_PROTOCOL`, "locking protocol").
fn is_busy(e: &Error) -> bool {
    matches!(e, Error::Database(diesel::result::Error::DatabaseError(_, info))
        if ["locked", "busy", "locking protocol"].iter().any(|m| info.message().contains(m)))
}

#[cfg(test)]
mod tests {
    use crate::config::DatabaseUrl;

    #[test]
    fn sqlite_runs_with_wal_busy_timeout_and_foreign_keys() {
        use diesel::sql_types::{BigInt, Text};
        use diesel::{QueryableByName, RunQueryDsl};

        #[derive(QueryableByName)]
        struct Mode {
            #[diesel(sql_type = Text)]
            journal_mode: String,
        }
        #[derive(QueryableByName)]
        struct Flag {
            #[diesel(sql_type = BigInt)]
            foreign_keys: i64,
        }
        #[derive(QueryableByName)]
        struct Timeout {
            #[diesel(sql_type = BigInt)]
            timeout: i64,
        }

        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::parse(&format!("sqlite://{}", dir.path().join("p.db").display())).unwrap();
        let db = super::Db::connect(&url, 1).unwrap();
        db.run_blocking(|conn| {
            let mode: Mode = diesel::sql_query("PRAGMA journal_mode").get_result(conn)?;
            let fk: Flag = diesel::sql_query("PRAGMA foreign_keys").get_result(conn)?;
            let busy: Timeout = diesel::sql_query("PRAGMA busy_timeout").get_result(conn)?;
            assert_eq!(mode.journal_mode, "wal");
            assert_eq!(fk.foreign_keys, 1);
            assert_eq!(busy.timeout, 5000);
            Ok(())
        })
        .unwrap();
        let embedded = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
            .unwrap()
            .count();
        assert_eq!(db.migrate().unwrap(), embedded, "every migration applies");
        assert_eq!(db.migrate().unwrap(), 0, "migrations apply once");
    }

    /// A read runs in place on SQLite; when SQLite answers busy there (a
    /// reader never waits for a lock), it runs again on the blocking pool,
    /// which waits its turn.
    #[rocket::async_test]
    async fn a_read_in_place_falls_back_when_sqlite_is_busy() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;

        use diesel::result::{DatabaseErrorKind, Error as Diesel};

        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::parse(&format!("sqlite://{}", dir.path().join("busy.db").display())).unwrap();
        let db = super::Db::connect(&url, 2).unwrap();
        let here = std::thread::current().id();
        let calls = Arc::new(AtomicUsize::new(0));
        let read = {
            let calls = calls.clone();
            move |_: &mut super::DbConn| {
                let first = calls.fetch_add(1, Ordering::SeqCst) == 0;
                let in_place = std::thread::current().id() == here;
                if first {
                    assert!(in_place, "the first try runs on the calling thread");
                    // What SQLite's busy answer looks like through Diesel.
                    let locked = Box::new("database is locked".to_owned());
                    return Err(Diesel::DatabaseError(DatabaseErrorKind::Unknown, locked).into());
                }
                Ok(in_place)
            }
        };
        assert!(
            !db.read(read).await.unwrap(),
            "the retry ran on the blocking pool"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // Any other outcome is the answer, from the first try.
        let other = db.read(|_| Err::<(), _>(super::Error::NotFound)).await;
        assert!(matches!(other, Err(super::Error::NotFound)));
    }
}
