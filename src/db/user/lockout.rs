//! Failed sign-ins: counting them per account, locking the account after
//! too many, lifting the lock, and clearing the count at a sign-in.

use diesel::prelude::*;

use super::User;
use crate::db::schema::users;
use crate::db::DbConn;
use crate::domain::now;
use crate::error::{Error, Result};

impl User {
    /// A sign-in that succeeded: notes when, and clears the failure count.
    pub fn record_sign_in(conn: &mut DbConn, id: i32) -> Result<()> {
        diesel::update(users::table.find(id))
            .set((
                users::last_sign_in_at.eq(now()),
                users::failed_logins.eq(0),
                users::failed_window_start.eq(None::<i64>),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// Whether sign-in is paused for this account.
    pub fn is_locked(&self, now: i64) -> bool {
        self.locked_until.is_some_and(|until| until > now)
    }

    /// Counts a failed sign-in in the current window; at `max` failures the
    /// account is locked for `lockout` seconds. Returns whether this failure
    /// locked it. Done in one transaction so that instances sharing the
    /// database count together.
    pub fn record_failure(conn: &mut DbConn, id: i32, max: i32, window: i64, lockout: i64) -> Result<bool> {
        // Concurrent failures for one account are counted one after the
        // other: SQLite takes its write lock up front (IMMEDIATE), PostgreSQL
        // locks the row (FOR UPDATE). A lost update would let guesses through.
        macro_rules! count {
            ($conn:expr, $query:expr) => {{
                let user: User = $query.select(User::as_select()).first($conn)?;
                let now = now();
                let in_window = user
                    .failed_window_start
                    .is_some_and(|start| now - start < window);
                let (start, count) = match user.failed_window_start {
                    Some(start) if in_window => (start, user.failed_logins + 1),
                    _ => (now, 1),
                };
                let lock = count >= max && !user.is_locked(now);
                diesel::update(users::table.find(id))
                    .set((
                        users::failed_logins.eq(if lock { 0 } else { count }),
                        users::failed_window_start.eq(if lock { None } else { Some(start) }),
                        users::locked_until.eq(if lock {
                            Some(now + lockout)
                        } else {
                            user.locked_until
                        }),
                    ))
                    .execute($conn)?;
                Ok::<bool, Error>(lock)
            }};
        }
        conn.write(|conn| match conn {
            DbConn::Sqlite(c) => count!(c, users::table.find(id)),
            #[cfg(feature = "postgres")]
            DbConn::Postgres(c) => count!(c, users::table.find(id).for_update()),
        })
    }

    /// Lifts a lockout (an admin's action).
    pub fn unlock(conn: &mut DbConn, id: i32) -> Result<()> {
        diesel::update(users::table.find(id))
            .set((
                users::locked_until.eq(None::<i64>),
                users::failed_logins.eq(0),
                users::failed_window_start.eq(None::<i64>),
            ))
            .execute(conn)?;
        Ok(())
    }
}
