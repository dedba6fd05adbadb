//! Signing in with a passkey: on its own (discoverable: the authenticator
//! says whose it is, through the user handle) or as the second factor after
//! a password. Both count against the per-IP sign-in limit; every refusal
//! of an answer is audited (`passkey_sign_in_failed`) with its reason.

use webauthn_rs::prelude::{
    Credential, DiscoverableAuthentication, Passkey, PasskeyAuthentication, PublicKeyCredential,
    RequestChallengeResponse,
};

use super::ceremony::{self, Started};
use crate::auth::passkey::refusal_detail;
use crate::auth::token::MfaClaims;
use crate::db::audit::EventKind;
use crate::db::passkey::{StoredPasskey, UserHandle};
use crate::db::passkey_challenge::Purpose;
use crate::db::session::Device;
use crate::db::user::User;
use crate::domain::now;
use crate::error::Error;
use crate::services::session::{issue_tokens, new_refresh_jti, open_session, SignedIn};
use crate::services::signin::{check_ip_limit, record_event, SignInError};
use crate::state::Gatehouse;

/// Starts a discoverable sign-in: no account named, any of this site's
/// passkeys may answer. `bind`: the browser's CSRF value (`None` for the
/// JSON API). Each start stores a challenge, so starts are limited per
/// address too (more generously than attempts: 429 past it).
pub async fn start_sign_in(
    app: &Gatehouse,
    bind: Option<&str>,
    device: &Device,
) -> Result<Started<RequestChallengeResponse>, SignInError> {
    if !app.limiter.check_start(device.ip.parse().ok()).await? {
        return Err(SignInError::RateLimited);
    }
    let webauthn = ceremony::relying_party(app)?;
    let (mut options, state) = webauthn
        .start_discoverable_authentication()
        .map_err(|e| Error::Config(format!("webauthn sign-in: {e}")))?;
    // webauthn-rs asks for conditional mediation (autofill); the page's
    // script picks the mediation itself (a button, or autofill).
    options.mediation = None;
    let challenge_id = ceremony::store(app, Purpose::Login, None, bind, &state).await?;
    Ok(Started {
        challenge_id,
        options,
    })
}

/// A refused answer, audited with why.
async fn refuse(
    app: &Gatehouse,
    user_id: Option<i32>,
    device: Device,
    detail: &'static str,
    error: SignInError,
) -> Result<SignedIn, SignInError> {
    if let Some(m) = &app.metrics {
        m.sign_in_failed("passkey");
    }
    record_event(app, user_id, None, device, EventKind::PasskeySignInFailed, detail).await?;
    Err(error)
}

/// Finishes a discoverable sign-in: the credential and its user handle
/// must name the same account, which must be neither disabled nor locked;
/// the signature, origin, relying party, user verification and counter are
/// checked. The passkey's counter and backup flags are stored, and a fresh
/// session starts (method `passkey`, `amr: ["hwk"]`).
pub async fn finish_sign_in(
    app: &Gatehouse,
    challenge_id: &str,
    credential: serde_json::Value,
    bind: Option<&str>,
    remember: bool,
    device: Device,
) -> Result<SignedIn, SignInError> {
    check_ip_limit(app, &device, None, "per-IP passkey sign-in limit").await?;
    let webauthn = ceremony::relying_party(app)?;
    let response: PublicKeyCredential = ceremony::credential(credential)?;
    let (_, state): (_, DiscoverableAuthentication) =
        ceremony::take(app, challenge_id, Purpose::Login, bind, None).await?;
    let Ok((handle, raw_id)) = webauthn.identify_discoverable_authentication(&response) else {
        return refuse(app, None, device, "no user handle", SignInError::PasskeyRefused).await;
    };
    let credential_id = ceremony::credential_id(raw_id);
    let found = app
        .db
        .run(move |conn| {
            let owner = UserHandle::user_id(conn, &handle)?;
            let stored = StoredPasskey::find_by_credential(conn, &credential_id)?;
            match (owner, stored) {
                (Some(owner), Some(stored)) if stored.user_id == owner => {
                    Ok(User::find(conn, owner)?.map(|user| (user, stored)))
                }
                _ => Ok(None),
            }
        })
        .await?;
    let Some((user, stored)) = found else {
        return refuse(
            app,
            None,
            device,
            "unknown credential",
            SignInError::PasskeyRefused,
        )
        .await;
    };
    let mut passkey: Passkey = serde_json::from_str(&stored.passkey)
        .map_err(|e| Error::Config(format!("stored passkey {}: {e}", stored.id)))?;
    let result = match webauthn.finish_discoverable_authentication_v2(&response, state, &passkey) {
        Ok(result) => result,
        Err(e) => {
            let detail = refusal_detail(&e);
            return refuse(app, Some(user.id), device, detail, SignInError::PasskeyRefused).await;
        }
    };
    // Only now, with the signature checked, may the answer say the account
    // is disabled (as the password path says so only after the password).
    if user.disabled {
        return refuse(
            app,
            Some(user.id),
            device,
            "account disabled",
            SignInError::Disabled,
        )
        .await;
    }
    if user.is_locked(now()) {
        return refuse(
            app,
            Some(user.id),
            device,
            "account locked",
            SignInError::PasskeyRefused,
        )
        .await;
    }
    passkey.update_credential(&result);
    finish(
        app,
        user,
        &stored,
        &passkey,
        result.backup_state(),
        device,
        remember,
        "passkey",
    )
    .await
}

/// Stores the passkey as the sign-in left it and starts the session, in
/// one transaction. The store is a compare-and-set on the row as it was
/// read: of two answers racing with one passkey, one wins and the other is
/// refused, so the stored counter never goes back.
#[allow(clippy::too_many_arguments)]
async fn finish(
    app: &Gatehouse,
    user: User,
    stored: &StoredPasskey,
    passkey: &Passkey,
    backed_up: bool,
    device: Device,
    remember: bool,
    method: &'static str,
) -> Result<SignedIn, SignInError> {
    let json = serde_json::to_string(passkey).map_err(|e| Error::Config(format!("passkey: {e}")))?;
    let lifetime = app.session_lifetime(remember);
    let refresh_jti = new_refresh_jti();
    let jti = refresh_jti.clone();
    let user_id = user.id;
    let (passkey_id, read) = (stored.id, stored.passkey.clone());
    let audit_device = device.clone();
    let session = app
        .db
        .run(move |conn| {
            conn.write(|conn| {
                if !StoredPasskey::record_use(conn, passkey_id, &read, &json, backed_up)? {
                    return Ok(None);
                }
                let session = open_session(conn, user_id, &device, remember, method, lifetime, &jti)?;
                StoredPasskey::started_session(conn, passkey_id, &session.id)?;
                Ok(Some(session))
            })
        })
        .await?;
    let Some(session) = session else {
        let detail = "the same passkey answered twice at once";
        return refuse(
            app,
            Some(user_id),
            audit_device,
            detail,
            SignInError::PasskeyRefused,
        )
        .await;
    };
    if let Some(m) = &app.metrics {
        m.sign_in(crate::metrics::method_label(method));
    }
    Ok(issue_tokens(app, user, session, &refresh_jti)?)
}

/// The pending sign-in's account, if it may still finish: not disabled,
/// not locked, unchanged since the password step, two-factor still on.
async fn pending_user(app: &Gatehouse, pending: &MfaClaims, device: &Device) -> Result<User, SignInError> {
    let Some(id) = pending.user_id() else {
        return Err(SignInError::InvalidCredentials);
    };
    let Some(user) = app.db.run(move |conn| User::find(conn, id)).await? else {
        return Err(SignInError::InvalidCredentials);
    };
    let refusal = if user.is_locked(now()) {
        Some(("account locked", SignInError::PasskeyRefused))
    } else if user.disabled {
        Some(("account disabled", SignInError::Disabled))
    } else if user.updated_at > pending.iat || !user.two_factor_on() {
        Some((
            "two-factor step after the account changed",
            SignInError::InvalidCredentials,
        ))
    } else {
        None
    };
    match refusal {
        Some((detail, error)) => {
            record_event(
                app,
                Some(id),
                None,
                device.clone(),
                EventKind::SignInFailed,
                detail,
            )
            .await?;
            Err(error)
        }
        None => Ok(user),
    }
}

/// Starts the second step of a pending sign-in with one of the account's
/// passkeys (in place of a code). `bind` as for the pending sign-in.
pub async fn start_second_factor(
    app: &Gatehouse,
    pending: &MfaClaims,
    bind: Option<&str>,
    device: Device,
) -> Result<Started<RequestChallengeResponse>, SignInError> {
    let webauthn = ceremony::relying_party(app)?;
    let user = pending_user(app, pending, &device).await?;
    let user_id = user.id;
    let stored = app.db.run(move |conn| StoredPasskey::list(conn, user_id)).await?;
    let passkeys: Vec<Passkey> = stored
        .iter()
        .filter_map(|p| serde_json::from_str(&p.passkey).ok())
        .collect();
    if passkeys.is_empty() {
        return Err(Error::Invalid("This account has no passkey: enter a code.".into()).into());
    }
    let (options, state) = webauthn
        .start_passkey_authentication(&passkeys)
        .map_err(|e| Error::Config(format!("webauthn second factor: {e}")))?;
    let challenge_id = ceremony::store(app, Purpose::SecondFactor, Some(user.id), bind, &state).await?;
    Ok(Started {
        challenge_id,
        options,
    })
}

/// Finishes a pending sign-in with a passkey of the account: checked as a
/// sign-in is; the session starts only now (method `password+passkey`,
/// `amr: ["pwd", "hwk"]`).
pub async fn finish_second_factor(
    app: &Gatehouse,
    pending: &MfaClaims,
    challenge_id: &str,
    credential: serde_json::Value,
    bind: Option<&str>,
    device: Device,
) -> Result<SignedIn, SignInError> {
    check_ip_limit(app, &device, None, "per-IP two-factor limit").await?;
    let webauthn = ceremony::relying_party(app)?;
    let response: PublicKeyCredential = ceremony::credential(credential)?;
    let user = pending_user(app, pending, &device).await?;
    let (_, state): (_, PasskeyAuthentication) =
        ceremony::take(app, challenge_id, Purpose::SecondFactor, bind, Some(user.id)).await?;
    let credential_id = ceremony::credential_id(&response.raw_id);
    let user_id = user.id;
    let stored = app
        .db
        .run(move |conn| StoredPasskey::find_by_credential(conn, &credential_id))
        .await?
        .filter(|p| p.user_id == user_id);
    let Some(stored) = stored else {
        return refuse(
            app,
            Some(user.id),
            device,
            "unknown credential at the second step",
            SignInError::PasskeyRefused,
        )
        .await;
    };
    let result = match webauthn.finish_passkey_authentication(&response, &state) {
        Ok(result) => result,
        Err(e) => {
            let detail = refusal_detail(&e);
            return refuse(app, Some(user.id), device, detail, SignInError::PasskeyRefused).await;
        }
    };
    let mut passkey: Passkey = serde_json::from_str(&stored.passkey)
        .map_err(|e| Error::Config(format!("stored passkey {}: {e}", stored.id)))?;
    // The library checked the counter against the copy taken at the start;
    // the passkey may have signed in since: check it against the stored one.
    let last = Credential::from(passkey.clone()).counter;
    if (result.counter() > 0 || last > 0) && result.counter() <= last {
        let detail = "signature counter went backwards (possible cloned authenticator)";
        return refuse(app, Some(user.id), device, detail, SignInError::PasskeyRefused).await;
    }
    passkey.update_credential(&result);
    let remember = pending.remember;
    finish(
        app,
        user,
        &stored,
        &passkey,
        result.backup_state(),
        device,
        remember,
        "password+passkey",
    )
    .await
}
