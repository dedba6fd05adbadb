//! Where to send someone after sign-in: only ever a path on this site.

use percent_encoding::percent_decode_str;

/// Where people land when `next` is missing or refused.
pub const DEFAULT_NEXT: &str = "/";

/// Returns `next` if it is a local path, else [`DEFAULT_NEXT`]. Checks the
/// value as given and as browsers may read it after percent-decoding, so
/// `//evil.example`, `/\evil.example`, `https:evil.example`,
/// `%2F%2Fevil.example` and `javascript:...` all land on the default page.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(next) if is_local_path(next) => next,
        _ => DEFAULT_NEXT,
    }
}

pub fn is_local_path(next: &str) -> bool {
    if next.is_empty() || next.len() > 2048 {
        return false;
    }
    // As given: a path, and nothing a browser would strip or reinterpret.
    if !starts_local(next) || next.contains('\\') || next.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return false;
    }
    // As it may be read after percent-decoding (a few rounds, so that a
    // double-encoded `//` is caught too).
    let mut candidate = next.to_owned();
    for _ in 0..3 {
        let decoded = percent_decode_str(&candidate).decode_utf8_lossy().into_owned();
        if decoded == candidate {
            return true;
        }
        if !starts_local(&decoded) || decoded.chars().any(char::is_control) {
            return false;
        }
        candidate = decoded;
    }
    false
}

/// One leading slash: not `//host` nor `/\host`, which browsers treat as
/// another site.
fn starts_local(path: &str) -> bool {
    path.starts_with('/') && !path.starts_with("//") && !path.starts_with("/\\")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_values_land_on_the_default_page() {
        for hostile in [
            "//evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "https:evil.example",
            "https://evil.example",
            "%2F%2Fevil.example",
            "/%2F/evil.example",
            "%252F%252Fevil.example",
            "/%5Cevil.example",
            "javascript:alert(1)",
            "/\t/evil.example",
            " //evil.example",
            "/%09/evil.example",
            "evil.example",
            "",
        ] {
            assert_eq!(safe_next(Some(hostile)), DEFAULT_NEXT, "{hostile:?}");
        }
        assert_eq!(safe_next(None), DEFAULT_NEXT);
    }

    #[test]
    fn local_paths_are_kept() {
        for local in [
            "/protected",
            "/items?page=2&sort=name",
            "/a/b#frag",
            "/search?q=a%20b",
        ] {
            assert_eq!(safe_next(Some(local)), local);
        }
    }
}
