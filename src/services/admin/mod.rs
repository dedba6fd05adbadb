//! Administering users: the steps behind both the admin pages and the admin
//! JSON API, so that a page and its API route do exactly the same thing.
//! Each write checks its input, runs in one transaction with its audit event
//! (the admin as actor), and takes effect on the user's open sessions at
//! once (every request reads the user's row and session).

mod input; // what an admin types, and the checks on each field
pub mod reports; // what admins read: counts, a user's page, users and audit pages

use std::fmt;

use crate::auth::password::check_policy;
use crate::db::audit::{self, EventKind, NewEvent};
use crate::db::session::{Device, Session};
use crate::db::two_factor::TotpSecret;
use crate::db::user::{NewUser, User};
use crate::db::DbConn;
use crate::domain::Role;
use crate::error::{Error, FieldErrors, Result};
use crate::state::Gatehouse;
pub(crate) use input::parse_name;
pub use input::{form_errors, temporary_password, Changes, InitialPassword, NewAccount, MAX_NAME};
use input::{parse_email, parse_role};

/// The highest page number asked of a list (beyond it, pages are empty; an
/// unbounded one would overflow the offset).
pub const MAX_PAGE: i64 = 1_000_000;

/// Who is acting, and from where (for the audit log). Handlers get one
/// from the `Actor` request guard: a fresh admin and their device.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: i32,
    pub device: Device,
}

/// A new account, and its generated password if it got one.
pub struct Created {
    pub user: User,
    /// The generated password, to show the admin once.
    pub temporary_password: Option<String>,
}

impl fmt::Debug for Created {
    /// Never prints the temporary password (only whether there is one).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Created")
            .field("user", &self.user)
            .field(
                "temporary_password",
                &self.temporary_password.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// Runs an admin write and its audit event in one transaction. `f` returns
/// its result, the user the event is about and the event's detail.
async fn write<R: Send + 'static>(
    app: &Gatehouse,
    actor: &Actor,
    kind: EventKind,
    f: impl FnOnce(&mut DbConn) -> Result<(R, Option<i32>, String)> + Send + 'static,
) -> Result<R> {
    let Actor { id: actor_id, device } = actor.clone();
    app.db
        .run(move |conn| {
            conn.write(|conn| {
                let (result, user_id, detail) = f(conn)?;
                audit::record(
                    conn,
                    NewEvent {
                        user_id,
                        actor_id: Some(actor_id),
                        device: Some(&device),
                        detail: &detail,
                        ..NewEvent::new(kind)
                    },
                )?;
                Ok(result)
            })
        })
        .await
}

/// Creates an account with a given password (which must pass the policy) or
/// a temporary one the user must change at their next sign-in.
pub async fn create_user(app: &Gatehouse, actor: &Actor, new: NewAccount) -> Result<Created> {
    let mut errors = FieldErrors::new();
    let email = parse_email(&new.email, &mut errors);
    let name = parse_name(&new.name, &mut errors);
    let role = parse_role(&new.role, &mut errors);
    let (password, temporary) = match new.password {
        InitialPassword::Given(password) => {
            if let Err(message) = check_policy(&password, app.config.password.min_length) {
                errors.add("password", message);
            }
            (password, false)
        }
        InitialPassword::Temporary => (temporary_password(), true),
    };
    errors.into_result()?;
    let (Some(email), Some(name), Some(role)) = (email, name, role) else {
        unreachable!("no field errors, so all parsed");
    };
    let hash = app.passwords.hash(password.clone()).await?;
    let user = write(app, actor, EventKind::UserCreated, move |conn| {
        let user = User::create(
            conn,
            NewUser {
                email,
                name,
                password_hash: Some(hash.clone()),
                role,
            },
        )?;
        if temporary {
            User::set_temporary_password(conn, user.id, &hash)?;
        }
        let user = User::find(conn, user.id)?.ok_or(Error::NotFound)?;
        let how = if temporary {
            "with a temporary password"
        } else {
            "with a password"
        };
        let id = user.id;
        Ok((user, Some(id), format!("created by an admin as {role}, {how}")))
    })
    .await?;
    Ok(Created {
        user,
        temporary_password: temporary.then_some(password),
    })
}

/// Changes name, email and role. The last active admin can't be demoted
/// (`Error::Invalid`); a role change holds on the user's next request.
pub async fn edit_user(app: &Gatehouse, actor: &Actor, id: i32, changes: Changes) -> Result<User> {
    let mut errors = FieldErrors::new();
    let email = changes.email.as_deref().and_then(|e| parse_email(e, &mut errors));
    let name = changes.name.as_deref().and_then(|n| parse_name(n, &mut errors));
    let role = changes.role.as_deref().and_then(|r| parse_role(r, &mut errors));
    if actor.id == id && role.is_some_and(|r| r != Role::Admin) {
        errors.add(
            "role",
            "You cannot take away your own admin role: ask another admin.",
        );
    }
    errors.into_result()?;
    let (user, role_changed) = write(app, actor, EventKind::UserUpdated, move |conn| {
        if role.is_some() {
            // Before any write: see `lock_active_admins`.
            User::lock_active_admins(conn)?;
        }
        let before = User::get(conn, id)?;
        let mut user = User::update_profile(conn, id, name.as_ref(), email.as_ref())?;
        if let Some(role) = role {
            user = User::set_role(conn, id, role)?;
        }
        let mut changed = Vec::new();
        if before.name != user.name {
            changed.push("name".to_owned());
        }
        if before.email != user.email {
            changed.push(format!("email {} -> {}", before.email, user.email));
        }
        let role_changed = before.role != user.role;
        if role_changed {
            changed.push(format!("role {} -> {}", before.role, user.role));
        }
        let detail = if changed.is_empty() {
            "edited by an admin (no change)".to_owned()
        } else {
            format!("edited by an admin: {}", changed.join(", "))
        };
        let role_change = role_changed.then(|| format!("{} -> {}", before.role, user.role));
        Ok(((user, role_change), Some(id), detail))
    })
    .await?;
    if let Some(detail) = role_changed {
        // A role change also gets an event of its own, for the audit filter.
        write(app, actor, EventKind::RoleChanged, move |_| {
            Ok(((), Some(id), detail))
        })
        .await?;
    }
    Ok(user)
}

/// Disables or enables an account; a disabled user's open sessions stop on
/// their next request. The last active admin can't be disabled.
pub async fn set_disabled(app: &Gatehouse, actor: &Actor, id: i32, disabled: bool) -> Result<User> {
    let kind = if disabled {
        EventKind::UserDisabled
    } else {
        EventKind::UserEnabled
    };
    if disabled && actor.id == id {
        return Err(Error::Invalid(
            "You cannot disable your own account: ask another admin.".into(),
        ));
    }
    write(app, actor, kind, move |conn| {
        let user = User::set_disabled(conn, id, disabled)?;
        Ok((user, Some(id), "by an admin".to_owned()))
    })
    .await
}

/// Lifts a sign-in lockout.
pub async fn unlock(app: &Gatehouse, actor: &Actor, id: i32) -> Result<User> {
    write(app, actor, EventKind::AccountUnlocked, move |conn| {
        User::get(conn, id)?;
        User::unlock(conn, id)?;
        let user = User::get(conn, id)?;
        Ok((user, Some(id), "by an admin".to_owned()))
    })
    .await
}

/// A password reset: a new temporary password (to show the admin once) that
/// the user must change at their next sign-in; every session of theirs is
/// revoked and any lockout lifted.
pub struct Reset {
    pub user: User,
    pub temporary_password: String,
    pub sessions_revoked: usize,
}

impl fmt::Debug for Reset {
    /// Never prints the temporary password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reset")
            .field("user", &self.user)
            .field("temporary_password", &"[redacted]")
            .field("sessions_revoked", &self.sessions_revoked)
            .finish()
    }
}

pub async fn reset_password(app: &Gatehouse, actor: &Actor, id: i32) -> Result<Reset> {
    let password = temporary_password();
    let hash = app.passwords.hash(password.clone()).await?;
    let (user, sessions_revoked) = write(app, actor, EventKind::PasswordReset, move |conn| {
        User::get(conn, id)?;
        User::set_temporary_password(conn, id, &hash)?;
        User::unlock(conn, id)?;
        let revoked = Session::revoke_all_for_user(conn, id)?;
        let user = User::get(conn, id)?;
        let detail = format!("temporary password set by an admin; {revoked} session(s) revoked");
        Ok(((user, revoked), Some(id), detail))
    })
    .await?;
    Ok(Reset {
        user,
        temporary_password: password,
        sessions_revoked,
    })
}

/// Revokes one session (of `user_id`, when given: a page names the user).
/// Its tokens stop working at once.
pub async fn revoke_session(
    app: &Gatehouse,
    actor: &Actor,
    sid: &str,
    user_id: Option<i32>,
) -> Result<Session> {
    let sid = sid.to_owned();
    write(app, actor, EventKind::SignOut, move |conn| {
        let session = Session::find(conn, &sid)?
            .filter(|s| user_id.is_none_or(|id| s.user_id == id))
            .ok_or(Error::NotFound)?;
        Session::revoke(conn, &sid)?;
        let owner = Some(session.user_id);
        Ok((session, owner, "one session revoked by an admin".to_owned()))
    })
    .await
}

/// Revokes every session of a user; returns how many were active.
pub async fn revoke_all_sessions(app: &Gatehouse, actor: &Actor, id: i32) -> Result<usize> {
    write(app, actor, EventKind::SignOut, move |conn| {
        User::get(conn, id)?;
        let n = Session::revoke_all_for_user(conn, id)?;
        Ok((n, Some(id), format!("all sessions ({n}) revoked by an admin")))
    })
    .await
}

/// Unlinks a user's Google account (refused if they have no password) and
/// ends the sessions they started with Google.
pub async fn unlink_google(app: &Gatehouse, actor: &Actor, id: i32) -> Result<User> {
    write(app, actor, EventKind::GoogleUnlinked, move |conn| {
        let user = User::unlink_google(conn, id)?;
        let n = Session::revoke_by_method(conn, id, "google")?;
        Ok((
            user,
            Some(id),
            format!("by an admin; {n} Google session(s) revoked"),
        ))
    })
    .await
}

/// Turns a user's two-factor sign-in off (their secret and recovery codes
/// are deleted), for one who lost their authenticator and their codes.
pub async fn reset_two_factor(app: &Gatehouse, actor: &Actor, id: i32) -> Result<User> {
    write(app, actor, EventKind::TwoFactorReset, move |conn| {
        let user = User::get(conn, id)?;
        if !TotpSecret::disable(conn, id)? {
            return Err(Error::Invalid(format!(
                "{} does not have two-factor sign-in on.",
                user.email
            )));
        }
        Ok((User::get(conn, id)?, Some(id), "by an admin".to_owned()))
    })
    .await
}

/// Deletes a user and their sessions. The last active admin can't be
/// deleted. The event keeps the email, so the log can still be searched
/// for it.
pub async fn delete_user(app: &Gatehouse, actor: &Actor, id: i32) -> Result<User> {
    if actor.id == id {
        return Err(Error::Invalid(
            "You cannot delete your own account: ask another admin.".into(),
        ));
    }
    let Actor { id: actor_id, device } = actor.clone();
    app.db
        .run(move |conn| {
            conn.write(|conn| {
                let user = User::get(conn, id)?;
                User::delete(conn, id)?;
                audit::record(
                    conn,
                    NewEvent {
                        actor_id: Some(actor_id),
                        email: Some(&user.email),
                        device: Some(&device),
                        detail: &format!("deleted {} (user {id}) by an admin", user.email),
                        ..NewEvent::new(EventKind::UserDeleted)
                    },
                )?;
                Ok(user)
            })
        })
        .await
}
