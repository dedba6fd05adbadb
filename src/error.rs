//! The one error type. Its responder logs the cause chain and hands the
//! status to a catcher, which shows people a safe page or JSON body.

use rocket::http::Status;
use rocket::request::Request;
use rocket::response::{self, Responder};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database query failed")]
    Database(#[from] diesel::result::Error),
    #[error("no database connection available")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("could not connect to the database: {0}")]
    Connection(String),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("password hashing failed")]
    Hash(#[from] bcrypt::BcryptError),
    #[error("token encoding failed")]
    Token(#[from] jsonwebtoken::errors::Error),
    /// A mail could not be sent (the cause, for the log).
    #[error("sending mail failed: {0}")]
    Mail(String),
    #[error("background task failed")]
    Join(#[from] rocket::tokio::task::JoinError),
    /// Every bcrypt thread is busy and the queue is full: try again soon.
    #[error("Too many sign-ins at once. Try again in a few seconds.")]
    Busy,
    #[error("the password threads stopped")]
    PasswordWorker,
    /// A stored TOTP secret or its parameters were refused (a server fault).
    #[error("two-factor: {0}")]
    TwoFactor(String),
    /// Bad input, with a message fit to show the person who sent it.
    #[error("{0}")]
    Invalid(String),
    #[error("not found")]
    NotFound,
    #[error("an account with that email already exists")]
    EmailTaken,
    /// Bad input in named fields (a form's or a JSON body's), each with a
    /// message fit to show next to its field.
    #[error("{0}")]
    Fields(FieldErrors),
}

/// Messages for named input fields, in the order they were found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(Vec<(&'static str, String)>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push((field, message.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The message for a field, if it has one.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }

    /// `Ok(())` when there is nothing to report, else the error.
    pub fn into_result(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Fields(self))
        }
    }

    /// Field name to message, for templates.
    pub fn to_map(&self) -> serde_json::Map<String, serde_json::Value> {
        self.0
            .iter()
            .rev()
            .map(|(f, m)| ((*f).to_owned(), serde_json::Value::String(m.clone())))
            .collect()
    }
}

impl std::fmt::Display for FieldErrors {
    /// `field: message; field: message`, for API clients and logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (field, message)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{field}: {message}")?;
        }
        Ok(())
    }
}

impl Error {
    pub fn status(&self) -> Status {
        match self {
            Error::Invalid(_) | Error::Fields(_) => Status::UnprocessableEntity,
            Error::NotFound => Status::NotFound,
            Error::EmailTaken => Status::Conflict,
            Error::Mail(_) | Error::Busy => Status::ServiceUnavailable,
            _ => Status::InternalServerError,
        }
    }

    /// The error and its sources, one line, for logs and the command line.
    pub fn chain(&self) -> String {
        chain(self)
    }
}

/// Any error and its sources, one line (a Tera error's first line rarely
/// says which variable or file).
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(err) = source {
        out.push_str(": ");
        out.push_str(&err.to_string());
        source = err.source();
    }
    out
}

impl<'r> Responder<'r, 'static> for Error {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let status = self.status();
        // A full bcrypt queue is load, not a fault: its refusals are counted
        // and logged once a minute by the hasher.
        if status.code >= 500 && !matches!(self, Error::Busy) {
            // The path only: a query can hold a token (`?auth=`, a
            // registration link's `?token=`).
            log::error!("{} {}: {}", req.method(), req.uri().path(), self.chain());
        }
        Err(status)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
