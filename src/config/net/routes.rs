//! `white_list_routes` and `ignored_routes` (Flask-JWT-Router's
//! `WHITE_LIST_ROUTES` and `IGNORED_ROUTES`), checked at ignite into typed
//! entries. A white-list entry matches as written and, like
//! Flask-JWT-Router's entries under `JWT_ROUTER_API_NAME`, under
//! `api_prefix` (`["POST", "/register"]` also opens `/api/v1/register`).
//! Ignored routes bypass the check as written, for any method (a plain
//! path) or one method (`[method, path]`).

use rocket::http::Method;
use serde::{Deserialize, Serialize};

use crate::config::error::{bad, ConfigError};

/// An `ignored_routes` entry as written: a path, or `[method, path]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum RouteSetting {
    Path(String),
    Pair(String, String),
}

/// A path pattern: exact, or everything at and below a prefix (`/x/*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoutePattern {
    Exact(String),
    Below(String),
}

impl RoutePattern {
    /// Parses a configured path; `key` names the entry in errors.
    pub fn parse(key: &str, path: &str) -> Result<Self, ConfigError> {
        let fail = |why: &str| Err(bad(key, format!("`{path}` {why}")));
        if !path.starts_with('/') {
            return fail("is not a path (it starts with `/`)");
        }
        if path.contains(['?', '#', ' ']) {
            return fail("is not a path (no query, fragment or spaces)");
        }
        let pattern = match path.strip_suffix("/*") {
            Some(prefix) => RoutePattern::Below(prefix.to_owned()),
            None => RoutePattern::Exact(path.to_owned()),
        };
        let (RoutePattern::Exact(p) | RoutePattern::Below(p)) = &pattern;
        if p.contains('*') || p.contains(['<', '>']) {
            return fail("may only end in `/*` (everything below); no other wildcards");
        }
        Ok(pattern)
    }

    pub fn matches(&self, path: &str) -> bool {
        match self {
            RoutePattern::Exact(p) => p == path,
            RoutePattern::Below(prefix) => {
                path == prefix || path.starts_with(&format!("{}/", prefix.trim_end_matches('/')))
            }
        }
    }

    /// The same pattern under a mount path (`/api/v1`).
    fn under(&self, prefix: &str) -> Self {
        let prefix = prefix.trim_end_matches('/');
        match self {
            RoutePattern::Exact(p) => RoutePattern::Exact(format!("{prefix}{p}")),
            RoutePattern::Below(p) => RoutePattern::Below(format!("{prefix}{p}")),
        }
    }
}

/// A checked entry: a method (any when `None`) and a path pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteEntry {
    pub method: Option<Method>,
    pub pattern: RoutePattern,
}

impl RouteEntry {
    /// Whether the entry covers this request (`GET` covers `HEAD`).
    pub fn matches(&self, method: Method, path: &str) -> bool {
        let method_ok = match self.method {
            None => true,
            Some(m) => m == method || (m == Method::Get && method == Method::Head),
        };
        method_ok && self.pattern.matches(path)
    }

    fn parse(key: &str, method: Option<&str>, path: &str) -> Result<Self, ConfigError> {
        let method = match method {
            None => None,
            Some(m) => Some(
                m.trim()
                    .to_ascii_uppercase()
                    .parse::<Method>()
                    .map_err(|_| bad(key, format!("`{m}` is not an HTTP method")))?,
            ),
        };
        Ok(RouteEntry {
            method,
            pattern: RoutePattern::parse(key, path)?,
        })
    }
}

/// `white_list_routes` (each also under `api_prefix`, unless written with
/// it) and `ignored_routes`, checked.
pub fn check(
    white_list: &[(String, String)],
    ignored: &[RouteSetting],
    api_prefix: &str,
) -> Result<(Vec<RouteEntry>, Vec<RouteEntry>), ConfigError> {
    let api = api_prefix.trim_end_matches('/');
    let mut open = Vec::new();
    for (i, (method, path)) in white_list.iter().enumerate() {
        let entry = RouteEntry::parse(&format!("white_list_routes[{i}]"), Some(method), path)?;
        let written_under_api = path == api || path.starts_with(&format!("{api}/"));
        if !api.is_empty() && !written_under_api {
            open.push(RouteEntry {
                method: entry.method,
                pattern: entry.pattern.under(api),
            });
        }
        open.push(entry);
    }
    let mut bypassed = Vec::new();
    for (i, setting) in ignored.iter().enumerate() {
        let key = format!("ignored_routes[{i}]");
        bypassed.push(match setting {
            RouteSetting::Path(path) => RouteEntry::parse(&key, None, path)?,
            RouteSetting::Pair(method, path) => RouteEntry::parse(&key, Some(method), path)?,
        });
    }
    Ok((open, bypassed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(m: &str, p: &str) -> (String, String) {
        (m.into(), p.into())
    }

    #[test]
    fn white_list_is_also_under_the_api() {
        let (open, _) = check(&[pair("post", "/register")], &[], "/api/v1").unwrap();
        assert!(open.iter().any(|e| e.matches(Method::Post, "/register")));
        assert!(open.iter().any(|e| e.matches(Method::Post, "/api/v1/register")));
        assert!(!open.iter().any(|e| e.matches(Method::Get, "/api/v1/register")));
        let (open, _) = check(&[pair("GET", "/api/v1/feed/*")], &[], "/api/v1").unwrap();
        assert_eq!(open.len(), 1);
        assert!(open[0].matches(Method::Head, "/api/v1/feed/7"));
        assert!(!open[0].matches(Method::Get, "/api/v1/feeds"));
    }

    #[test]
    fn ignored_takes_paths_and_pairs() {
        let ignored = [
            RouteSetting::Path("/hook".into()),
            RouteSetting::Pair("GET".into(), "/".into()),
        ];
        let (_, bypassed) = check(&[], &ignored, "/api/v1").unwrap();
        assert!(bypassed[0].matches(Method::Delete, "/hook"));
        assert!(bypassed[1].matches(Method::Get, "/"));
        assert!(!bypassed[1].matches(Method::Post, "/"));
        assert!(!bypassed[0].matches(Method::Post, "/api/v1/hook"));
    }

    #[test]
    fn bad_entries_are_named() {
        let e = check(&[pair("FETCH", "/x")], &[], "/api")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("white_list_routes[0]") && e.contains("HTTP method"),
            "{e}"
        );
        let e = check(&[], &[RouteSetting::Path("x".into())], "/api")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("ignored_routes[0]") && e.contains("is not a path"),
            "{e}"
        );
        let e = check(&[pair("GET", "/a/*/b")], &[], "/api")
            .unwrap_err()
            .to_string();
        assert!(e.contains("wildcards"), "{e}");
    }
}
