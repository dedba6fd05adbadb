//! `[webauthn]`: passkeys. The relying party id and origin come from
//! `public_url` unless set; an address that is an IP literal can't carry
//! passkeys (browsers refuse an IP as an RP id), so they stay off, saying
//! why, unless asked for.

use serde::{Deserialize, Serialize};
use url::{Host, Url};

use super::error::{bad, ConfigError};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebauthnSettings {
    /// Unset: on when an RP id can be derived; `true` insists (the launch
    /// stops when it can't); `false` turns passkeys off (every passkey
    /// route is a 404).
    pub enabled: Option<bool>,
    /// The relying party id: a domain name, the origin's host or a
    /// registrable suffix of it. Default: the host of `public_url`.
    /// Passkeys are bound to it: changing it orphans every passkey.
    pub rp_id: Option<String>,
    /// The origin pages are served from (`https://host[:port]`). Default:
    /// `public_url`'s.
    pub origin: Option<String>,
    /// The name authenticators show next to the account.
    pub rp_name: String,
}

impl Default for WebauthnSettings {
    fn default() -> Self {
        Self {
            enabled: None,
            rp_id: None,
            origin: None,
            rp_name: "Gatehouse".into(),
        }
    }
}

/// Checked passkey settings: what the WebAuthn relying party is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebauthnConfig {
    pub rp_id: String,
    /// `scheme://host[:port]`, no path.
    pub origin: Url,
    pub rp_name: String,
}

/// What `[webauthn]` comes to: passkeys on (with their settings), or off,
/// and why when they were not turned off (for the start-up summary).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Passkeys {
    On(WebauthnConfig),
    Off { why: Option<String> },
}

impl WebauthnSettings {
    /// Derives and checks the relying party from this section and the
    /// checked `public_url` (empty when unset).
    pub fn validate(self, release: bool, public_url: &str) -> Result<Passkeys, ConfigError> {
        if self.enabled == Some(false) {
            return Ok(Passkeys::Off { why: None });
        }
        let insisted = self.enabled == Some(true);
        let origin = match self.origin.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
            Some(origin) => Some(parse_origin("webauthn.origin", origin)?),
            None if public_url.is_empty() => None,
            None => Some(parse_origin("public_url", public_url)?),
        };
        let Some(origin) = origin else {
            let why = "passkeys need the site's address: set `public_url` (or `webauthn.origin` and `webauthn.rp_id`)";
            return off_or_refuse(insisted, "webauthn.enabled", why);
        };
        let rp_id = match self.rp_id.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            Some(rp_id) => rp_id.to_ascii_lowercase(),
            None => match origin.host() {
                Some(Host::Domain(domain)) => domain.to_ascii_lowercase(),
                _ => {
                    let port = origin.port_or_known_default().unwrap_or(80);
                    let why = format!(
                        "passkeys need a domain name; browse http://localhost:{port} or set public_url"
                    );
                    return off_or_refuse(insisted, "webauthn.rp_id", &why);
                }
            },
        };
        if !matches!(origin.host(), Some(Host::Domain(_))) {
            return Err(bad(
                "webauthn.origin",
                format!("`{origin}` has no domain name (browsers refuse passkeys on an IP address)"),
            ));
        }
        let host = origin.host_str().unwrap_or_default().to_ascii_lowercase();
        if rp_id.parse::<std::net::IpAddr>().is_ok() || rp_id.contains(['/', ':', ' ']) {
            return Err(bad(
                "webauthn.rp_id",
                format!("`{rp_id}` is not a domain name (browsers refuse an IP address as a passkey's relying party)"),
            ));
        }
        if !(host == rp_id || host.ends_with(&format!(".{rp_id}"))) {
            return Err(bad(
                "webauthn.rp_id",
                format!(
                    "`{rp_id}` must be the origin's host `{host}` or a suffix of it (agree with public_url)"
                ),
            ));
        }
        if release {
            if rp_id != "localhost" && !rp_id.contains('.') {
                return Err(bad(
                    "webauthn.rp_id",
                    format!(
                        "`{rp_id}` is not a registrable domain (a top-level domain can't be a relying party)"
                    ),
                ));
            }
            let localhost = host == "localhost" || host.ends_with(".localhost");
            if origin.scheme() != "https" && !localhost {
                return Err(bad(
                    "webauthn.origin",
                    format!("`{origin}` must be https in release (browsers offer passkeys only to secure origins)"),
                ));
            }
            if !public_url.is_empty() {
                let public = parse_origin("public_url", public_url)?;
                let public_host = public.host_str().unwrap_or_default().to_ascii_lowercase();
                if !(public_host == rp_id || public_host.ends_with(&format!(".{rp_id}"))) {
                    return Err(bad(
                        "webauthn.rp_id",
                        format!("`{rp_id}` does not agree with public_url (`{public_host}` is not it nor below it)"),
                    ));
                }
                if public.origin() != origin.origin() {
                    return Err(bad(
                        "webauthn.origin",
                        format!(
                            "`{}` is not public_url's origin `{}`",
                            origin.origin().ascii_serialization(),
                            public.origin().ascii_serialization()
                        ),
                    ));
                }
            }
        }
        let rp_name = self.rp_name.trim().to_owned();
        if rp_name.is_empty() || rp_name.chars().count() > 64 {
            return Err(bad("webauthn.rp_name", "must be 1 to 64 characters"));
        }
        Ok(Passkeys::On(WebauthnConfig {
            rp_id,
            origin,
            rp_name,
        }))
    }
}

fn off_or_refuse(insisted: bool, key: &str, why: &str) -> Result<Passkeys, ConfigError> {
    if insisted {
        Err(bad(key, format!("`webauthn.enabled = true`, but {why}")))
    } else {
        Ok(Passkeys::Off {
            why: Some(why.to_owned()),
        })
    }
}

/// `scheme://host[:port]` of a site address (its path dropped).
fn parse_origin(key: &str, value: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(value).map_err(|e| bad(key, format!("`{value}` is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad(
            key,
            format!("`{value}` is not an origin like `https://example.com`"),
        ));
    }
    let origin = url.origin().ascii_serialization();
    Url::parse(&origin).map_err(|e| bad(key, format!("`{value}`: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(p: Passkeys) -> WebauthnConfig {
        match p {
            Passkeys::On(c) => c,
            Passkeys::Off { why } => panic!("off: {why:?}"),
        }
    }

    #[test]
    fn derived_from_public_url() {
        let c = on(WebauthnSettings::default()
            .validate(true, "https://accounts.example.com/app")
            .unwrap());
        assert_eq!(c.rp_id, "accounts.example.com");
        assert_eq!(c.origin.as_str(), "https://accounts.example.com/");
        let c = on(WebauthnSettings::default()
            .validate(false, "http://localhost:8000")
            .unwrap());
        assert_eq!((c.rp_id.as_str(), c.origin.port()), ("localhost", Some(8000)));
    }

    #[test]
    fn an_ip_address_leaves_them_off_saying_why() {
        let p = WebauthnSettings::default()
            .validate(false, "http://127.0.0.1:8000")
            .unwrap();
        let Passkeys::Off { why: Some(why) } = p else {
            panic!("{p:?}")
        };
        assert!(why.contains("http://localhost:8000"), "{why}");
        let insisted = WebauthnSettings {
            enabled: Some(true),
            ..WebauthnSettings::default()
        };
        assert_eq!(
            insisted.validate(false, "http://127.0.0.1:8000").unwrap_err().key,
            "webauthn.rp_id"
        );
        let off = WebauthnSettings {
            enabled: Some(false),
            ..WebauthnSettings::default()
        };
        assert_eq!(
            off.validate(false, "https://example.com").unwrap(),
            Passkeys::Off { why: None }
        );
    }

    #[test]
    fn release_checks_agree_with_public_url() {
        let s = |rp_id: &str, origin: Option<&str>| WebauthnSettings {
            rp_id: Some(rp_id.into()),
            origin: origin.map(Into::into),
            ..WebauthnSettings::default()
        };
        let c = on(s("example.com", None)
            .validate(true, "https://id.example.com")
            .unwrap());
        assert_eq!(c.rp_id, "example.com");
        for (settings, key) in [
            (s("other.com", None), "webauthn.rp_id"),
            (s("com", None), "webauthn.rp_id"),
            (s("example.com", Some("http://id.example.com")), "webauthn.origin"),
            (s("other.com", Some("https://id.other.com")), "webauthn.rp_id"),
            (
                s("example.com", Some("https://other.example.com")),
                "webauthn.origin",
            ),
            (s("0.1", Some("https://10.0.0.1")), "webauthn.origin"),
        ] {
            assert_eq!(
                settings.validate(true, "https://id.example.com").unwrap_err().key,
                key
            );
        }
        // Debug lets plain http through.
        on(s("example.com", Some("http://id.example.com"))
            .validate(false, "")
            .unwrap());
    }
}
