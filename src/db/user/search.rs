//! The admin's list of users: filters, sort columns and the one paged
//! search query, with each backend's text search.

use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use super::User;
use crate::db::schema::users;
use crate::db::DbConn;
use crate::domain::Role;
use crate::error::Result;

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

impl User {
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
            DbConn::Sqlite(c) => run!(c, sqlite_text_search(q)),
            #[cfg(feature = "postgres")]
            DbConn::Postgres(c) => run!(c, postgres_text_search(q)),
        }
    }
}

type SqliteSearch = Box<dyn BoxableExpression<users::table, diesel::sqlite::Sqlite, SqlType = Bool>>;
#[cfg(feature = "postgres")]
type PostgresSearch = Box<dyn BoxableExpression<users::table, diesel::pg::Pg, SqlType = Bool>>;

/// SQLite's text search for `q`: FTS5 trigrams, or an email prefix.
fn sqlite_text_search(q: Option<&str>) -> Option<SqliteSearch> {
    let q = q?;
    if q.chars().count() >= 3 {
        // A phrase of trigrams: matches where `q` is a substring.
        let phrase = format!("\"{}\"", q.replace('"', "\"\""));
        Some(Box::new(
            diesel::dsl::sql::<Bool>("users.id IN (SELECT rowid FROM users_search WHERE users_search MATCH ")
                .bind::<Text, _>(phrase)
                .sql(")"),
        ))
    } else {
        // Too short for trigrams: the start of the email, by its index (GLOB
        // is case-sensitive, as the index is; emails are stored with their
        // ASCII letters lower-cased, see `Email`).
        Some(Box::new(
            diesel::dsl::sql::<Bool>("users.email GLOB ").bind::<Text, _>(glob_prefix(q)),
        ))
    }
}

/// PostgreSQL's text search for `q`: `ILIKE` (pg_trgm), or an email prefix.
#[cfg(feature = "postgres")]
fn postgres_text_search(q: Option<&str>) -> Option<PostgresSearch> {
    use diesel::PgTextExpressionMethods;
    let q = q?;
    if q.chars().count() >= 3 {
        let pattern = like_pattern(q);
        Some(Box::new(
            users::email.ilike(pattern.clone()).or(users::name.ilike(pattern)),
        ))
    } else {
        // Under 3 characters pg_trgm has no trigram to look up: the start of
        // the email, by its prefix index.
        Some(Box::new(users::email.like(prefix_pattern(q)).escape('\\')))
    }
}

/// `%q%` for LIKE, with `q`'s own `%`, `_` and `\` matching themselves
/// (escaped with `\`, PostgreSQL's default and SQLite's `ESCAPE`).
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
fn like_pattern(q: &str) -> String {
    format!("%{}", prefix_pattern(q))
}

/// `q%` for LIKE with `\` as the escape: `q`'s own `%`, `_` and `\` match
/// themselves.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
fn prefix_pattern(q: &str) -> String {
    let escaped = q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("{}%", escaped.to_ascii_lowercase())
}

/// `q*` for SQLite's GLOB, `q`'s own `*`, `?` and `[` matching themselves.
fn glob_prefix(q: &str) -> String {
    let mut out = String::new();
    for c in q.to_ascii_lowercase().chars() {
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
