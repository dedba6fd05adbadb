//! Two-factor sign-in's rows: a user's TOTP secret (pending until
//! `users.totp_enabled_at` is set) with the last step a code was accepted
//! for, and their single-use recovery codes (as SHA-256 hashes).

use std::fmt;

use diesel::prelude::*;

use super::schema::{recovery_codes, totp_secrets, users};
use super::DbConn;
use crate::domain::now;
use crate::error::Result;

/// A user's TOTP secret (base32). Never printed.
#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = totp_secrets)]
pub struct TotpSecret {
    pub user_id: i32,
    pub secret: String,
    /// The last 30-second step a code was accepted for: codes of this step
    /// or an earlier one are refused (RFC 6238 §5.2: one use per code).
    pub last_step: Option<i64>,
    pub created_at: i64,
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TotpSecret")
            .field("user_id", &self.user_id)
            .field("secret", &"[redacted]")
            .field("last_step", &self.last_step)
            .field("created_at", &self.created_at)
            .finish()
    }
}

impl TotpSecret {
    pub fn find(conn: &mut DbConn, user_id: i32) -> Result<Option<TotpSecret>> {
        Ok(totp_secrets::table
            .find(user_id)
            .select(TotpSecret::as_select())
            .first(conn)
            .optional()?)
    }

    /// Stores a new (pending) secret for a user, replacing any earlier one.
    pub fn replace(conn: &mut DbConn, user_id: i32, secret: &str) -> Result<()> {
        diesel::delete(totp_secrets::table.find(user_id)).execute(conn)?;
        diesel::insert_into(totp_secrets::table)
            .values((
                totp_secrets::user_id.eq(user_id),
                totp_secrets::secret.eq(secret),
                totp_secrets::created_at.eq(now()),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// Records that a code of `step` was accepted, unless one of this step
    /// or a later one already was (then `false`: the code is a replay). One
    /// conditional update, so two requests racing with the same code can't
    /// both win.
    pub fn use_step(conn: &mut DbConn, user_id: i32, step: i64) -> Result<bool> {
        let updated = diesel::update(
            totp_secrets::table.find(user_id).filter(
                totp_secrets::last_step
                    .is_null()
                    .or(totp_secrets::last_step.lt(step)),
            ),
        )
        .set(totp_secrets::last_step.eq(step))
        .execute(conn)?;
        Ok(updated == 1)
    }

    /// Turns two-factor sign-in on (the pending secret becomes the one).
    pub fn enable(conn: &mut DbConn, user_id: i32) -> Result<()> {
        let now = now();
        diesel::update(users::table.find(user_id))
            .set((users::totp_enabled_at.eq(now), users::updated_at.eq(now)))
            .execute(conn)?;
        Ok(())
    }

    /// Turns two-factor sign-in off: the secret and recovery codes go.
    /// Returns whether it was on.
    pub fn disable(conn: &mut DbConn, user_id: i32) -> Result<bool> {
        let was_on = diesel::update(
            users::table
                .find(user_id)
                .filter(users::totp_enabled_at.is_not_null()),
        )
        .set((
            users::totp_enabled_at.eq(None::<i64>),
            users::updated_at.eq(now()),
        ))
        .execute(conn)?
            == 1;
        diesel::delete(totp_secrets::table.find(user_id)).execute(conn)?;
        diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id))).execute(conn)?;
        Ok(was_on)
    }
}

/// A user's recovery codes.
pub struct RecoveryCodes;

impl RecoveryCodes {
    /// Replaces a user's recovery codes with new ones (their hashes).
    pub fn replace(conn: &mut DbConn, user_id: i32, hashes: &[String]) -> Result<()> {
        diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id))).execute(conn)?;
        for hash in hashes {
            diesel::insert_into(recovery_codes::table)
                .values((
                    recovery_codes::user_id.eq(user_id),
                    recovery_codes::code_hash.eq(hash),
                ))
                .execute(conn)?;
        }
        Ok(())
    }

    /// Spends the unused code with this hash, if the user has one: `true`
    /// when it was there (and is now used). One conditional update, so a
    /// code can't be spent twice by racing requests.
    pub fn spend(conn: &mut DbConn, user_id: i32, hash: &str) -> Result<bool> {
        let updated = diesel::update(
            recovery_codes::table
                .filter(recovery_codes::user_id.eq(user_id))
                .filter(recovery_codes::code_hash.eq(hash))
                .filter(recovery_codes::used_at.is_null()),
        )
        .set(recovery_codes::used_at.eq(now()))
        .execute(conn)?;
        Ok(updated >= 1)
    }

    /// How many unused codes a user has left.
    pub fn remaining(conn: &mut DbConn, user_id: i32) -> Result<i64> {
        Ok(recovery_codes::table
            .filter(recovery_codes::user_id.eq(user_id))
            .filter(recovery_codes::used_at.is_null())
            .count()
            .get_result(conn)?)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn debug_never_prints_the_secret() {
        let secret = super::TotpSecret {
            user_id: 1,
            secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP".into(),
            last_step: None,
            created_at: 0,
        };
        let debug = format!("{secret:?}");
        assert!(
            !debug.contains("JBSWY3DP") && debug.contains("[redacted]"),
            "{debug}"
        );
    }
}
