//! Why a request is not authenticated: every way a presented token (or its
//! session) can be refused, with the description, code and status each one
//! answers with.

/// Why a request is not authenticated. Each has its own description in the
/// JSON error, and catchers can tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    Missing,
    Malformed,
    BadSignature,
    Expired,
    NotYetValid,
    InvalidClaims,
    /// A refresh (or other) token where an access token is expected.
    WrongType,
    /// An access (or other) token where a refresh token is expected.
    NotRefresh,
    Revoked,
    Disabled,
    FreshRequired,
    Csrf,
    Forbidden,
    /// The user must choose a new password (after an admin set a temporary
    /// one) before doing anything else.
    PasswordChangeRequired,
    /// The route needs a session signed in with a second factor (`amr`
    /// has `otp`), and this one wasn't.
    SecondFactorRequired,
    /// Two-factor sign-in must be turned on first (an admin, under
    /// `[two_factor] required_for_admins`, or a route that needs a second
    /// factor).
    TwoFactorEnrollmentRequired,
    /// The check itself failed (the database was unreachable): a 500.
    Internal,
}

impl AuthFailure {
    pub fn description(self) -> &'static str {
        match self {
            AuthFailure::Missing => "Request does not contain an access token",
            AuthFailure::Malformed => "The token is malformed",
            AuthFailure::BadSignature => "Signature verification failed",
            AuthFailure::Expired => "Token has expired",
            AuthFailure::NotYetValid => "Token is not yet valid",
            AuthFailure::InvalidClaims => "Token has an invalid issuer, audience or claim",
            AuthFailure::WrongType => "Only access tokens are allowed",
            AuthFailure::NotRefresh => "Only refresh tokens are allowed",
            AuthFailure::Revoked => "Token has been revoked",
            AuthFailure::Disabled => "The account is disabled",
            AuthFailure::FreshRequired => "Fresh token required",
            AuthFailure::Csrf => "CSRF double submit tokens do not match",
            AuthFailure::Forbidden => "You do not have permission to access this resource",
            AuthFailure::PasswordChangeRequired => "Password change required",
            AuthFailure::SecondFactorRequired => {
                "A sign-in with a second factor (a two-factor code or a passkey) is required"
            }
            AuthFailure::TwoFactorEnrollmentRequired => "Turn on two-factor sign-in first",
            AuthFailure::Internal => "The server could not check the token",
        }
    }

    /// A short code for logs and the `WWW-Authenticate` header.
    pub fn code(self) -> &'static str {
        match self {
            AuthFailure::Missing => "missing_token",
            AuthFailure::Malformed => "malformed_token",
            AuthFailure::BadSignature => "bad_signature",
            AuthFailure::Expired => "token_expired",
            AuthFailure::NotYetValid => "token_not_yet_valid",
            AuthFailure::InvalidClaims => "invalid_claims",
            AuthFailure::WrongType | AuthFailure::NotRefresh => "wrong_token_type",
            AuthFailure::Revoked => "token_revoked",
            AuthFailure::Disabled => "account_disabled",
            AuthFailure::FreshRequired => "fresh_token_required",
            AuthFailure::Csrf => "csrf_failed",
            AuthFailure::Forbidden => "forbidden",
            AuthFailure::PasswordChangeRequired => "password_change_required",
            AuthFailure::SecondFactorRequired => "second_factor_required",
            AuthFailure::TwoFactorEnrollmentRequired => "two_factor_enrollment_required",
            AuthFailure::Internal => "internal",
        }
    }

    pub fn status(self) -> rocket::http::Status {
        use rocket::http::Status;
        match self {
            AuthFailure::Csrf
            | AuthFailure::Forbidden
            | AuthFailure::PasswordChangeRequired
            | AuthFailure::SecondFactorRequired
            | AuthFailure::TwoFactorEnrollmentRequired => Status::Forbidden,
            AuthFailure::Internal => Status::InternalServerError,
            _ => Status::Unauthorized,
        }
    }
}
