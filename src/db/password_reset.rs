//! Forgotten-password mails: one row per mail sent by `/password/forgot`.
//! A reset link carries the SHA-256 of its token (the token itself is only
//! in the mail) and the account it resets; a note (no account, a disabled
//! account) carries neither. Both kinds count towards the per-address limit
//! on mails, so every answer costs the same and looks the same.

use diesel::prelude::*;

use super::schema::password_resets;
use super::DbConn;
use crate::domain::now;
use crate::domain::Email;
use crate::error::Result;

/// How long a row is kept after it stops being usable: the window of the
/// per-address limit on mails.
pub const MAIL_WINDOW: i64 = 3600;

/// A valid reset link: the account it resets, and where to go after.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = password_resets)]
pub struct ResetMail {
    /// The address the mail went to.
    pub email: String,
    /// The account the link resets (`None` only for notes, which are never
    /// valid links).
    pub user_id: Option<i32>,
    /// Where to go once signed in (a local path, checked when asked).
    pub next: Option<String>,
}

impl ResetMail {
    /// Call first in a transaction about `email`'s mails (counting and
    /// recording them, or spending a link): such transactions for one
    /// address are taken one after the other, so that the per-address limit
    /// holds and two links can't race. PostgreSQL takes an advisory lock on
    /// the address; on SQLite the sweep of rows past their use, a write,
    /// takes the database's write lock before anything is read.
    #[cfg_attr(not(feature = "postgres"), allow(unused_variables))]
    pub fn lock_address(conn: &mut DbConn, email: &str) -> Result<()> {
        #[cfg(feature = "postgres")]
        if let DbConn::Postgres(pg) = conn {
            diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind::<diesel::sql_types::Text, _>(format!("password_reset:{email}"))
                .execute(pg)?;
        }
        let now = now();
        diesel::delete(
            password_resets::table
                .filter(password_resets::created_at.lt(now - MAIL_WINDOW))
                .filter(password_resets::expires_at.lt(now)),
        )
        .execute(conn)?;
        Ok(())
    }

    /// Records a mail to `email`: a reset link for `user_id` (with
    /// `token_hash`) valid for `lifetime` seconds, or a note (neither).
    /// Returns the row's id.
    pub fn record(
        conn: &mut DbConn,
        email: &Email,
        link: Option<(i32, &str)>,
        next: Option<&str>,
        lifetime: i64,
    ) -> Result<i32> {
        let now = now();
        let expires_at = if link.is_some() { now + lifetime } else { now };
        Ok(diesel::insert_into(password_resets::table)
            .values((
                password_resets::email.eq(email.as_str()),
                password_resets::user_id.eq(link.map(|(id, _)| id)),
                password_resets::token_hash.eq(link.map(|(_, hash)| hash)),
                password_resets::next.eq(next),
                password_resets::created_at.eq(now),
                password_resets::expires_at.eq(expires_at),
            ))
            .returning(password_resets::id)
            .get_result(conn)?)
    }

    /// Forgets a mail that could not be sent, so that it doesn't count
    /// towards the address's limit.
    pub fn forget(conn: &mut DbConn, id: i32) -> Result<()> {
        diesel::delete(password_resets::table.find(id)).execute(conn)?;
        Ok(())
    }

    /// Spends a valid link and returns its row: a write, so that of two
    /// submissions of one link exactly one gets the row.
    pub fn claim(conn: &mut DbConn, token_hash: &str) -> Result<Option<Self>> {
        let now = now();
        Ok(diesel::update(
            password_resets::table
                .filter(password_resets::token_hash.eq(token_hash))
                .filter(password_resets::expires_at.gt(now)),
        )
        .set((
            password_resets::token_hash.eq(None::<String>),
            password_resets::expires_at.eq(now),
        ))
        .returning((
            password_resets::email,
            password_resets::user_id,
            password_resets::next,
        ))
        .get_result::<(String, Option<i32>, Option<String>)>(conn)
        .optional()?
        .map(|(email, user_id, next)| Self { email, user_id, next }))
    }

    /// Mails sent to `email` within the last [`MAIL_WINDOW`].
    pub fn recent_mails(conn: &mut DbConn, email: &Email) -> Result<i64> {
        Ok(password_resets::table
            .filter(password_resets::email.eq(email.as_str()))
            .filter(password_resets::created_at.ge(now() - MAIL_WINDOW))
            .count()
            .get_result(conn)?)
    }

    /// The link a token hash belongs to, while it is valid.
    pub fn find_valid(conn: &mut DbConn, token_hash: &str) -> Result<Option<Self>> {
        Ok(password_resets::table
            .filter(password_resets::token_hash.eq(token_hash))
            .filter(password_resets::expires_at.gt(now()))
            .select(Self::as_select())
            .first(conn)
            .optional()?)
    }

    /// Spends every valid link of an account (once one is used, or the
    /// password is set otherwise): the rows stay, for the per-address limit,
    /// but no longer reset anything. Expired rows are left to the sweep.
    pub fn spend_all(conn: &mut DbConn, user_id: i32) -> Result<usize> {
        let now = now();
        Ok(diesel::update(
            password_resets::table
                .filter(password_resets::user_id.eq(user_id))
                .filter(password_resets::token_hash.is_not_null())
                .filter(password_resets::expires_at.gt(now)),
        )
        .set((
            password_resets::token_hash.eq(None::<String>),
            password_resets::expires_at.eq(now),
        ))
        .execute(conn)?)
    }
}
