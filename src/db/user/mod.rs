//! Users: the one table every sign-in path ends at.

use diesel::prelude::*;
use serde::Serialize;

use super::schema::{sessions, users};
use super::session::Session;
use super::DbConn;
use crate::domain::now;
use crate::domain::{Email, Role};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
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
}

/// Which users an admin asks for, and in what order.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    /// Part of the email or name.
    pub q: Option<String>,
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    /// Linked to a Google account (or not).
    pub google: Option<bool>,
    pub sort: UserSort,
}

/// A column the users table can be sorted by: a closed list, so no input
/// ever reaches `ORDER BY`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortColumn {
    #[default]
    Email,
    Name,
    Created,
    LastSignIn,
}

impl SortColumn {
    pub const ALL: [SortColumn; 4] = [
        SortColumn::Email,
        SortColumn::Name,
        SortColumn::Created,
        SortColumn::LastSignIn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SortColumn::Email => "email",
            SortColumn::Name => "name",
            SortColumn::Created => "created",
            SortColumn::LastSignIn => "last_sign_in",
        }
    }
}

impl std::str::FromStr for SortColumn {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        SortColumn::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("unknown sort `{s}` (expected email, name, created or last_sign_in)"))
    }
}

/// A sort column and direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserSort {
    pub column: SortColumn,
    pub descending: bool,
}

/// What it takes to create a user.
pub struct NewUser {
    pub email: Email,
    pub name: String,
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
                users::name.eq(new.name.trim()),
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

    /// One page of users matching a filter, and how many match in all.
    ///
    /// Every part is served by an index, so it stays fast with 100,000
    /// users (see README, "Benchmark"): the text search by a trigram index
    /// (SQLite FTS5, PostgreSQL pg_trgm; both scan for queries under 3
    /// characters, which trigrams can't serve), sorting by the column's
    /// index, the Google filter by the `google_sub` index.
    pub fn search(
        conn: &mut DbConn,
        filter: &UserFilter,
        page: i64,
        per_page: i64,
    ) -> Result<(Vec<User>, i64)> {
        use diesel::sql_types::{Bool, Text};
        let q = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
        let offset = (page - 1).max(0) * per_page;
        // The same query on each backend, with its own text search.
        macro_rules! run {
            ($conn:expr, $search:expr) => {{
                let filtered = || {
                    let mut query = users::table.into_boxed();
                    if let Some(search) = $search {
                        query = query.filter(search);
                    }
                    if let Some(role) = filter.role {
                        query = query.filter(users::role.eq(role.as_str()));
                    }
                    if let Some(disabled) = filter.disabled {
                        query = query.filter(users::disabled.eq(disabled));
                    }
                    match filter.google {
                        Some(true) => query = query.filter(users::google_sub.is_not_null()),
                        Some(false) => query = query.filter(users::google_sub.is_null()),
                        None => {}
                    }
                    query
                };
                let total: i64 = filtered().count().get_result($conn)?;
                let users = filtered()
                    .order(order_by(filter.sort))
                    .limit(per_page)
                    .offset(offset)
                    .select(User::as_select())
                    .load($conn)?;
                Ok((users, total))
            }};
        }
        match conn {
            DbConn::Sqlite(c) => {
                type Search =
                    Box<dyn BoxableExpression<users::table, diesel::sqlite::Sqlite, SqlType = Bool>>;
                let search = || -> Option<Search> {
                    let q = q?;
                    if q.chars().count() >= 3 {
                        // A phrase of trigrams: matches where `q` is a substring.
                        let phrase = format!("\"{}\"", q.replace('"', "\"\""));
                        Some(Box::new(
                            diesel::dsl::sql::<Bool>(
                                "users.id IN (SELECT rowid FROM users_search WHERE users_search MATCH ",
                            )
                            .bind::<Text, _>(phrase)
                            .sql(")"),
                        ))
                    } else {
                        // Too short for trigrams: the start of the email,
                        // by its index (GLOB is case-sensitive, as the
                        // index is; emails are stored lower-cased).
                        Some(Box::new(
                            diesel::dsl::sql::<Bool>("users.email GLOB ").bind::<Text, _>(glob_prefix(q)),
                        ))
                    }
                };
                run!(c, search())
            }
            DbConn::Postgres(c) => {
                use diesel::PgTextExpressionMethods;
                type Search = Box<dyn BoxableExpression<users::table, diesel::pg::Pg, SqlType = Bool>>;
                let search = || -> Option<Search> {
                    let q = q?;
                    if q.chars().count() >= 3 {
                        let pattern = like_pattern(q);
                        Some(Box::new(
                            users::email.ilike(pattern.clone()).or(users::name.ilike(pattern)),
                        ))
                    } else {
                        // Under 3 characters pg_trgm has no trigram to look
                        // up: the start of the email, by its prefix index.
                        Some(Box::new(users::email.like(prefix_pattern(q)).escape('\\')))
                    }
                };
                run!(c, search())
            }
        }
    }

    /// Changes name and email (an admin's edit).
    pub fn update_profile(
        conn: &mut DbConn,
        id: i32,
        name: Option<&str>,
        email: Option<&Email>,
    ) -> Result<User> {
        conn.transaction(|conn| {
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

    /// Deletes a user (their sessions go with them). Refuses the last
    /// active admin.
    pub fn delete(conn: &mut DbConn, id: i32) -> Result<()> {
        conn.transaction(|conn| {
            let user = User::get(conn, id)?;
            if user.is_admin() && !user.disabled && User::lock_active_admins(conn)? <= 1 {
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
    /// until the transaction ends; SQLite lets one writer through at a time
    /// (the other's write fails rather than acting on a stale count).
    /// Call it inside the transaction that makes the change.
    pub fn lock_active_admins(conn: &mut DbConn) -> Result<i64> {
        match conn {
            DbConn::Postgres(c) => {
                let ids: Vec<i32> = users::table
                    .filter(users::role.eq(Role::Admin.as_str()))
                    .filter(users::disabled.eq(false))
                    .select(users::id)
                    .for_update()
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
        conn.transaction(|conn| {
            let user = User::get(conn, id)?;
            if user.is_admin()
                && role != Role::Admin
                && !user.disabled
                && User::lock_active_admins(conn)? <= 1
            {
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
        conn.transaction(|conn| {
            let user = User::get(conn, id)?;
            if disabled && user.is_admin() && !user.disabled && User::lock_active_admins(conn)? <= 1 {
                return Err(Error::Invalid("the last admin cannot be disabled".into()));
            }
            diesel::update(users::table.find(id))
                .set((users::disabled.eq(disabled), users::updated_at.eq(now())))
                .execute(conn)?;
            User::get(conn, id)
        })
    }

    pub fn set_name(conn: &mut DbConn, id: i32, name: &str) -> Result<()> {
        diesel::update(users::table.find(id))
            .set((users::name.eq(name.trim()), users::updated_at.eq(now())))
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
        Ok(())
    }

    /// Removes the link to a Google account. Refuses when the user has no
    /// password, which would leave them no way to sign in.
    pub fn unlink_google(conn: &mut DbConn, id: i32) -> Result<User> {
        conn.transaction(|conn| {
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

    pub fn set_password_hash(conn: &mut DbConn, id: i32, hash: &str) -> Result<()> {
        diesel::update(users::table.find(id))
            .set((
                users::password_hash.eq(hash),
                users::must_change_password.eq(false),
                users::updated_at.eq(now()),
            ))
            .execute(conn)?;
        Ok(())
    }

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
        match conn {
            DbConn::Sqlite(c) => c.immediate_transaction(|c| count!(c, users::table.find(id))),
            DbConn::Postgres(c) => c.transaction(|c| count!(c, users::table.find(id).for_update())),
        }
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
            DbConn::Postgres(c) => query!(c),
        })
    }
}

/// `%q%` for LIKE, with `q`'s own `%`, `_` and `\` matching themselves
/// (escaped with `\`, PostgreSQL's default and SQLite's `ESCAPE`).
fn like_pattern(q: &str) -> String {
    format!("%{}", prefix_pattern(q))
}

/// `q%` for LIKE with `\` as the escape: `q`'s own `%`, `_` and `\` match
/// themselves.
fn prefix_pattern(q: &str) -> String {
    let escaped = q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("{}%", escaped.to_lowercase())
}

/// `q*` for SQLite's GLOB, `q`'s own `*`, `?` and `[` matching themselves.
fn glob_prefix(q: &str) -> String {
    let mut out = String::new();
    for c in q.to_lowercase().chars() {
        match c {
            '*' | '?' | '[' => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            c => out.push(c),
        }
    }
    out.push('*');
    out
}

/// The `ORDER BY` of a sort: one of a fixed set of strings, never input.
/// The id breaks ties so pages never overlap; people who never signed in
/// come last either way (`NULLS LAST`, which SQLite and PostgreSQL both
/// understand, where their defaults differ).
fn order_by(sort: UserSort) -> diesel::expression::SqlLiteral<diesel::sql_types::Text> {
    let sql = match (sort.column, sort.descending) {
        (SortColumn::Email, false) => "users.email ASC",
        (SortColumn::Email, true) => "users.email DESC",
        (SortColumn::Name, false) => "users.name ASC, users.id ASC",
        (SortColumn::Name, true) => "users.name DESC, users.id DESC",
        (SortColumn::Created, false) => "users.created_at ASC, users.id ASC",
        (SortColumn::Created, true) => "users.created_at DESC, users.id DESC",
        (SortColumn::LastSignIn, false) => "users.last_sign_in_at ASC NULLS LAST, users.id ASC",
        (SortColumn::LastSignIn, true) => "users.last_sign_in_at DESC NULLS LAST, users.id DESC",
    };
    diesel::dsl::sql(sql)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_patterns_match_their_own_wildcards_literally() {
        assert_eq!(like_pattern("Ab"), "%ab%");
        assert_eq!(prefix_pattern("a_%\\"), "a\\_\\%\\\\%");
        assert_eq!(glob_prefix("A*?["), "a[*][?][[]*");
    }
}
