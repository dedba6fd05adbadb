//! Sending mail: the registration and password-reset links. Three transports, picked in
//! config (`[mail]`): `log` (the default: the mail is written to the server
//! log, for development), `file` (one `.eml` file per mail in `mail.dir`) and
//! `smtp` (`mail.smtp_url`, e.g. `smtps://user:pass@smtp.example.com`).
//! `file` and `smtp` are lettre's, in the `mail` feature; without it only
//! `log` is built.

#[cfg(feature = "mail")]
use std::time::Duration;

#[cfg(feature = "mail")]
use lettre::message::{header::ContentType, Mailbox};
#[cfg(feature = "mail")]
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::mail::{MailConfig, Transport};
use crate::domain::Email;
use crate::error::Error;

/// Sends mail through the configured transport.
#[cfg(feature = "mail")]
pub struct Mailer {
    from: Mailbox,
    timeout: Duration,
    inner: Inner,
}

#[cfg(feature = "mail")]
enum Inner {
    Log,
    File(AsyncFileTransport<Tokio1Executor>),
    Smtp(Box<AsyncSmtpTransport<Tokio1Executor>>),
}

#[cfg(feature = "mail")]
impl Mailer {
    /// Builds the transport (no connection is made until a mail is sent).
    pub fn new(config: &MailConfig) -> Result<Self, Error> {
        let inner = match &config.transport {
            Transport::Log => Inner::Log,
            Transport::File(dir) => {
                // The mails hold live links: a new directory is the
                // server's user's alone.
                let mut builder = std::fs::DirBuilder::new();
                builder.recursive(true);
                #[cfg(unix)]
                std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
                builder.create(dir).map_err(|e| {
                    Error::Config(format!("`mail.dir`: cannot create `{}`: {e}", dir.display()))
                })?;
                Inner::File(AsyncFileTransport::new(dir))
            }
            Transport::Smtp(url) => Inner::Smtp(Box::new(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| Error::Config(format!("`mail.smtp_url`: {e}")))?
                    .timeout(Some(config.timeout))
                    .build(),
            )),
        };
        Ok(Self {
            from: config.from.clone(),
            timeout: config.timeout,
            inner,
        })
    }

    /// Sends a plain-text mail. Fails (with the cause for the log) if the
    /// transport refuses it or doesn't answer within the timeout.
    pub async fn send(&self, to: &Email, subject: &str, body: String) -> Result<(), Error> {
        let mail = |e: &dyn std::fmt::Display| Error::Mail(e.to_string());
        let message = Message::builder()
            .from(self.from.clone())
            .to(to.as_str().parse::<Mailbox>().map_err(|e| mail(&e))?)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.clone())
            .map_err(|e| mail(&e))?;
        // Built even for `log`, so that a mail the others would refuse is
        // refused in development too.
        match &self.inner {
            Inner::Log => {
                // The text as written (not transfer-encoded), so that a
                // developer can open the link from the console.
                log::warn!("mail (transport `log`: printed, not sent) to {to}: {subject}\n{body}");
                Ok(())
            }
            Inner::File(t) => send_within(t, message, self.timeout).await,
            Inner::Smtp(t) => send_within(t.as_ref(), message, self.timeout).await,
        }
    }
}

/// Sends through a lettre transport, giving up after `timeout`.
#[cfg(feature = "mail")]
async fn send_within<T>(transport: &T, message: Message, timeout: Duration) -> Result<(), Error>
where
    T: AsyncTransport + Sync,
    T::Error: std::fmt::Display,
{
    match rocket::tokio::time::timeout(timeout, transport.send(message)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(Error::Mail(e.to_string())),
        Err(_) => Err(Error::Mail("the mail server did not answer in time".into())),
    }
}

/// Writes mail to the log: built without the `mail` feature, `log` is the
/// only transport (the configuration check refuses the others).
#[cfg(not(feature = "mail"))]
pub struct Mailer(());

#[cfg(not(feature = "mail"))]
impl Mailer {
    pub fn new(config: &MailConfig) -> Result<Self, Error> {
        match config.transport {
            Transport::Log => Ok(Self(())),
            Transport::File(_) | Transport::Smtp(_) => Err(Error::Config(
                "`mail.transport`: this Gatehouse was built without the `mail` feature: only `log`".into(),
            )),
        }
    }

    /// Writes the mail to the server log, as the `log` transport does.
    pub async fn send(&self, to: &Email, subject: &str, body: String) -> Result<(), Error> {
        log::info!("mail (transport `log`) to {to}: {subject}\n{body}");
        Ok(())
    }
}
