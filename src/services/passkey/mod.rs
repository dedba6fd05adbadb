//! Passkeys (WebAuthn): registering one (a fresh sign-in needed), listing,
//! renaming and removing them (audited; an admin's removal names the admin),
//! and, in [`signin`], signing in with one: on its own (a discoverable
//! credential, no email typed) or as the second factor after a password.
//! Every ceremony's state is kept server-side for 5 minutes and taken once.

mod ceremony; // challenges stored and taken once, names, the client's credential
mod signin; // the discoverable sign-in and the second factor

use webauthn_rs::prelude::{CreationChallengeResponse, Credential, Passkey, RegisterPublicKeyCredential};
use webauthn_rs_proto::ResidentKeyRequirement;

pub use ceremony::{check_name, Started};
pub use signin::{finish_second_factor, finish_sign_in, start_second_factor, start_sign_in};

use crate::db::audit::{self, EventKind, NewEvent};
use crate::db::passkey::{NewPasskey, StoredPasskey, UserHandle};
use crate::db::passkey_challenge::Purpose;
use crate::db::session::Device;
use crate::db::user::User;
use crate::error::{Error, Result};
use crate::state::Gatehouse;

/// Whether passkeys are on (`[webauthn]`).
pub fn enabled(app: &Gatehouse) -> bool {
    app.webauthn.is_some()
}

/// A user's passkeys, oldest first.
pub async fn list(app: &Gatehouse, user_id: i32) -> Result<Vec<StoredPasskey>> {
    app.db.run(move |conn| StoredPasskey::list(conn, user_id)).await
}

/// How many passkeys a user has.
pub async fn count(app: &Gatehouse, user_id: i32) -> Result<i64> {
    app.db.run(move |conn| StoredPasskey::count(conn, user_id)).await
}

/// Whether a user has at least one passkey.
pub async fn has_passkey(app: &Gatehouse, user_id: i32) -> Result<bool> {
    Ok(count(app, user_id).await? > 0)
}

/// Starts registering a passkey for a (freshly signed-in) user: a
/// discoverable credential with user verification, none of the user's own
/// passkeys again. `bind`: the browser's CSRF value (`None` for the API).
pub async fn start_registration(
    app: &Gatehouse,
    user: &User,
    bind: Option<&str>,
) -> Result<Started<CreationChallengeResponse>> {
    let webauthn = ceremony::relying_party(app)?;
    let user_id = user.id;
    let (handle, existing) = app
        .db
        .run(move |conn| {
            conn.write(|conn| {
                let handle = UserHandle::find_or_create(conn, user_id)?;
                Ok((handle, StoredPasskey::list(conn, user_id)?))
            })
        })
        .await?;
    let exclude = existing
        .iter()
        .filter_map(|p| serde_json::from_str::<Passkey>(&p.passkey).ok())
        .map(|p| p.cred_id().clone())
        .collect();
    let (mut options, state) = webauthn
        .start_passkey_registration(handle, &user.email, user.display_name(), Some(exclude))
        .map_err(|e| Error::Config(format!("webauthn registration: {e}")))?;
    // A passkey that signs in without an email typed must be discoverable
    // (a resident key); webauthn-rs leaves it to the authenticator.
    if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
        selection.resident_key = Some(ResidentKeyRequirement::Required);
        selection.require_resident_key = true;
    }
    let challenge_id = ceremony::store(app, Purpose::Register, Some(user.id), bind, &state).await?;
    Ok(Started {
        challenge_id,
        options,
    })
}

/// Finishes a registration: the authenticator's answer checked against the
/// stored challenge (this user's, this browser's), then the passkey stored
/// under `name` and audited.
pub async fn finish_registration(
    app: &Gatehouse,
    user: &User,
    challenge_id: &str,
    name: &str,
    credential: serde_json::Value,
    bind: Option<&str>,
    device: Device,
) -> Result<StoredPasskey> {
    let webauthn = ceremony::relying_party(app)?;
    // The name first: a bad one leaves the challenge for a second try.
    let name = check_name(name)?;
    let response: RegisterPublicKeyCredential = ceremony::credential(credential)?;
    let (_, state) = ceremony::take(app, challenge_id, Purpose::Register, bind, Some(user.id)).await?;
    let passkey = webauthn
        .finish_passkey_registration(&response, &state)
        .map_err(|e| Error::Invalid(format!("The passkey was not accepted ({e}). Try again.")))?;
    let backed_up = Credential::from(passkey.clone()).backup_state;
    let credential_id = ceremony::credential_id(passkey.cred_id());
    let json = serde_json::to_string(&passkey).map_err(|e| Error::Config(format!("passkey: {e}")))?;
    let user_id = user.id;
    app.db
        .run(move |conn| {
            conn.write(|conn| {
                let stored = StoredPasskey::insert(
                    conn,
                    NewPasskey {
                        user_id,
                        credential_id: &credential_id,
                        name: &name,
                        passkey: &json,
                        backed_up,
                    },
                )?;
                audit::record(
                    conn,
                    NewEvent {
                        user_id: Some(user_id),
                        device: Some(&device),
                        detail: &stored.name,
                        ..NewEvent::new(EventKind::PasskeyAdded)
                    },
                )?;
                Ok(stored)
            })
        })
        .await
}

/// Renames one of a user's passkeys (audited); `NotFound` when it is not
/// theirs.
pub async fn rename(
    app: &Gatehouse,
    user_id: i32,
    id: i32,
    name: &str,
    device: Device,
) -> Result<StoredPasskey> {
    ceremony::relying_party(app)?;
    let name = check_name(name)?;
    app.db
        .run(move |conn| {
            conn.write(|conn| {
                let stored = StoredPasskey::rename(conn, user_id, id, &name)?.ok_or(Error::NotFound)?;
                audit::record(
                    conn,
                    NewEvent {
                        user_id: Some(user_id),
                        device: Some(&device),
                        detail: &stored.name,
                        ..NewEvent::new(EventKind::PasskeyRenamed)
                    },
                )?;
                Ok(stored)
            })
        })
        .await
}

/// Removes one of a user's passkeys and signs out the sessions it started
/// (all but `keep`, the session asking, when it is the owner's), audited: `actor` is who did it when
/// not the user (an admin), `device` where from (none from the command
/// line). `NotFound` when the user has no such passkey. Works with
/// passkeys off too (an admin cleaning up).
pub async fn remove(
    app: &Gatehouse,
    user_id: i32,
    id: i32,
    actor: Option<i32>,
    device: Option<Device>,
    keep: Option<String>,
) -> Result<StoredPasskey> {
    app.db
        .run(move |conn| remove_now(conn, user_id, id, actor, device.as_ref(), keep.as_deref()))
        .await
}

/// [`remove`], on a connection (the command line's).
pub fn remove_now(
    conn: &mut crate::db::DbConn,
    user_id: i32,
    id: i32,
    actor: Option<i32>,
    device: Option<&Device>,
    keep: Option<&str>,
) -> Result<StoredPasskey> {
    conn.write(|conn| {
        // The sessions it started end with it (a lost device's), but the
        // one removing it (`keep`: its owner, here and fresh) goes on.
        let signed_out = StoredPasskey::revoke_sessions(conn, id, keep)?;
        let stored = StoredPasskey::delete(conn, user_id, id)?.ok_or(Error::NotFound)?;
        let by = match actor {
            Some(_) => " (by an admin)",
            None if device.is_none() => " (from the command line)",
            None => "",
        };
        let detail = format!("{}{by}; {signed_out} session(s) signed out", stored.name);
        audit::record(
            conn,
            NewEvent {
                user_id: Some(user_id),
                actor_id: actor,
                device,
                detail: &detail,
                ..NewEvent::new(EventKind::PasskeyRemoved)
            },
        )?;
        Ok(stored)
    })
}
