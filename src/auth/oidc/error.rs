//! `OidcError`: why a Google (OpenID Connect) sign-in did not happen, with
//! the message shown, the code logged and the status answered.

use rocket::http::Status;

use crate::error::Error;

/// Why a Google sign-in did not happen. The message is fit to show the
/// person; `code` goes to the audit log and the JSON API.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("The sign-in was cancelled or refused at {0}.")]
    Denied(String),
    #[error("This sign-in has expired or was already used. Please start again.")]
    FlowMissing,
    #[error("This sign-in did not start in this browser (its state does not match). Please start again.")]
    StateMismatch,
    /// The detail is logged, not shown: it may name internal hosts.
    #[error("The sign-in provider could not be reached or gave an answer we can't use. Please try again in a moment.")]
    Unreachable(String),
    #[error("The sign-in provider did not answer in time. Please try again in a moment.")]
    Timeout,
    #[error("The sign-in provider refused the sign-in: {0}.")]
    CodeRejected(String),
    #[error("The sign-in could not be verified: {0}.")]
    InvalidToken(&'static str),
    #[error("Your email address is not verified with the provider, so it can't be used to sign in here.")]
    EmailNotVerified,
    #[error("The provider did not give an email address.")]
    NoEmail,
    #[error("Accounts from this domain can't sign in here.")]
    DomainNotAllowed,
    #[error("There is no account for this email here. Ask an administrator to create one.")]
    NoAccount,
    #[error("An account with this email already exists. Sign in with your password, then link Google from your account page.")]
    LinkNotAllowed,
    #[error("Sign in with the account you want to link first.")]
    LinkNeedsSignIn,
    #[error("This Google account is already linked to another account here.")]
    SubjectTaken,
    #[error("Two sign-ins for this account crossed. Please try again.")]
    Conflict,
    #[error("This account is linked to a different Google account.")]
    LinkedElsewhere,
    #[error("This account is disabled. Contact an administrator.")]
    Disabled,
    #[error("Too many sign-in attempts from your network. Wait a minute and try again.")]
    RateLimited,
    #[error("{0}")]
    BadRequest(String),
    #[error("Something went wrong on our side. Please try again.")]
    Other(#[from] Error),
}

impl From<diesel::result::Error> for OidcError {
    fn from(e: diesel::result::Error) -> Self {
        OidcError::Other(e.into())
    }
}

impl OidcError {
    pub fn code(&self) -> &'static str {
        match self {
            OidcError::Denied(_) => "denied",
            OidcError::FlowMissing => "flow_missing",
            OidcError::StateMismatch => "state_mismatch",
            OidcError::Unreachable(_) => "provider_unreachable",
            OidcError::Timeout => "provider_timeout",
            OidcError::CodeRejected(_) => "code_rejected",
            OidcError::InvalidToken(_) => "invalid_id_token",
            OidcError::EmailNotVerified => "email_not_verified",
            OidcError::NoEmail => "no_email",
            OidcError::DomainNotAllowed => "domain_not_allowed",
            OidcError::NoAccount => "no_account",
            OidcError::LinkNotAllowed => "link_not_allowed",
            OidcError::LinkNeedsSignIn => "link_needs_sign_in",
            OidcError::SubjectTaken => "subject_taken",
            OidcError::Conflict => "conflict",
            OidcError::LinkedElsewhere => "linked_elsewhere",
            OidcError::Disabled => "account_disabled",
            OidcError::RateLimited => "rate_limited",
            OidcError::BadRequest(_) => "bad_request",
            OidcError::Other(_) => "internal_error",
        }
    }

    pub fn status(&self) -> Status {
        match self {
            OidcError::Unreachable(_) | OidcError::Timeout => Status::BadGateway,
            OidcError::Conflict => Status::Conflict,
            OidcError::RateLimited => Status::TooManyRequests,
            OidcError::BadRequest(_) | OidcError::FlowMissing | OidcError::StateMismatch => {
                Status::BadRequest
            }
            OidcError::Disabled | OidcError::DomainNotAllowed | OidcError::NoAccount => Status::Forbidden,
            OidcError::Other(_) => Status::InternalServerError,
            _ => Status::Unauthorized,
        }
    }
}
