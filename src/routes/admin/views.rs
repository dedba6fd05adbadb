//! What the admin pages and the admin API share: the users list's query
//! ([`UserQuery`]), the audit log's ([`AuditQuery`]), and a user as admins
//! see them ([`UserView`]).

use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use rocket::FromForm;
use serde::Serialize;

use crate::db::audit::AuditFilter;
use crate::db::user::{User, UserFilter, UserSort};
use crate::domain::text::check_line;
use crate::domain::{now, Role};
use crate::error::{Error, FieldErrors};
use crate::routes::passkeys::PasskeyView;
use crate::services::admin::MAX_PAGE;

/// A user as admins see them, on the pages and in the API.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: i32,
    pub email: String,
    pub name: String,
    pub role: String,
    pub disabled: bool,
    /// Locked after too many failed sign-ins.
    pub locked: bool,
    pub google_linked: bool,
    /// Whether sign-in asks for a two-factor code.
    pub two_factor: bool,
    /// `false` for an account that signs in only with Google.
    pub has_password: bool,
    pub must_change_password: bool,
    pub created_at: i64,
    pub last_sign_in_at: Option<i64>,
    /// Their passkeys, in the view of one user (not in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passkeys: Option<Vec<PasskeyView>>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            id: u.id,
            email: u.email.clone(),
            name: u.name.clone(),
            role: u.role.clone(),
            disabled: u.disabled,
            locked: u.is_locked(now()),
            google_linked: u.google_sub.is_some(),
            two_factor: u.two_factor_on(),
            has_password: u.password_hash.is_some(),
            must_change_password: u.must_change_password,
            created_at: u.created_at,
            last_sign_in_at: u.last_sign_in_at,
            passkeys: None,
        }
    }
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        UserView::from(&u)
    }
}

/// What to do with a value the list doesn't know: a page ignores it (a
/// hand-edited address gets the defaults), the API refuses it (422, naming
/// the parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unknown {
    Ignore,
    Refuse,
}

/// The users list's query string, for the page (`/admin/users`) and the API
/// (`/api/v1/admin/users`) alike. Every parameter is optional and an empty
/// one means "any".
#[derive(Debug, Default, FromForm)]
pub struct UserQuery {
    /// Part of the email or name.
    pub q: Option<String>,
    /// `user` or `admin`.
    pub role: Option<String>,
    /// `active` or `disabled` (the page's words).
    pub status: Option<String>,
    /// `true` or `false` (the API's words for `status`).
    pub disabled: Option<String>,
    /// `linked` or `unlinked` (or `true`, `false`).
    pub google: Option<String>,
    /// `email`, `name`, `created` or `last_sign_in`.
    pub sort: Option<String>,
    /// `asc` or `desc`.
    pub dir: Option<String>,
    pub page: Option<String>,
    /// The API's page size (1 to 100, 25 by default); pages show 25.
    pub per_page: Option<String>,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// `true`/`false` and the words the pages use for them.
fn flag(value: &str, yes: &str, no: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        v if v == yes => Some(true),
        v if v == no => Some(false),
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// A page number from 1 up; anything else is page 1.
pub fn page_number(value: &Option<String>) -> i64 {
    given(value)
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(1)
        .clamp(1, MAX_PAGE)
}

/// Reads the query's values, noting the unknown ones when they are refused.
struct Reader {
    unknown: Unknown,
    errors: FieldErrors,
}

impl Reader {
    fn read<T>(
        &mut self,
        field: &'static str,
        value: &Option<String>,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        let value = given(value)?;
        let parsed = parse(value);
        if parsed.is_none() && self.unknown == Unknown::Refuse {
            self.errors
                .add(field, format!("unknown value `{value}` (expected {expected})"));
        }
        parsed
    }
}

impl UserQuery {
    /// The search it asks for.
    pub fn filter(&self, unknown: Unknown) -> Result<UserFilter, Error> {
        let mut r = Reader {
            unknown,
            errors: FieldErrors::new(),
        };
        let role = r.read("role", &self.role, "user or admin", |v| v.parse::<Role>().ok());
        let status = r.read("status", &self.status, "active or disabled", |v| {
            flag(v, "disabled", "active")
        });
        let disabled = r.read("disabled", &self.disabled, "true or false", |v| {
            flag(v, "true", "false")
        });
        let google = r.read("google", &self.google, "linked or unlinked", |v| {
            flag(v, "linked", "unlinked")
        });
        let column = r.read("sort", &self.sort, "email, name, created or last_sign_in", |v| {
            v.parse().ok()
        });
        let descending = r.read("dir", &self.dir, "asc or desc", |v| match v {
            "asc" => Some(false),
            "desc" => Some(true),
            _ => None,
        });
        // Never ignored: a NUL can't be searched for (PostgreSQL refuses it).
        if let Err(message) = self.q.as_deref().map_or(Ok(()), check_line) {
            r.errors.add("q", message);
        }
        r.errors.into_result()?;
        Ok(UserFilter {
            q: self.q.clone().filter(|q| !q.trim().is_empty()),
            role,
            disabled: status.or(disabled),
            google,
            sort: UserSort {
                column: column.unwrap_or_default(),
                descending: descending.unwrap_or(false),
            },
        })
    }

    pub fn page(&self) -> i64 {
        page_number(&self.page)
    }

    /// The API's page size: 1 to 100, 25 by default.
    pub fn per_page(&self) -> i64 {
        given(&self.per_page)
            .and_then(|p| p.parse::<i64>().ok())
            .unwrap_or(25)
            .clamp(1, 100)
    }
}

/// The audit log's query string, for the page and the API: `user` (an id
/// or an email), `type` (an event kind), `from` and `to` (dates,
/// `YYYY-MM-DD`, UTC, both days included, or Unix seconds, `to` then
/// excluded), and `page`.
#[derive(Debug, Default, FromForm)]
pub struct AuditQuery {
    pub user: Option<String>,
    #[field(name = "type")]
    pub kind: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub page: Option<String>,
}

impl AuditQuery {
    pub fn filter(&self) -> Result<AuditFilter, FieldErrors> {
        AuditFilter::parse(
            self.user.as_deref(),
            self.kind.as_deref(),
            self.from.as_deref(),
            self.to.as_deref(),
        )
    }

    pub fn page(&self) -> i64 {
        page_number(&self.page)
    }
}

/// A value for a link's query string.
pub fn encode(value: &str) -> String {
    utf8_percent_encode(value, NON_ALPHANUMERIC).to_string()
}
