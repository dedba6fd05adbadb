//! Opening and recycling connections: the pool's manager, and how a
//! connection the database has dropped (a PostgreSQL restart, a
//! terminated backend) leaves the pool without a ping on every checkout.
//!
//! The pool does not ping at checkout (it would double the queries of a
//! signed-in page). Instead, a query that fails because the connection is
//! gone marks that connection broken (the pool drops it when it comes
//! back) and moves the pool on a generation: a restart kills every
//! connection at once, so each connection opened before the failure is
//! dropped at its next checkout, which only compares two numbers, and
//! replaced by a new one. Without this, each dead connection failed one
//! request whenever it was next used, for as long as it sat in the pool.
//!
//! A PostgreSQL connection that sat idle for [`IDLE_CHECK`] or more is
//! pinged at checkout: a busy server never pings, and a quiet one finds a
//! restart before a request does (even a write, which can't be retried).
//! A read that finds its connection lost runs once more on a new one
//! (`Db::read`, the session check every signed-in request starts with).

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ManageConnection, R2D2Connection};
use diesel::result::{DatabaseErrorKind, Error as Diesel};
#[cfg(feature = "postgres")]
use diesel::PgConnection;
use diesel::SqliteConnection;

use super::DbConn;
use crate::config::DatabaseUrl;
use crate::error::Error;

/// How long a PostgreSQL connection may sit idle in the pool before its
/// next checkout pings it.
pub const IDLE_CHECK: Duration = Duration::from_secs(1);

/// A pooled connection, with the generation it was opened in.
pub struct Pooled {
    conn: DbConn,
    generation: u64,
    broken: bool,
    /// When a unit of work last finished on it.
    last_used: Instant,
}

impl Deref for Pooled {
    type Target = DbConn;

    fn deref(&self) -> &DbConn {
        &self.conn
    }
}

impl DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut DbConn {
        &mut self.conn
    }
}

/// Opens connections for the pool, and sets SQLite up for a web server:
/// WAL, a busy timeout so writers wait instead of failing, foreign keys on.
/// A reader (SQLite only) is read-only and never waits for a lock.
#[derive(Debug, Clone)]
pub struct Manager {
    url: DatabaseUrl,
    reader: bool,
    /// Moves on when a connection is found dead; shared by the pool's
    /// connections (and the readers'), each of which remembers its own.
    generation: Arc<AtomicU64>,
}

impl Manager {
    pub fn new(url: &DatabaseUrl, reader: bool, generation: Arc<AtomicU64>) -> Self {
        Self {
            url: url.clone(),
            reader,
            generation,
        }
    }

    fn open(&self) -> Result<DbConn, Error> {
        Ok(match &self.url {
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(path)
                    .map_err(|e| Error::Connection(format!("{}: {e}", self.url)))?;
                // The busy timeout first: even switching to WAL waits for
                // a lock while another process writes.
                conn.batch_execute(if self.reader {
                    "PRAGMA busy_timeout = 0; PRAGMA query_only = ON;"
                } else {
                    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;"
                })?;
                DbConn::Sqlite(conn)
            }
            #[cfg(feature = "postgres")]
            DatabaseUrl::Postgres(url) => DbConn::Postgres(
                PgConnection::establish(url)
                    .map_err(|e| Error::Connection(format!("{}: {}", self.url, e.to_string().trim())))?,
            ),
            #[cfg(not(feature = "postgres"))]
            DatabaseUrl::Postgres(_) => {
                return Err(Error::Connection(format!(
                    "{}: this Gatehouse was built without the `postgres` feature",
                    self.url
                )))
            }
        })
    }
}

impl ManageConnection for Manager {
    type Connection = Pooled;
    type Error = Error;

    fn connect(&self) -> Result<Pooled, Error> {
        // The generation is read before connecting: a failure seen while
        // this connection opens may have been on the database it reaches.
        let generation = self.generation.load(Ordering::SeqCst);
        Ok(Pooled {
            conn: self.open()?,
            generation,
            broken: false,
            last_used: Instant::now(),
        })
    }

    /// A connection is valid unless a connection opened before or with it
    /// was found dead since (no round trip), or, on PostgreSQL, it sat idle
    /// for [`IDLE_CHECK`] and does not answer a ping (see the module's doc).
    fn is_valid(&self, conn: &mut Pooled) -> Result<(), Error> {
        if conn.generation != self.generation.load(Ordering::SeqCst) {
            return Err(Error::Connection(
                "opened before the database dropped a connection".into(),
            ));
        }
        if matches!(conn.conn, DbConn::Sqlite(_)) || conn.last_used.elapsed() < IDLE_CHECK {
            return Ok(());
        }
        let outcome = conn.conn.ping().map_err(Error::from);
        after(&self.generation, conn, &outcome);
        outcome
    }

    fn has_broken(&self, conn: &mut Pooled) -> bool {
        conn.broken || conn.conn.is_broken()
    }
}

/// Looks at the outcome of a unit of work on `conn`: if it failed because
/// the connection is gone, the connection is dropped and so is every one
/// opened before it (at their next checkout). Returns whether it was such a
/// failure.
pub fn after<R>(generation: &AtomicU64, conn: &mut Pooled, outcome: &Result<R, Error>) -> bool {
    conn.last_used = Instant::now();
    let Err(e) = outcome else { return false };
    if !is_disconnect(e) {
        return false;
    }
    conn.broken = true;
    // Only the first failure of a generation moves it on: the others were
    // opened in it too and are dropped anyway.
    let _ = generation.compare_exchange(
        conn.generation,
        conn.generation + 1,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    log::warn!(
        "the database connection was lost ({}); opening new ones",
        e.chain()
    );
    true
}

/// Whether a failure means the connection itself is gone (the server
/// closed it, or a command could not be sent), rather than the query.
pub fn is_disconnect(e: &Error) -> bool {
    matches!(
        e,
        Error::Database(Diesel::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _
        ))
    )
}
