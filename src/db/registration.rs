//! Registration mails: one row per mail sent by `/register`. A pending
//! account carries the SHA-256 of its confirmation link's token (the token
//! itself is only in the mail); a note to an address that already has an
//! account carries none. Both kinds count towards the per-address limit on
//! mails, so the two answers cost the same and look the same.

use diesel::prelude::*;

use super::schema::registrations;
use super::DbConn;
use crate::domain::now;
use crate::domain::Email;
use crate::error::Result;

/// How long a row is kept after it stops being usable: the window of the
/// per-address limit on mails.
pub const MAIL_WINDOW: i64 = 3600;

/// A row: a mail sent by `/register`, with a link (pending account) or
/// without (a note to an address that has an account).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = registrations)]
pub struct RegistrationMail {
    /// The address the mail went to.
    pub email: String,
    /// Where to go once registered (a local path, checked when asked).
    pub next: Option<String>,
}

impl RegistrationMail {
    /// Call first in a transaction about `email`'s mails (counting and
    /// recording them, or spending a link): such transactions for one
    /// address are taken one after the other, so that the per-address limit
    /// holds and two links can't race. PostgreSQL takes an advisory lock on
    /// the address; on SQLite the sweep of rows past their use, a write,
    /// takes the database's write lock before anything is read (a
    /// transaction that reads first can't take it later if another wrote
    /// meanwhile).
    #[cfg_attr(not(feature = "postgres"), allow(unused_variables))]
    pub fn lock_address(conn: &mut DbConn, email: &Email) -> Result<()> {
        #[cfg(feature = "postgres")]
        if let DbConn::Postgres(pg) = conn {
            diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind::<diesel::sql_types::Text, _>(format!("registration:{}", email.as_str()))
                .execute(pg)?;
        }
        let now = now();
        diesel::delete(
            registrations::table
                .filter(registrations::created_at.lt(now - MAIL_WINDOW))
                .filter(registrations::expires_at.lt(now)),
        )
        .execute(conn)?;
        Ok(())
    }

    /// Records a mail to `email`: a confirmation link (with `token_hash`)
    /// valid for `lifetime` seconds, or a note (no hash). Returns the row's id.
    pub fn record(
        conn: &mut DbConn,
        email: &Email,
        token_hash: Option<&str>,
        next: Option<&str>,
        lifetime: i64,
    ) -> Result<i32> {
        let now = now();
        let expires_at = if token_hash.is_some() { now + lifetime } else { now };
        Ok(diesel::insert_into(registrations::table)
            .values((
                registrations::email.eq(email.as_str()),
                registrations::token_hash.eq(token_hash),
                registrations::next.eq(next),
                registrations::created_at.eq(now),
                registrations::expires_at.eq(expires_at),
            ))
            .returning(registrations::id)
            .get_result(conn)?)
    }

    /// Forgets a mail that could not be sent, so that it doesn't count
    /// towards the address's limit.
    pub fn forget(conn: &mut DbConn, id: i32) -> Result<()> {
        diesel::delete(registrations::table.find(id)).execute(conn)?;
        Ok(())
    }

    /// Spends a valid link and returns its row: the first statement of the
    /// transaction that makes the account, and a write, so that of two
    /// submissions of one link exactly one gets the row.
    pub fn claim(conn: &mut DbConn, token_hash: &str) -> Result<Option<Self>> {
        let now = now();
        Ok(diesel::update(
            registrations::table
                .filter(registrations::token_hash.eq(token_hash))
                .filter(registrations::expires_at.gt(now)),
        )
        .set((
            registrations::token_hash.eq(None::<String>),
            registrations::expires_at.eq(now),
        ))
        .returning((registrations::email, registrations::next))
        .get_result::<(String, Option<String>)>(conn)
        .optional()?
        .map(|(email, next)| Self { email, next }))
    }

    /// Mails sent to `email` within the last [`MAIL_WINDOW`].
    pub fn recent_mails(conn: &mut DbConn, email: &Email) -> Result<i64> {
        Ok(registrations::table
            .filter(registrations::email.eq(email.as_str()))
            .filter(registrations::created_at.ge(now() - MAIL_WINDOW))
            .count()
            .get_result(conn)?)
    }

    /// The pending account a link's token hash belongs to, while it is valid.
    pub fn find_valid(conn: &mut DbConn, token_hash: &str) -> Result<Option<Self>> {
        Ok(registrations::table
            .filter(registrations::token_hash.eq(token_hash))
            .filter(registrations::expires_at.gt(now()))
            .select(Self::as_select())
            .first(conn)
            .optional()?)
    }

    /// Spends every valid link sent to `email` (one account per address):
    /// the rows stay, for the per-address limit, but no longer confirm
    /// anything. Expired rows are left alone: they are the sweep's, and
    /// two transactions never lock the same rows in two orders.
    pub fn spend_all(conn: &mut DbConn, email: &str) -> Result<usize> {
        let now = now();
        Ok(diesel::update(
            registrations::table
                .filter(registrations::email.eq(email))
                .filter(registrations::token_hash.is_not_null())
                .filter(registrations::expires_at.gt(now)),
        )
        .set((
            registrations::token_hash.eq(None::<String>),
            registrations::expires_at.eq(now),
        ))
        .execute(conn)?)
    }
}
