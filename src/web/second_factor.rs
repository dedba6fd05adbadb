//! The [`SecondFactor`] guard: for an app's routes that want a session
//! signed in with a second factor.

use rocket::http::Status;
use rocket::outcome::{try_outcome, Outcome};
use rocket::request::{self, FromRequest, Request};

use super::guards::{set_failure_reason, CurrentUser};
use crate::auth::token::AuthFailure;

/// A signed-in user whose session was signed in with a second factor (a
/// TOTP or recovery code: the token's `amr` has `otp`), for an app's
/// routes that want more than a password.
///
/// Succeeds for such a session; fails with 403 (reason
/// [`AuthFailure::TwoFactorEnrollmentRequired`]: pages redirect to
/// `/account/two-factor`) for a user without two-factor sign-in on, and with
/// 403 (reason [`AuthFailure::SecondFactorRequired`]) for one who has it on
/// but signed in without a code (with Google, or before turning it on);
/// does what [`CurrentUser`] does otherwise.
#[derive(Debug, Clone)]
pub struct SecondFactor(pub CurrentUser);

impl std::ops::Deref for SecondFactor {
    type Target = CurrentUser;

    fn deref(&self) -> &CurrentUser {
        &self.0
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SecondFactor {
    type Error = AuthFailure;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        let user = try_outcome!(req.guard::<CurrentUser>().await);
        if user.claims.has_second_factor() {
            return Outcome::Success(SecondFactor(user));
        }
        let failure = if user.user.two_factor_on() {
            AuthFailure::SecondFactorRequired
        } else {
            AuthFailure::TwoFactorEnrollmentRequired
        };
        set_failure_reason(req, failure);
        Outcome::Error((Status::Forbidden, failure))
    }
}
