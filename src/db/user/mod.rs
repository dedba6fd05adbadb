//! Users: the one table every sign-in path ends at.

mod admins; // the last active admin: counting admins, the changes that must leave one
mod lockout; // failed sign-ins: counting, locking, unlocking
mod search; // the admin's list: filters, sort columns, the paged search

use std::fmt;

use diesel::prelude::*;
use serde::Serialize;

pub use search::{SortColumn, UserFilter, UserSort};

use super::password_reset::ResetMail;
use super::schema::{sessions, users};
use super::session::Session;
use super::DbConn;
use crate::domain::now;
use crate::domain::{DisplayName, Email, Role};
use crate::error::{Error, Result};

#[derive(Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i32,
    pub email: String,
    pub name: String,
    #[serde(skip)]
    pub password_hash: Option<String>,
    #[serde(skip)]
    pub google_sub: Option<String>,
    pub role: String,
    pub disabled: bool,
    pub must_change_password: bool,
    #[serde(skip)]
    pub failed_logins: i32,
    #[serde(skip)]
    pub locked_until: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_sign_in_at: Option<i64>,
    #[serde(skip)]
    pub failed_window_start: Option<i64>,
    /// When two-factor sign-in was turned on; `None` while it is off. (The
    /// secret is in `totp_secrets`, never read with the user.)
    pub totp_enabled_at: Option<i64>,
}

impl fmt::Debug for User {
    /// Never prints the password hash (only whether there is one).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("name", &self.name)
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "[redacted]"),
            )
            .field("google_sub", &self.google_sub)
            .field("role", &self.role)
            .field("disabled", &self.disabled)
            .field("must_change_password", &self.must_change_password)
            .field("failed_logins", &self.failed_logins)
            .field("locked_until", &self.locked_until)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .field("last_sign_in_at", &self.last_sign_in_at)
            .field("failed_window_start", &self.failed_window_start)
            .field("totp_enabled_at", &self.totp_enabled_at)
            .finish()
    }
}

/// What it takes to create a user.
pub struct NewUser {
    pub email: Email,
    pub name: DisplayName,
    /// `None` for an account that signs in only with Google.
    pub password_hash: Option<String>,
    pub role: Role,
}

impl User {
    pub fn role(&self) -> Role {
        self.role.parse().unwrap_or(Role::User)
    }

    pub fn is_admin(&self) -> bool {
        self.role() == Role::Admin
    }

    /// Whether sign-in asks this user for a second factor (a TOTP code or a
    /// recovery code) after the password.
    pub fn two_factor_on(&self) -> bool {
        self.totp_enabled_at.is_some()
    }

    /// The name to greet someone by: their display name, else their email.
    pub fn display_name(&self) -> &str {
        if self.name.trim().is_empty() {
            &self.email
        } else {
            &self.name
        }
    }

    pub fn create(conn: &mut DbConn, new: NewUser) -> Result<User> {
        let now = now();
        let inserted = diesel::insert_into(users::table)
            .values((
                users::email.eq(new.email.as_str()),
                users::name.eq(new.name.as_str()),
                users::password_hash.eq(new.password_hash.as_deref()),
                users::role.eq(new.role.as_str()),
                users::created_at.eq(now),
                users::updated_at.eq(now),
            ))
            .execute(conn);
        match inserted {
            Ok(_) => {}
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => return Err(Error::EmailTaken),
            Err(e) => return Err(e.into()),
        }
        User::find_by_email(conn, &new.email)?.ok_or(Error::NotFound)
    }

    pub fn find_by_email(conn: &mut DbConn, email: &Email) -> Result<Option<User>> {
        Ok(users::table
            .filter(users::email.eq(email.as_str()))
            .select(User::as_select())
            .first(conn)
            .optional()?)
    }

    /// The account linked to an OpenID Connect subject (Google's `sub`).
    pub fn find_by_google_sub(conn: &mut DbConn, sub: &str) -> Result<Option<User>> {
        Ok(users::table
            .filter(users::google_sub.eq(sub))
            .select(User::as_select())
            .first(conn)
            .optional()?)
    }

    /// Links an account to an OpenID Connect subject. Refuses an account
    /// already linked (to this subject or another).
    pub fn link_google(conn: &mut DbConn, id: i32, sub: &str) -> Result<User> {
        let linked = diesel::update(users::table.find(id).filter(users::google_sub.is_null()))
            .set((users::google_sub.eq(sub), users::updated_at.eq(now())))
            .execute(conn)?;
        if linked != 1 {
            return Err(Error::Invalid(
                "this account is already linked to a Google account".into(),
            ));
        }
        User::get(conn, id)
    }

    /// The user with this id, or `Error::NotFound`.
    pub fn get(conn: &mut DbConn, id: i32) -> Result<User> {
        User::find(conn, id)?.ok_or(Error::NotFound)
    }

    pub fn find(conn: &mut DbConn, id: i32) -> Result<Option<User>> {
        Ok(users::table
            .find(id)
            .select(User::as_select())
            .first(conn)
            .optional()?)
    }

    /// The emails of some users, by id (for naming them in the audit log).
    pub fn emails_by_ids(conn: &mut DbConn, ids: &[i32]) -> Result<Vec<(i32, String)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(users::table
            .filter(users::id.eq_any(ids))
            .select((users::id, users::email))
            .load(conn)?)
    }

    pub fn list(conn: &mut DbConn) -> Result<Vec<User>> {
        Ok(users::table
            .order(users::id.asc())
            .select(User::as_select())
            .load(conn)?)
    }

    /// Changes name and email (an admin's edit).
    pub fn update_profile(
        conn: &mut DbConn,
        id: i32,
        name: Option<&DisplayName>,
        email: Option<&Email>,
    ) -> Result<User> {
        conn.write(|conn| {
            User::get(conn, id)?;
            if let Some(name) = name {
                User::set_name(conn, id, name)?;
            }
            if let Some(email) = email {
                match diesel::update(users::table.find(id))
                    .set((users::email.eq(email.as_str()), users::updated_at.eq(now())))
                    .execute(conn)
                {
                    Ok(_) => {}
                    Err(diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::UniqueViolation,
                        _,
                    )) => return Err(Error::EmailTaken),
                    Err(e) => return Err(e.into()),
                }
            }
            User::get(conn, id)
        })
    }

    pub fn set_name(conn: &mut DbConn, id: i32, name: &DisplayName) -> Result<()> {
        diesel::update(users::table.find(id))
            .set((users::name.eq(name.as_str()), users::updated_at.eq(now())))
            .execute(conn)?;
        Ok(())
    }

    /// Sets a temporary password (an admin's create or reset): the user must
    /// choose their own at their next sign-in.
    pub fn set_temporary_password(conn: &mut DbConn, id: i32, hash: &str) -> Result<()> {
        diesel::update(users::table.find(id))
            .set((
                users::password_hash.eq(hash),
                users::must_change_password.eq(true),
                users::updated_at.eq(now()),
            ))
            .execute(conn)?;
        // A link mailed before the change must not undo it.
        ResetMail::spend_all(conn, id)?;
        Ok(())
    }

    /// Removes the link to a Google account. Refuses when the user has no
    /// password, which would leave them no way to sign in.
    pub fn unlink_google(conn: &mut DbConn, id: i32) -> Result<User> {
        conn.write(|conn| {
            let user = User::get(conn, id)?;
            if user.google_sub.is_none() {
                return Err(Error::Invalid(format!("{} is not linked to Google.", user.email)));
            }
            if user.password_hash.is_none() {
                return Err(Error::Invalid(format!(
                    "{} has no password: without Google they could not sign in. Reset their password first.",
                    user.email
                )));
            }
            diesel::update(users::table.find(id))
                .set((users::google_sub.eq(None::<String>), users::updated_at.eq(now())))
                .execute(conn)?;
            User::get(conn, id)
        })
    }

    /// Sets the user's own password. Every password reset link mailed
    /// before is spent: it must not undo the change.
    pub fn set_password_hash(conn: &mut DbConn, id: i32, hash: &str) -> Result<()> {
        diesel::update(users::table.find(id))
            .set((
                users::password_hash.eq(hash),
                users::must_change_password.eq(false),
                users::updated_at.eq(now()),
            ))
            .execute(conn)?;
        ResetMail::spend_all(conn, id)?;
        Ok(())
    }

    /// Replaces a hash with the same password's at another bcrypt cost,
    /// unless the hash changed since it was read (a new password wins).
    /// Touches nothing else: no session ends, no reset link is spent.
    pub fn rehash_password(conn: &mut DbConn, id: i32, old: &str, new: &str) -> Result<bool> {
        let updated = diesel::update(users::table.find(id).filter(users::password_hash.eq(old)))
            .set(users::password_hash.eq(new))
            .execute(conn)?;
        Ok(updated == 1)
    }

    /// The signed-in request's one query: the session by its primary key,
    /// joined to its user.
    ///
    /// Runs on the concrete connection so that its prepared statement is
    /// cached (`MultiConnection` prepares it anew each time), and without
    /// `LIMIT ?` (a primary key matches at most one row), whose binding
    /// makes SQLite re-prepare the statement: this is the hot path of every
    /// signed-in request.
    pub fn load_with_session(conn: &mut DbConn, session_id: &str) -> Result<Option<(Session, User)>> {
        macro_rules! query {
            ($conn:expr) => {
                sessions::table
                    .inner_join(users::table)
                    .filter(sessions::id.eq(session_id))
                    .select((Session::as_select(), User::as_select()))
                    .get_result($conn)
                    .optional()?
            };
        }
        Ok(match conn {
            DbConn::Sqlite(c) => query!(c),
            #[cfg(feature = "postgres")]
            DbConn::Postgres(c) => query!(c),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::User;

    #[test]
    fn debug_never_prints_the_password_hash() {
        let hash = "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW";
        let user = User {
            id: 1,
            email: "ada@example.com".into(),
            name: "Ada".into(),
            password_hash: Some(hash.into()),
            google_sub: None,
            role: "user".into(),
            disabled: false,
            must_change_password: false,
            failed_logins: 0,
            locked_until: None,
            created_at: 0,
            updated_at: 0,
            last_sign_in_at: None,
            failed_window_start: None,
            totp_enabled_at: None,
        };
        let debug = format!("{user:?}");
        assert!(!debug.contains(hash), "{debug}");
        assert!(!debug.contains("$2b$"), "{debug}");
        assert!(
            debug.contains("[redacted]") && debug.contains("ada@example.com"),
            "{debug}"
        );
    }
}
