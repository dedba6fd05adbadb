//! The last active admin: counting admins (locked against two admins
//! changing each other at once) and the changes that must leave one.

use diesel::prelude::*;

use super::User;
use crate::db::schema::users;
use crate::db::DbConn;
use crate::domain::{now, Role};
use crate::error::{Error, Result};

impl User {
    /// Deletes a user (their sessions go with them). Refuses the last
    /// active admin.
    pub fn delete(conn: &mut DbConn, id: i32) -> Result<()> {
        conn.write(|conn| {
            let admins = User::lock_active_admins(conn)?;
            let user = User::get(conn, id)?;
            if user.is_admin() && !user.disabled && admins <= 1 {
                return Err(Error::Invalid("the last admin cannot be deleted".into()));
            }
            diesel::delete(users::table.find(id)).execute(conn)?;
            Ok(())
        })
    }

    /// Counts for the admin dashboard: all users, admins, disabled.
    pub fn counts(conn: &mut DbConn) -> Result<(i64, i64, i64)> {
        let all = users::table.count().get_result(conn)?;
        let admins = users::table
            .filter(users::role.eq(Role::Admin.as_str()))
            .count()
            .get_result(conn)?;
        let disabled = users::table
            .filter(users::disabled.eq(true))
            .count()
            .get_result(conn)?;
        Ok((all, admins, disabled))
    }

    /// The active admins, counted so that two admins changing each other at
    /// once can't both pass the last-admin check: PostgreSQL locks their rows
    /// against updates (in id order, so two such transactions can't
    /// deadlock) until the transaction ends, and the one that waited counts
    /// again what the other committed; on SQLite the transaction is the only
    /// writer ([`DbConn::write`] begins IMMEDIATE).
    ///
    /// Call it in a [`DbConn::write`] transaction, before its first write and
    /// before reading the rows the check is about: a transaction that has
    /// already changed an admin's row and then waits here for another that
    /// did the same would deadlock.
    pub fn lock_active_admins(conn: &mut DbConn) -> Result<i64> {
        match conn {
            #[cfg(feature = "postgres")]
            DbConn::Postgres(c) => {
                let ids: Vec<i32> = users::table
                    .filter(users::role.eq(Role::Admin.as_str()))
                    .filter(users::disabled.eq(false))
                    .select(users::id)
                    .order(users::id)
                    // Not `FOR UPDATE`: that also stops the key-share lock
                    // an audit event's foreign key takes on its actor, so
                    // a transaction that changed a user and then recorded
                    // the admin who did it deadlocked with this one.
                    .for_no_key_update()
                    .load(c)?;
                Ok(ids.len() as i64)
            }
            DbConn::Sqlite(_) => User::count_admins(conn),
        }
    }

    pub fn count_admins(conn: &mut DbConn) -> Result<i64> {
        Ok(users::table
            .filter(users::role.eq(Role::Admin.as_str()))
            .filter(users::disabled.eq(false))
            .count()
            .get_result(conn)?)
    }

    /// Changes the role. Refuses to demote the last active admin, so nobody
    /// locks the whole site out of its admin area.
    pub fn set_role(conn: &mut DbConn, id: i32, role: Role) -> Result<User> {
        conn.write(|conn| {
            let admins = User::lock_active_admins(conn)?;
            let user = User::get(conn, id)?;
            if user.is_admin() && role != Role::Admin && !user.disabled && admins <= 1 {
                return Err(Error::Invalid("the last admin cannot be demoted".into()));
            }
            diesel::update(users::table.find(id))
                .set((users::role.eq(role.as_str()), users::updated_at.eq(now())))
                .execute(conn)?;
            User::get(conn, id)
        })
    }

    /// Disables or enables an account. Disabling refuses the last active
    /// admin. A disabled user's open sessions stop working on their next
    /// request, because every request checks this flag.
    pub fn set_disabled(conn: &mut DbConn, id: i32, disabled: bool) -> Result<User> {
        conn.write(|conn| {
            let admins = User::lock_active_admins(conn)?;
            let user = User::get(conn, id)?;
            if disabled && user.is_admin() && !user.disabled && admins <= 1 {
                return Err(Error::Invalid("the last admin cannot be disabled".into()));
            }
            diesel::update(users::table.find(id))
                .set((users::disabled.eq(disabled), users::updated_at.eq(now())))
                .execute(conn)?;
            User::get(conn, id)
        })
    }
}
