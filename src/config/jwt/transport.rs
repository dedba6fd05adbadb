//! Where `[jwt]` tokens travel: the locations they are read from, the
//! token cookies' `Secure`, `SameSite` and `__Host-` prefix, and the methods
//! that must echo the CSRF value.

use rocket::http::{Method, SameSite};

use super::JwtSettings;
use crate::config::error::{bad, ConfigError};

/// Where a token can be read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Cookies,
    Headers,
    QueryString,
    Json,
}

impl JwtSettings {
    /// `Secure` (on in release unless set) and `SameSite`, and the `__Host-`
    /// prefix's conditions.
    pub(super) fn cookie_policy(&self, release: bool) -> Result<(bool, SameSite), ConfigError> {
        let secure = self.cookie_secure.unwrap_or(release);
        let same_site = match self.cookie_samesite.to_ascii_lowercase().as_str() {
            "lax" => SameSite::Lax,
            "strict" => SameSite::Strict,
            "none" if secure => SameSite::None,
            "none" => return Err(bad("jwt.cookie_samesite", "`None` needs `cookie_secure = true`")),
            other => {
                return Err(bad(
                    "jwt.cookie_samesite",
                    format!("`{other}` is not Lax, Strict or None"),
                ))
            }
        };
        if self.cookie_host_prefix && !secure {
            return Err(bad(
                "jwt.cookie_host_prefix",
                "the `__Host-` prefix needs `cookie_secure = true`",
            ));
        }
        if self.cookie_host_prefix && (self.access_cookie_path != "/" || self.refresh_cookie_path != "/") {
            return Err(bad(
                "jwt.cookie_host_prefix",
                "the `__Host-` prefix needs cookie paths of `/`",
            ));
        }
        Ok((secure, same_site))
    }

    /// `token_location`, parsed, without repeats.
    pub(super) fn token_locations(&self) -> Result<Vec<Location>, ConfigError> {
        let mut locations = Vec::new();
        for name in &self.token_location {
            let location = match name.trim().to_ascii_lowercase().as_str() {
                "cookies" | "cookie" => Location::Cookies,
                "headers" | "header" => Location::Headers,
                "query_string" => Location::QueryString,
                "json" => Location::Json,
                other => {
                    return Err(bad(
                        "jwt.token_location",
                        format!("`{other}` is not one of cookies, headers, query_string, json"),
                    ))
                }
            };
            if !locations.contains(&location) {
                locations.push(location);
            }
        }
        if locations.is_empty() {
            return Err(bad("jwt.token_location", "name at least one location"));
        }
        Ok(locations)
    }

    /// `csrf_methods`, parsed.
    pub(super) fn csrf_methods(&self) -> Result<Vec<Method>, ConfigError> {
        self.csrf_methods
            .iter()
            .map(|method| {
                method
                    .parse::<Method>()
                    .map_err(|_| bad("jwt.csrf_methods", format!("`{method}` is not an HTTP method")))
            })
            .collect()
    }
}
