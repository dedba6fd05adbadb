//! `database_url`: where the data lives (SQLite or PostgreSQL).

use std::fmt;

/// Where the data lives, parsed from `DATABASE_URL` / `database_url`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A file path (or `:memory:`), from `sqlite://PATH`, `sqlite:PATH` or a plain path.
    Sqlite(String),
    /// A libpq URL, `postgres://...` or `postgresql://...`.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses a database URL. An unknown scheme is an error, never a new
    /// SQLite file named after it.
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if url.is_empty() {
            return Err("database_url is empty".into());
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            if !cfg!(feature = "postgres") {
                return Err("database_url is a PostgreSQL URL, but this Gatehouse was built without the `postgres` feature (a default feature): rebuild with it".into());
            }
            return Ok(Self::Postgres(url.to_owned()));
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err("database_url `sqlite://` names no file".into());
            }
            return Ok(Self::Sqlite(path.to_owned()));
        }
        // Anything that looks like `scheme:` (but not a Windows drive letter) is
        // a URL we do not know.
        if let Some((scheme, _)) = url.split_once(':') {
            let looks_like_scheme = scheme.len() > 1
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
            if looks_like_scheme && url != ":memory:" {
                return Err(format!(
                    "database_url has an unknown scheme `{scheme}:` (use sqlite://PATH, a file path, or postgres://...)"
                ));
            }
        }
        Ok(Self::Sqlite(url.to_owned()))
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

/// Never prints a PostgreSQL password.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{path}"),
            Self::Postgres(url) => {
                let (url, query) = url
                    .split_once('?')
                    .map_or((url.as_str(), None), |(u, q)| (u, Some(q)));
                match (url.find("://"), url.rfind('@')) {
                    (Some(start), Some(at)) if at > start => {
                        let userinfo = &url[start + 3..at];
                        let user = userinfo.split(':').next().unwrap_or("");
                        write!(f, "{}{}@{}", &url[..start + 3], user, &url[at + 1..])?;
                    }
                    _ => f.write_str(url)?,
                }
                // libpq also takes `password=` and `sslpassword=` here.
                if let Some(query) = query {
                    let params: Vec<String> = query
                        .split('&')
                        .map(|param| match param.split_once('=') {
                            Some((key, _)) if key.ends_with("password") => format!("{key}=[redacted]"),
                            _ => param.to_owned(),
                        })
                        .collect();
                    write!(f, "?{}", params.join("&"))?;
                }
                Ok(())
            }
        }
    }
}

/// As `Display`: never prints a PostgreSQL password.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            Self::Postgres(_) => f.debug_tuple("Postgres").field(&self.to_string()).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DatabaseUrl;

    #[test]
    fn parses_database_urls() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/g.db").unwrap(),
            DatabaseUrl::Sqlite("data/g.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:g.db").unwrap(),
            DatabaseUrl::Sqlite("g.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("g.db").unwrap(),
            DatabaseUrl::Sqlite("g.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse(":memory:").unwrap(),
            DatabaseUrl::Sqlite(":memory:".into())
        );
        #[cfg(feature = "postgres")]
        {
            assert!(matches!(
                DatabaseUrl::parse("postgres://u@h/db").unwrap(),
                DatabaseUrl::Postgres(_)
            ));
            assert!(matches!(
                DatabaseUrl::parse("postgresql://u@h/db").unwrap(),
                DatabaseUrl::Postgres(_)
            ));
        }
        #[cfg(not(feature = "postgres"))]
        assert!(DatabaseUrl::parse("postgres://u@h/db")
            .unwrap_err()
            .contains("`postgres` feature"));
        assert!(DatabaseUrl::parse("mysql://u@h/db")
            .unwrap_err()
            .contains("unknown scheme"));
        assert!(DatabaseUrl::parse("postgress://u@h/db").is_err());
        assert!(DatabaseUrl::parse("").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    #[test]
    #[cfg(feature = "postgres")]
    fn display_hides_the_password() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db.internal:5432/gh").unwrap();
        assert_eq!(url.to_string(), "postgres://app@db.internal:5432/gh");
        let debug = format!("{url:?}");
        assert!(
            !debug.contains("s3cret") && debug.contains("db.internal"),
            "{debug}"
        );
        let url = DatabaseUrl::parse("postgres://db/gh?sslmode=require&password=p1&sslpassword=p2").unwrap();
        assert_eq!(
            url.to_string(),
            "postgres://db/gh?sslmode=require&password=[redacted]&sslpassword=[redacted]"
        );
    }
}
