//! Passkey ceremonies under way: webauthn-rs's state, kept server-side,
//! found by the SHA-256 of the id the client holds, taken once.

use diesel::prelude::*;

use super::schema::passkey_challenges;
use super::DbConn;
use crate::domain::now;
use crate::error::Result;

/// What a ceremony is for: a challenge of one purpose is refused at
/// another's finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Register,
    Login,
    SecondFactor,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Register => "register",
            Purpose::Login => "login",
            Purpose::SecondFactor => "second_factor",
        }
    }
}

/// A stored ceremony. `state` is webauthn-rs's registration or
/// authentication state as JSON (its challenge: not printed).
#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = passkey_challenges)]
pub struct Challenge {
    /// The SHA-256 of the id the client holds.
    pub id: String,
    pub purpose: String,
    /// Whose ceremony it is (registration, second factor); none for a
    /// discoverable sign-in.
    pub user_id: Option<i32>,
    /// The SHA-256 of the browser's anonymous CSRF value; none for the
    /// JSON API.
    pub bind: Option<String>,
    pub state: String,
    pub expires_at: i64,
}

impl std::fmt::Debug for Challenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Challenge")
            .field("purpose", &self.purpose)
            .field("user_id", &self.user_id)
            .field("state", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A ceremony to store.
pub struct NewChallenge<'a> {
    pub id_hash: &'a str,
    pub purpose: Purpose,
    pub user_id: Option<i32>,
    pub bind: Option<&'a str>,
    pub state: &'a str,
    pub lifetime: i64,
}

impl Challenge {
    /// Stores a ceremony, sweeping the expired ones first.
    pub fn insert(conn: &mut DbConn, new: NewChallenge<'_>) -> Result<()> {
        let now = now();
        diesel::delete(passkey_challenges::table.filter(passkey_challenges::expires_at.le(now)))
            .execute(conn)?;
        diesel::insert_into(passkey_challenges::table)
            .values((
                passkey_challenges::id.eq(new.id_hash),
                passkey_challenges::purpose.eq(new.purpose.as_str()),
                passkey_challenges::user_id.eq(new.user_id),
                passkey_challenges::bind.eq(new.bind),
                passkey_challenges::state.eq(new.state),
                passkey_challenges::expires_at.eq(now + new.lifetime),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// Takes a ceremony: the row is deleted as it is read (one statement),
    /// so two finishes racing with the same id can't both have it. Expired
    /// or not: the caller refuses an expired one.
    pub fn take(conn: &mut DbConn, id_hash: &str) -> Result<Option<Challenge>> {
        Ok(
            diesel::delete(passkey_challenges::table.filter(passkey_challenges::id.eq(id_hash)))
                .returning(passkey_challenges::all_columns)
                .get_result::<Challenge>(conn)
                .optional()?,
        )
    }

    /// Whether it is past its time.
    pub fn expired(&self) -> bool {
        self.expires_at <= now()
    }
}
