//! A signed-in person's own account: their display name and their sessions
//! (signing out one of them, or all of them everywhere), each change
//! audited.

use crate::db::audit::{self, EventKind, NewEvent};
use crate::db::session::{Device, Session};
use crate::db::user::User;
use crate::error::{Error, FieldErrors, Result};
use crate::services::admin::parse_name;
use crate::state::Gatehouse;

/// Sets the display name (a [`crate::domain::DisplayName`], checked as
/// the admin pages check it).
pub async fn set_name(app: &Gatehouse, user_id: i32, name: &str) -> Result<()> {
    let mut errors = FieldErrors::new();
    let name = parse_name(name, &mut errors);
    errors.into_result()?;
    let name = name.unwrap_or_default();
    app.db.run(move |conn| User::set_name(conn, user_id, &name)).await
}

/// Signs out one of the user's own sessions (from another device):
/// `NotFound` when it isn't theirs or is already over.
pub async fn sign_out_session(app: &Gatehouse, user_id: i32, session_id: &str, device: Device) -> Result<()> {
    let sid = session_id.to_owned();
    let revoked = app
        .db
        .run(move |conn| {
            let revoked = Session::revoke_own(conn, &sid, user_id)?;
            if revoked {
                audit::record(
                    conn,
                    NewEvent {
                        user_id: Some(user_id),
                        device: Some(&device),
                        detail: "another session, from the account page",
                        ..NewEvent::new(EventKind::SignOut)
                    },
                )?;
            }
            Ok(revoked)
        })
        .await?;
    if revoked {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// Ends every session of the user ("sign out everywhere"), this one too,
/// and says how many there were.
pub async fn sign_out_everywhere(app: &Gatehouse, user_id: i32, device: Device) -> Result<usize> {
    app.db
        .run(move |conn| {
            let n = Session::revoke_all_for_user(conn, user_id)?;
            audit::record(
                conn,
                NewEvent {
                    user_id: Some(user_id),
                    device: Some(&device),
                    detail: &format!("everywhere ({n} sessions)"),
                    ..NewEvent::new(EventKind::SignOut)
                },
            )?;
            Ok(n)
        })
        .await
}
