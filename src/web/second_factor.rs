//! The [`SecondFactor`] guard: for an app's routes that want a session
//! signed in with a second factor.

use rocket::http::Status;
use rocket::outcome::{try_outcome, Outcome};
use rocket::request::{self, FromRequest, Request};

use super::guards::{set_failure_reason, CurrentUser};
use crate::auth::token::AuthFailure;
use crate::state::Gatehouse;

/// A signed-in user whose session was signed in with a second factor (a
/// TOTP or recovery code: the token's `amr` has `otp`; or a passkey, alone
/// or after a password: `hwk`), for an app's routes that want more than a
/// password.
///
/// Succeeds for such a session; fails with 403 (reason
/// [`AuthFailure::TwoFactorEnrollmentRequired`]: pages redirect to
/// `/account/two-factor`) for a user with neither two-factor sign-in on nor
/// a passkey, and with 403 (reason [`AuthFailure::SecondFactorRequired`])
/// for one who has either but signed in without it (with Google, or before turning it on);
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
        // Enrolled: TOTP on, or a passkey (looked up only now).
        let has_passkey = match req.rocket().state::<Gatehouse>() {
            Some(app) if !user.user.two_factor_on() => {
                match crate::services::passkey::has_passkey(app, user.id()).await {
                    Ok(has) => has,
                    Err(e) => {
                        log::error!("second-factor guard: looking for passkeys: {}", e.chain());
                        set_failure_reason(req, AuthFailure::Internal);
                        return Outcome::Error((Status::InternalServerError, AuthFailure::Internal));
                    }
                }
            }
            _ => false,
        };
        let failure = if user.user.two_factor_on() || has_passkey {
            AuthFailure::SecondFactorRequired
        } else {
            AuthFailure::TwoFactorEnrollmentRequired
        };
        set_failure_reason(req, failure);
        Outcome::Error((Status::Forbidden, failure))
    }
}
