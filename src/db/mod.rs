//! The database: one connection type for SQLite and PostgreSQL, picked at run
//! time from the URL, a pool, embedded migrations, and the models.

pub mod audit;
pub mod item;
pub mod registration;
pub mod schema;
pub mod session;
pub mod user;

use std::fmt;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::Error;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to either backend. Queries written once against `schema.rs`
/// run on both.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

/// Where the data lives, parsed from `DATABASE_URL` / `database_url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A file path (or `:memory:`), from `sqlite://PATH`, `sqlite:PATH` or a plain path.
    Sqlite(String),
    /// A libpq URL, `postgres://...` or `postgresql://...`.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses a database URL. An unknown scheme is an error, never a new
    /// SQLite file named after it.
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if url.is_empty() {
            return Err("database_url is empty".into());
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err("database_url `sqlite://` names no file".into());
            }
            return Ok(Self::Sqlite(path.to_owned()));
        }
        // Anything that looks like `scheme:` (but not a Windows drive letter) is
        // a URL we do not know.
        if let Some((scheme, _)) = url.split_once(':') {
            let looks_like_scheme = scheme.len() > 1
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
            if looks_like_scheme && url != ":memory:" {
                return Err(format!(
                    "database_url has an unknown scheme `{scheme}:` (use sqlite://PATH, a file path, or postgres://...)"
                ));
            }
        }
        Ok(Self::Sqlite(url.to_owned()))
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

impl fmt::Display for DatabaseUrl {
    /// Never prints a PostgreSQL password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{path}"),
            Self::Postgres(url) => match (url.find("://"), url.rfind('@')) {
                (Some(start), Some(at)) if at > start => {
                    let userinfo = &url[start + 3..at];
                    let user = userinfo.split(':').next().unwrap_or("");
                    write!(f, "{}{}@{}", &url[..start + 3], user, &url[at + 1..])
                }
                _ => f.write_str(url),
            },
        }
    }
}

/// Opens connections for the pool, and sets SQLite up for a web server:
/// WAL, a busy timeout so writers wait instead of failing, foreign keys on.
#[derive(Debug, Clone)]
pub struct Manager {
    url: DatabaseUrl,
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = Error;

    fn connect(&self) -> Result<DbConn, Error> {
        let conn = match &self.url {
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(path)
                    .map_err(|e| Error::Connection(format!("{}: {e}", self.url)))?;
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; \
                     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                )?;
                DbConn::Sqlite(conn)
            }
            DatabaseUrl::Postgres(url) => DbConn::Postgres(
                PgConnection::establish(url)
                    .map_err(|e| Error::Connection(format!("{}: {}", self.url, e.to_string().trim())))?,
            ),
        };
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Error> {
        conn.ping().map_err(Error::from)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        conn.is_broken()
    }
}

/// The pool, shared by the server (as managed state) and the command line.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<Manager>,
    url: DatabaseUrl,
}

impl Db {
    /// Connects (failing fast if the database can't be reached) without
    /// touching the schema.
    pub fn connect(url: &DatabaseUrl, max_size: u32) -> Result<Self, Error> {
        let manager = Manager { url: url.clone() };
        // Check one connection by hand first so a bad URL gives its own error
        // rather than r2d2's generic time-out.
        drop(manager.connect()?);
        let pool = r2d2::Pool::builder()
            .max_size(max_size)
            .connection_timeout(Duration::from_secs(10))
            // A broken connection is noticed when it is returned; pinging on
            // every checkout would double the queries of a signed-in page.
            .test_on_check_out(false)
            .build(manager)
            .map_err(|e| Error::Connection(e.to_string()))?;
        Ok(Self {
            pool,
            url: url.clone(),
        })
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Applies the embedded migrations of this backend; returns how many ran.
    pub fn migrate(&self) -> Result<usize, Error> {
        let mut conn = self.pool.get()?;
        let applied = match &mut *conn {
            DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
            DbConn::Postgres(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len()),
        };
        applied.map_err(|e| Error::Migration(e.to_string()))
    }

    /// Runs blocking database work on the current thread (command line, tests).
    pub fn run_blocking<R>(&self, f: impl FnOnce(&mut DbConn) -> Result<R, Error>) -> Result<R, Error> {
        let mut conn = self.pool.get()?;
        f(&mut conn)
    }

    /// Runs database work on Tokio's blocking pool, off Rocket's async workers.
    pub async fn run<R, F>(&self, f: F) -> Result<R, Error>
    where
        F: FnOnce(&mut DbConn) -> Result<R, Error> + Send + 'static,
        R: Send + 'static,
    {
        let pool = self.pool.clone();
        rocket::tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await?
    }
}

/// Seconds since the Unix epoch: the one clock every table uses.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::DatabaseUrl;

    #[test]
    fn parses_database_urls() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/g.db").unwrap(),
            DatabaseUrl::Sqlite("data/g.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:g.db").unwrap(),
            DatabaseUrl::Sqlite("g.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("g.db").unwrap(),
            DatabaseUrl::Sqlite("g.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse(":memory:").unwrap(),
            DatabaseUrl::Sqlite(":memory:".into())
        );
        assert!(matches!(
            DatabaseUrl::parse("postgres://u@h/db").unwrap(),
            DatabaseUrl::Postgres(_)
        ));
        assert!(matches!(
            DatabaseUrl::parse("postgresql://u@h/db").unwrap(),
            DatabaseUrl::Postgres(_)
        ));
        assert!(DatabaseUrl::parse("mysql://u@h/db")
            .unwrap_err()
            .contains("unknown scheme"));
        assert!(DatabaseUrl::parse("postgress://u@h/db").is_err());
        assert!(DatabaseUrl::parse("").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

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

    #[test]
    fn display_hides_the_password() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db.internal:5432/gh").unwrap();
        assert_eq!(url.to_string(), "postgres://app@db.internal:5432/gh");
    }
}
