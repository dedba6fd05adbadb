//! `[mail]`: how mail is sent (`log`, `file` or `smtp`) and from whom.
//! `file` and `smtp` need the `mail` feature; without it they are refused.

use std::path::PathBuf;
use std::time::Duration;

#[cfg(feature = "mail")]
use lettre::message::Mailbox;
#[cfg(feature = "mail")]
use lettre::{AsyncSmtpTransport, Tokio1Executor};
use serde::{Deserialize, Serialize};

use super::error::ConfigError;
#[cfg(feature = "mail")]
use super::net::is_loopback;

/// Built without the `mail` feature nothing is sent: the sender is kept
/// as written.
#[cfg(not(feature = "mail"))]
type Mailbox = String;

/// Added to the messages that send people to `file` or `smtp`.
const WITHOUT_MAIL: &str = if cfg!(feature = "mail") {
    ""
} else {
    " (they need the `mail` feature, which this Gatehouse was built without: rebuild with it)"
};

/// `[mail]` as written in configuration.
#[derive(Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailSettings {
    /// `log`, `file` or `smtp`.
    pub transport: String,
    /// The sender, `Name <address>` or a bare address.
    pub from: String,
    /// Where the `file` transport writes (created if missing).
    pub dir: Option<String>,
    /// The `smtp` transport's server: `smtps://user:password@host[:port]`
    /// (TLS from the start), `smtp://host:587?tls=required` (STARTTLS) or
    /// `smtp://host:25` (plain, loopback only in release).
    pub smtp_url: Option<String>,
    /// Seconds to wait for the SMTP server.
    pub timeout: u64,
}

impl std::fmt::Debug for MailSettings {
    /// Never prints `smtp_url`, which may hold a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSettings")
            .field("transport", &self.transport)
            .field("from", &self.from)
            .field("dir", &self.dir)
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "(set)"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            transport: "log".into(),
            from: "Gatehouse <no-reply@localhost>".into(),
            dir: None,
            smtp_url: None,
            timeout: 10,
        }
    }
}

/// Checked mail settings.
#[derive(Clone)]
pub struct MailConfig {
    pub transport: Transport,
    pub from: Mailbox,
    pub timeout: Duration,
}

#[derive(Clone)]
pub enum Transport {
    Log,
    File(PathBuf),
    /// The URL holds the password: never printed.
    Smtp(String),
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let transport = match &self.transport {
            Transport::Log => "log".to_owned(),
            Transport::File(dir) => format!("file ({})", dir.display()),
            Transport::Smtp(_) => "smtp".to_owned(),
        };
        f.debug_struct("MailConfig")
            .field("transport", &transport)
            .field("from", &self.from.to_string())
            .field("timeout", &self.timeout)
            .finish()
    }
}

fn bad(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        key: format!("mail.{key}"),
        message: message.into(),
    }
}

impl MailSettings {
    /// Checks the settings. `sends_links` is whether anything mails links
    /// (registration, or `password_reset = true`): then, in release, the `log` transport is
    /// refused, since it would put working sign-up links in the log.
    pub fn validate(self, release: bool, sends_links: bool) -> Result<MailConfig, ConfigError> {
        let from: Mailbox = self
            .from
            .parse()
            .map_err(|e| bad("from", format!("`{}` is not a mailbox: {e}", self.from)))?;
        if self.timeout == 0 || self.timeout > 300 {
            return Err(bad("timeout", "must be between 1 and 300 seconds"));
        }
        let transport = match self.transport.trim().to_ascii_lowercase().as_str() {
            "log" if release && sends_links => {
                return Err(bad(
                    "transport",
                    format!("`log` writes the links it mails (registration, password reset) to the server log; use `smtp` (or `file`) in release{WITHOUT_MAIL}"),
                ))
            }
            "log" => Transport::Log,
            #[cfg(not(feature = "mail"))]
            "file" | "smtp" => {
                return Err(bad(
                    "transport",
                    format!("`{}` needs the `mail` feature, which this Gatehouse was built without; use `log` or rebuild with it", self.transport.trim()),
                ))
            }
            #[cfg(feature = "mail")]
            "file" => match self.dir.as_deref().map(str::trim) {
                Some(dir) if !dir.is_empty() => Transport::File(PathBuf::from(dir)),
                _ => return Err(bad("dir", "is not set; the `file` transport writes mails there")),
            },
            #[cfg(feature = "mail")]
            "smtp" => {
                let Some(url) = self.smtp_url.filter(|u| !u.trim().is_empty()) else {
                    return Err(bad(
                        "smtp_url",
                        "is not set; give the server, e.g. `smtps://user:password@smtp.example.com` (GATEHOUSE_MAIL__SMTP_URL)",
                    ));
                };
                check_smtp_url(&url, release).map_err(|m| bad("smtp_url", m))?;
                Transport::Smtp(url)
            }
            other => {
                return Err(bad(
                    "transport",
                    format!("`{other}` is not one of log, file, smtp"),
                ))
            }
        };
        Ok(MailConfig {
            transport,
            from,
            timeout: Duration::from_secs(self.timeout),
        })
    }
}

/// An SMTP URL lettre takes, encrypted unless the server is on loopback
/// (or in debug). Messages never quote the URL: it may hold a password.
#[cfg(feature = "mail")]
fn check_smtp_url(url: &str, release: bool) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("is not a URL: {e}"))?;
    AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| format!("is not an SMTP URL: {e}"))?;
    // lettre reads the first `tls` parameter; so does this check.
    let encrypted = parsed.scheme() == "smtps"
        || parsed
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .is_some_and(|(_, v)| v == "required");
    let loopback = is_loopback(&parsed);
    if release && !encrypted && !loopback {
        return Err(
            "sends mail (and its password) in the clear; use `smtps://` or add `?tls=required`".into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(transport: &str) -> MailSettings {
        MailSettings {
            transport: transport.into(),
            ..MailSettings::default()
        }
    }

    #[test]
    fn log_is_for_development() {
        assert!(matches!(
            settings("log").validate(false, true).unwrap().transport,
            Transport::Log
        ));
        assert!(settings("log").validate(true, false).is_ok(), "no links, no harm");
        let e = settings("log").validate(true, true).unwrap_err();
        assert_eq!(e.key, "mail.transport");
    }

    #[test]
    #[cfg(feature = "mail")]
    fn each_transport_needs_its_setting() {
        assert_eq!(
            settings("file").validate(false, true).unwrap_err().key,
            "mail.dir"
        );
        assert_eq!(
            settings("smtp").validate(false, true).unwrap_err().key,
            "mail.smtp_url"
        );
        assert_eq!(
            settings("pigeon").validate(false, true).unwrap_err().key,
            "mail.transport"
        );
        let mut s = settings("log");
        s.from = "not a mailbox".into();
        assert_eq!(s.validate(false, true).unwrap_err().key, "mail.from");
    }

    #[test]
    #[cfg(not(feature = "mail"))]
    fn without_the_mail_feature_only_log_is_built() {
        for transport in ["file", "smtp"] {
            let e = settings(transport).validate(false, true).unwrap_err();
            assert_eq!(e.key, "mail.transport");
            assert!(e.message.contains("`mail` feature"), "{e}");
        }
        let e = settings("log").validate(true, true).unwrap_err();
        assert!(e.message.contains("`mail` feature"), "{e}");
    }

    #[test]
    #[cfg(feature = "mail")]
    fn smtp_in_release_is_encrypted_unless_on_loopback() {
        let smtp = |url: &str, release: bool| {
            let mut s = settings("smtp");
            s.smtp_url = Some(url.into());
            s.validate(release, true)
        };
        assert!(smtp("smtps://u:p@smtp.example.com", true).is_ok());
        assert!(smtp("smtp://u:p@smtp.example.com:587?tls=required", true).is_ok());
        assert!(smtp("smtp://127.0.0.1:2525", true).is_ok());
        assert!(
            smtp("smtp://u:p@smtp.example.com?tls=opportunistic&tls=required", true).is_err(),
            "lettre reads the first `tls`"
        );
        let e = smtp("smtp://u:secret@smtp.example.com", true).unwrap_err();
        assert!(e.message.contains("in the clear") && !e.message.contains("secret"));
        assert!(smtp("smtp://u:p@smtp.example.com", false).is_ok());
        assert!(smtp("http://smtp.example.com", false).is_err());
        let debug = format!("{:?}", smtp("smtps://u:secret@smtp.example.com", true).unwrap());
        assert!(!debug.contains("secret"), "{debug}");
    }
}
