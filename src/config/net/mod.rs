//! Addresses in configuration: mount paths, the site's public URL, which
//! hosts count as loopback, and (in [`routes`]) `white_list_routes` and
//! `ignored_routes`.

pub mod routes; // white_list_routes and ignored_routes, typed

use std::net::IpAddr;

use url::{Host, Url};

use super::error::{bad, ConfigError};

/// A path routes can be mounted at: `/`, then plain segments.
pub fn is_mount_path(path: &str) -> bool {
    path.starts_with('/')
        && rocket::http::uri::Origin::parse(path).is_ok_and(|o| o.query().is_none())
        && !path.contains(['<', '>', '?', '#', ' '])
}

/// The site's public address: `http(s)://host[:port][/path]`, no query.
/// Release needs it (`https` off loopback) when mail carries links:
/// registration, or `password_reset = true`.
pub(crate) fn check_public_url(
    url: Option<&str>,
    release: bool,
    sends_links: bool,
) -> Result<String, ConfigError> {
    let key = "public_url";
    let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else {
        if release && sends_links {
            return Err(bad(
                key,
                "is not set; mailed links (registration, password reset) point at it (e.g. `https://accounts.example.com`)",
            ));
        }
        return Ok(String::new());
    };
    let parsed = Url::parse(url).map_err(|e| bad(key, format!("`{url}` is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https")
        || parsed.host_str().is_none()
        || parsed.query().is_some()
        || parsed.fragment().is_some()
        || !parsed.username().is_empty()
        || parsed.password().is_some()
    {
        return Err(bad(
            key,
            format!("`{url}` is not a site address like `https://example.com`"),
        ));
    }
    let loopback = is_loopback(&parsed);
    if release && parsed.scheme() == "http" && !loopback {
        return Err(bad(
            key,
            "must be `https` in release (links in mails carry secrets)",
        ));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// Whether a URL's host is this machine (127.0.0.0/8, ::1, `localhost`).
/// (A scheme the URL parser doesn't know, such as `smtp`, leaves an IPv4
/// address as a name: it is read as an address here.)
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost") || d.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}
