//! The second step of a sign-in with two-factor on: the password step hands
//! out a short-lived token of its own type ([`MfaClaims`]); this step takes
//! it back with a code and only then starts a session.

use sha2::{Digest, Sha256};

use super::{check_code, record_wrong_code, Factor};
use crate::auth::token::{AuthFailure, MfaClaims};
use crate::db::audit::EventKind;
use crate::db::session::Device;
use crate::db::user::User;
use crate::domain::now;
use crate::error::Error;
use crate::services::signin::{check_ip_limit, record_event, start_session, SignInError, SignedIn};
use crate::state::Gatehouse;

/// The token of a sign-in that passed its password: `bind` (the browser's
/// CSRF value, for the form) ties it to one browser; `next` is where the
/// browser goes after the code.
pub fn pending_token(
    app: &Gatehouse,
    user_id: i32,
    remember: bool,
    next: Option<String>,
    bind: Option<&str>,
) -> Result<String, Error> {
    let lifetime = app.config.two_factor.pending_expires as i64;
    app.tokens
        .issue_mfa(user_id, remember, next, bind.map(bind_hash), lifetime)
}

/// What a pending token stores of the browser's CSRF value.
fn bind_hash(value: &str) -> String {
    format!("{:x}", Sha256::digest(value.as_bytes()))
}

/// Checks a pending token: valid, of its type, unexpired, and bound to this
/// browser (`bind`: its CSRF value) or, for the JSON API (`None`), to none.
pub fn check_pending(app: &Gatehouse, token: &str, bind: Option<&str>) -> Result<MfaClaims, AuthFailure> {
    let claims = app.tokens.decode_mfa(token)?;
    let expected = bind.map(bind_hash);
    let matches = match (&claims.bind, &expected) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            use subtle::ConstantTimeEq;
            a.as_bytes().ct_eq(b.as_bytes()).into()
        }
        _ => false,
    };
    if matches {
        Ok(claims)
    } else {
        Err(AuthFailure::WrongType)
    }
}

/// Finishes a pending sign-in with a TOTP code or a recovery code (spent).
/// Wrong codes count towards the account's lockout and are audited; a
/// locked or disabled account is refused; the session starts only now.
pub async fn finish_sign_in(
    app: &Gatehouse,
    pending: &MfaClaims,
    code: &str,
    device: Device,
) -> Result<SignedIn, SignInError> {
    check_ip_limit(app, &device, None, "per-IP two-factor limit").await?;
    let Some(id) = pending.user_id() else {
        return Err(SignInError::InvalidCredentials);
    };
    let user = app.db.run(move |conn| User::find(conn, id)).await?;
    let Some(user) = user else {
        return Err(SignInError::InvalidCredentials);
    };
    if user.is_locked(now()) {
        // The same answer as a wrong code, as the password step does.
        record_event(
            app,
            Some(id),
            None,
            device,
            EventKind::SignInFailed,
            "account locked",
        )
        .await?;
        return Err(SignInError::WrongCode);
    }
    if user.disabled {
        record_event(
            app,
            Some(id),
            None,
            device,
            EventKind::SignInFailed,
            "account disabled",
        )
        .await?;
        return Err(SignInError::Disabled);
    }
    if user.updated_at > pending.iat || !user.two_factor_on() {
        // The password or two-factor sign-in changed since the password
        // step (a reset, a change, an admin's reset of two-factor): the
        // pending sign-in proves nothing any more. Sign in again.
        record_event(
            app,
            Some(id),
            None,
            device,
            EventKind::SignInFailed,
            "two-factor step after the account changed",
        )
        .await?;
        return Err(SignInError::InvalidCredentials);
    }
    match check_code(app, &user, code).await? {
        Some(factor) => {
            if factor == Factor::Recovery {
                let detail = "at sign-in";
                record_event(
                    app,
                    Some(id),
                    None,
                    device.clone(),
                    EventKind::RecoveryCodeUsed,
                    detail,
                )
                .await?;
            }
            Ok(start_session(app, user, device, pending.remember, "password+otp").await?)
        }
        None => {
            record_wrong_code(app, id, device, "wrong code at sign-in").await?;
            Err(SignInError::WrongCode)
        }
    }
}
