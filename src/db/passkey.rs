//! Passkeys' rows: each user's credentials (webauthn-rs's `Passkey` as
//! JSON, with what the pages show beside it) and the user handle their
//! authenticators keep. The ceremonies under way are in
//! [`super::passkey_challenge`].

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;

use super::schema::{passkey_sessions, passkey_users, passkeys, sessions};
use super::DbConn;
use crate::domain::now;
use crate::error::{Error, Result};

/// A registered passkey. `passkey` holds a public key and a counter:
/// nothing secret, but long, so `Debug` leaves it out.
#[derive(Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = passkeys)]
pub struct StoredPasskey {
    pub id: i32,
    pub user_id: i32,
    /// The credential id, base64url without padding.
    pub credential_id: String,
    pub name: String,
    /// webauthn-rs's `Passkey`, as JSON.
    #[serde(skip)]
    pub passkey: String,
    /// Synced (its key is copied elsewhere, e.g. a password manager), or
    /// bound to the device that made it.
    pub backed_up: bool,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

impl std::fmt::Debug for StoredPasskey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredPasskey")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("credential_id", &self.credential_id)
            .field("name", &self.name)
            .field("backed_up", &self.backed_up)
            .field("created_at", &self.created_at)
            .field("last_used_at", &self.last_used_at)
            .finish()
    }
}

/// A passkey to store.
pub struct NewPasskey<'a> {
    pub user_id: i32,
    pub credential_id: &'a str,
    pub name: &'a str,
    pub passkey: &'a str,
    pub backed_up: bool,
}

/// What the refusals of a taken name or credential say.
pub const NAME_TAKEN: &str = "You already have a passkey with that name: choose another.";
pub const CREDENTIAL_TAKEN: &str = "That passkey is already registered.";

impl StoredPasskey {
    /// A user's passkeys, oldest first.
    pub fn list(conn: &mut DbConn, user_id: i32) -> Result<Vec<StoredPasskey>> {
        Ok(passkeys::table
            .filter(passkeys::user_id.eq(user_id))
            .order((passkeys::created_at.asc(), passkeys::id.asc()))
            .select(StoredPasskey::as_select())
            .load(conn)?)
    }

    /// How many passkeys a user has.
    pub fn count(conn: &mut DbConn, user_id: i32) -> Result<i64> {
        Ok(passkeys::table
            .filter(passkeys::user_id.eq(user_id))
            .count()
            .get_result(conn)?)
    }

    /// The passkey with this credential id, whoever's it is.
    pub fn find_by_credential(conn: &mut DbConn, credential_id: &str) -> Result<Option<StoredPasskey>> {
        Ok(passkeys::table
            .filter(passkeys::credential_id.eq(credential_id))
            .select(StoredPasskey::as_select())
            .first(conn)
            .optional()?)
    }

    /// Stores a new passkey. A name the user already gave another, or a
    /// credential already registered, is refused (`Error::Invalid`).
    pub fn insert(conn: &mut DbConn, new: NewPasskey<'_>) -> Result<StoredPasskey> {
        // Looked for first: on PostgreSQL a failed insert ends the
        // transaction it is in.
        let name_taken = passkeys::table
            .filter(passkeys::user_id.eq(new.user_id))
            .filter(passkeys::name.eq(new.name))
            .count()
            .get_result::<i64>(conn)?
            > 0;
        if name_taken {
            return Err(Error::Invalid(NAME_TAKEN.into()));
        }
        if Self::find_by_credential(conn, new.credential_id)?.is_some() {
            return Err(Error::Invalid(CREDENTIAL_TAKEN.into()));
        }
        diesel::insert_into(passkeys::table)
            .values((
                passkeys::user_id.eq(new.user_id),
                passkeys::credential_id.eq(new.credential_id),
                passkeys::name.eq(new.name),
                passkeys::passkey.eq(new.passkey),
                passkeys::backed_up.eq(new.backed_up),
                passkeys::created_at.eq(now()),
            ))
            .returning(passkeys::all_columns)
            .get_result::<StoredPasskey>(conn)
            .map_err(|e| match e {
                DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                    Error::Invalid(NAME_TAKEN.into())
                }
                e => e.into(),
            })
    }

    /// Renames one of a user's passkeys; `None` when they have no such
    /// passkey.
    pub fn rename(conn: &mut DbConn, user_id: i32, id: i32, name: &str) -> Result<Option<StoredPasskey>> {
        let taken = passkeys::table
            .filter(passkeys::user_id.eq(user_id))
            .filter(passkeys::name.eq(name))
            .filter(passkeys::id.ne(id))
            .count()
            .get_result::<i64>(conn)?
            > 0;
        if taken {
            return Err(Error::Invalid(NAME_TAKEN.into()));
        }
        diesel::update(
            passkeys::table
                .filter(passkeys::id.eq(id))
                .filter(passkeys::user_id.eq(user_id)),
        )
        .set(passkeys::name.eq(name))
        .returning(passkeys::all_columns)
        .get_result::<StoredPasskey>(conn)
        .optional()
        .map_err(|e| match e {
            // The same name given to another passkey at the same moment.
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                Error::Invalid(NAME_TAKEN.into())
            }
            e => e.into(),
        })
    }

    /// Removes one of a user's passkeys; returns it, or `None` when they
    /// have no such passkey.
    /// Notes that a session was started by this passkey.
    pub fn started_session(conn: &mut DbConn, id: i32, session_id: &str) -> Result<()> {
        diesel::insert_into(passkey_sessions::table)
            .values((
                passkey_sessions::session_id.eq(session_id),
                passkey_sessions::passkey_id.eq(id),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// Signs out the active sessions this passkey started, but `keep`; how
    /// many.
    pub fn revoke_sessions(conn: &mut DbConn, id: i32, keep: Option<&str>) -> Result<usize> {
        let started = passkey_sessions::table
            .filter(passkey_sessions::passkey_id.eq(id))
            .select(passkey_sessions::session_id);
        Ok(diesel::update(
            sessions::table
                .filter(sessions::id.eq_any(started))
                .filter(sessions::id.ne(keep.unwrap_or("")))
                .filter(sessions::revoked_at.is_null()),
        )
        .set(sessions::revoked_at.eq(now()))
        .execute(conn)?)
    }

    pub fn delete(conn: &mut DbConn, user_id: i32, id: i32) -> Result<Option<StoredPasskey>> {
        Ok(diesel::delete(
            passkeys::table
                .filter(passkeys::id.eq(id))
                .filter(passkeys::user_id.eq(user_id)),
        )
        .returning(passkeys::all_columns)
        .get_result::<StoredPasskey>(conn)
        .optional()?)
    }

    /// After a sign-in: the updated credential (its counter, its backup
    /// flags) and when it was used.
    pub fn record_use(
        conn: &mut DbConn,
        id: i32,
        read: &str,
        passkey: &str,
        backed_up: bool,
    ) -> Result<bool> {
        let updated = diesel::update(passkeys::table.find(id).filter(passkeys::passkey.eq(read)))
            .set((
                passkeys::passkey.eq(passkey),
                passkeys::backed_up.eq(backed_up),
                passkeys::last_used_at.eq(now()),
            ))
            .execute(conn)?;
        Ok(updated == 1)
    }
}

/// The WebAuthn user handle of an account: a random UUID, made with its
/// first passkey, kept when they are all removed (authenticators may still
/// hold it).
pub struct UserHandle;

impl UserHandle {
    /// The user's handle, made now if they have none.
    pub fn find_or_create(conn: &mut DbConn, user_id: i32) -> Result<uuid::Uuid> {
        let existing = passkey_users::table
            .find(user_id)
            .select(passkey_users::handle)
            .first::<String>(conn)
            .optional()?;
        if let Some(handle) = existing.and_then(|h| uuid::Uuid::parse_str(&h).ok()) {
            return Ok(handle);
        }
        // Two first registrations at once: the first handle stays, and
        // both passkeys get it (a replaced handle would orphan one).
        // (In a savepoint: on PostgreSQL a refused insert would otherwise
        // end the transaction it is in.)
        let inserted = conn.write(|conn| {
            diesel::insert_into(passkey_users::table)
                .values((
                    passkey_users::user_id.eq(user_id),
                    passkey_users::handle.eq(uuid::Uuid::new_v4().to_string()),
                ))
                .execute(conn)
        });
        match inserted {
            Ok(_) | Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {}
            Err(e) => return Err(e.into()),
        }
        let handle = passkey_users::table
            .find(user_id)
            .select(passkey_users::handle)
            .first::<String>(conn)?;
        uuid::Uuid::parse_str(&handle)
            .map_err(|e| Error::Config(format!("passkey handle of user {user_id}: {e}")))
    }

    /// The account a handle belongs to.
    pub fn user_id(conn: &mut DbConn, handle: &uuid::Uuid) -> Result<Option<i32>> {
        Ok(passkey_users::table
            .filter(passkey_users::handle.eq(handle.to_string()))
            .select(passkey_users::user_id)
            .first(conn)
            .optional()?)
    }
}
