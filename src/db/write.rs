//! Write transactions: the one way to open a transaction in Gatehouse
//! (clippy refuses diesel's `Connection::transaction`, see `clippy.toml`).
//!
//! SQLite's plain `BEGIN` is deferred: the transaction reads under a shared
//! lock and asks for the write lock at its first write. If another
//! connection holds it, or wrote since this one's read, SQLite can't let
//! it wait (what it read may be stale) and answers "database is locked" at
//! once, busy timeout or not: under concurrent writes, a transaction that
//! read before writing failed (a 500, or the command line exiting 1).
//! `BEGIN IMMEDIATE` takes the write lock first, waiting its turn under
//! the busy timeout, so writers queue instead of failing.
//!
//! PostgreSQL's transactions see other writers' commits between statements
//! (READ COMMITTED): a check that reads then writes locks what it reads
//! (`FOR UPDATE`, or an advisory lock), see `User::lock_active_admins`.

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::result::Error as Diesel;
use diesel::Connection;

use super::DbConn;

type Manager = <DbConn as Connection>::TransactionManager;

impl DbConn {
    /// Runs `f` in a transaction that can write: committed if `f` returns
    /// `Ok`, rolled back if it returns `Err`. On SQLite it begins with
    /// `BEGIN IMMEDIATE` (see the module's doc); inside another
    /// transaction it is a savepoint of it.
    pub fn write<R, E>(&mut self, f: impl FnOnce(&mut DbConn) -> Result<R, E>) -> Result<R, E>
    where
        E: From<Diesel>,
    {
        let depth = Manager::transaction_manager_status_mut(self).transaction_depth()?;
        if depth.is_some() {
            // A savepoint: the outer transaction already is a writer.
            #[allow(clippy::disallowed_methods)]
            return self.transaction(f);
        }
        match self {
            DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?,
            #[cfg(feature = "postgres")]
            DbConn::Postgres(c) => AnsiTransactionManager::begin_transaction(c)?,
        }
        // As diesel's own `transaction`, from here on.
        match f(self) {
            Ok(value) => {
                Manager::commit_transaction(self)?;
                Ok(value)
            }
            Err(error) => match Manager::rollback_transaction(self) {
                Ok(()) | Err(Diesel::BrokenTransactionManager) => Err(error),
                Err(rollback) => Err(rollback.into()),
            },
        }
    }
}
