//! Sessions: one row per sign-in. Every token carries its session id, so
//! revoking the row revokes the tokens.

use diesel::prelude::*;
use serde::Serialize;

use super::schema::sessions;
use super::DbConn;
use crate::domain::now;
use crate::domain::text::escaped;
use crate::error::Result;

#[derive(Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id: String,
    pub user_id: i32,
    pub user_agent: String,
    pub ip: String,
    pub remember: bool,
    pub method: String,
    pub created_at: i64,
    pub last_used_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    #[serde(skip)]
    pub refresh_jti: Option<String>,
    #[serde(skip)]
    pub previous_refresh_jti: Option<String>,
    #[serde(skip)]
    pub refreshed_at: Option<i64>,
}

impl std::fmt::Debug for Session {
    /// Never prints the refresh token ids (only whether there are some).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |jti: &Option<String>| jti.as_ref().map(|_| "[redacted]");
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("user_agent", &self.user_agent)
            .field("ip", &self.ip)
            .field("remember", &self.remember)
            .field("method", &self.method)
            .field("created_at", &self.created_at)
            .field("last_used_at", &self.last_used_at)
            .field("expires_at", &self.expires_at)
            .field("revoked_at", &self.revoked_at)
            .field("refresh_jti", &redacted(&self.refresh_jti))
            .field("previous_refresh_jti", &redacted(&self.previous_refresh_jti))
            .field("refreshed_at", &self.refreshed_at)
            .finish()
    }
}

/// What became of a presented refresh token.
#[derive(Clone, PartialEq, Eq)]
pub enum Rotation {
    /// It was current and has been replaced.
    Rotated,
    /// It was replaced moments ago by a concurrent request: honoured, and
    /// the browser gets the current one (whose `jti` this is) again.
    Grace(String),
    /// It was replaced earlier: stolen or replayed, so the session is revoked.
    Reused,
    /// Unknown, or its session is revoked.
    Refused,
}

impl std::fmt::Debug for Rotation {
    /// Never prints the current refresh token's id.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rotation::Rotated => f.write_str("Rotated"),
            Rotation::Grace(_) => f.debug_tuple("Grace").field(&"[redacted]").finish(),
            Rotation::Reused => f.write_str("Reused"),
            Rotation::Refused => f.write_str("Refused"),
        }
    }
}

/// The most characters a session or an audit event keeps of a User-Agent.
pub const MAX_USER_AGENT: usize = 300;

/// What the sign-in knows about the device.
#[derive(Debug, Clone, Default)]
pub struct Device {
    pub user_agent: String,
    pub ip: String,
}

pub struct NewSession<'a> {
    pub user_id: i32,
    pub device: &'a Device,
    pub remember: bool,
    pub method: &'a str,
    /// Seconds from now until the session ends, whatever its activity.
    pub lifetime: i64,
    /// The `jti` of the session's first refresh token.
    pub refresh_jti: &'a str,
}

impl Session {
    /// Not revoked, not past its absolute end, and used within `idle`
    /// seconds.
    pub fn is_active(&self, now: i64, idle: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at > now && now - self.last_used_at <= idle
    }

    pub fn create(conn: &mut DbConn, new: NewSession<'_>) -> Result<Session> {
        let now = now();
        let session = Session {
            id: uuid::Uuid::new_v4().to_string(),
            user_id: new.user_id,
            user_agent: escaped(&new.device.user_agent, MAX_USER_AGENT),
            ip: truncate(&new.device.ip, 64),
            remember: new.remember,
            method: new.method.to_owned(),
            created_at: now,
            last_used_at: now,
            expires_at: now + new.lifetime,
            revoked_at: None,
            refresh_jti: Some(new.refresh_jti.to_owned()),
            previous_refresh_jti: None,
            refreshed_at: None,
        };
        diesel::insert_into(sessions::table)
            .values((
                sessions::id.eq(&session.id),
                sessions::user_id.eq(session.user_id),
                sessions::user_agent.eq(&session.user_agent),
                sessions::ip.eq(&session.ip),
                sessions::remember.eq(session.remember),
                sessions::method.eq(&session.method),
                sessions::created_at.eq(session.created_at),
                sessions::last_used_at.eq(session.last_used_at),
                sessions::expires_at.eq(session.expires_at),
                sessions::refresh_jti.eq(&session.refresh_jti),
            ))
            .execute(conn)?;
        Ok(session)
    }

    /// Revokes one session (sign-out). Returns whether it was still active.
    pub fn revoke(conn: &mut DbConn, id: &str) -> Result<bool> {
        let n = diesel::update(sessions::table.find(id).filter(sessions::revoked_at.is_null()))
            .set(sessions::revoked_at.eq(now()))
            .execute(conn)?;
        Ok(n > 0)
    }

    /// Revokes every active session of a user ("sign out everywhere").
    pub fn revoke_all_for_user(conn: &mut DbConn, user_id: i32) -> Result<usize> {
        Ok(diesel::update(
            sessions::table
                .filter(sessions::user_id.eq(user_id))
                .filter(sessions::revoked_at.is_null()),
        )
        .set(sessions::revoked_at.eq(now()))
        .execute(conn)?)
    }

    pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<Session>> {
        Ok(sessions::table
            .find(id)
            .select(Session::as_select())
            .first(conn)
            .optional()?)
    }

    /// How many sessions are live now.
    pub fn count_active(conn: &mut DbConn) -> Result<i64> {
        Ok(sessions::table
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::expires_at.gt(now()))
            .count()
            .get_result(conn)?)
    }

    /// A user's live sessions (not revoked, expired or idle for longer than
    /// `idle` seconds), newest first.
    pub fn list_active(conn: &mut DbConn, user_id: i32, idle: i64) -> Result<Vec<Session>> {
        let now = now();
        Ok(sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::expires_at.gt(now))
            .filter(sessions::last_used_at.ge(now - idle))
            .order(sessions::created_at.desc())
            .select(Session::as_select())
            .load(conn)?)
    }

    /// Revokes one of a user's own sessions; false if it isn't theirs or is
    /// already over.
    pub fn revoke_own(conn: &mut DbConn, id: &str, user_id: i32) -> Result<bool> {
        let n = diesel::update(
            sessions::table
                .find(id)
                .filter(sessions::user_id.eq(user_id))
                .filter(sessions::revoked_at.is_null()),
        )
        .set(sessions::revoked_at.eq(now()))
        .execute(conn)?;
        Ok(n > 0)
    }

    /// Revokes a user's active sessions started one way (`google`, say).
    pub fn revoke_by_method(conn: &mut DbConn, user_id: i32, method: &str) -> Result<usize> {
        Ok(diesel::update(
            sessions::table
                .filter(sessions::user_id.eq(user_id))
                .filter(sessions::method.eq(method))
                .filter(sessions::revoked_at.is_null()),
        )
        .set(sessions::revoked_at.eq(now()))
        .execute(conn)?)
    }

    /// Revokes every active session of a user but one (the one in use).
    pub fn revoke_others(conn: &mut DbConn, user_id: i32, keep: &str) -> Result<usize> {
        Ok(diesel::update(
            sessions::table
                .filter(sessions::user_id.eq(user_id))
                .filter(sessions::id.ne(keep))
                .filter(sessions::revoked_at.is_null()),
        )
        .set(sessions::revoked_at.eq(now()))
        .execute(conn)?)
    }

    /// Replaces the session's refresh token `presented` by `next`.
    /// Any other token of this session (one already replaced) is reuse, and
    /// revokes the session, unless it is the one replaced within `grace`
    /// seconds (two requests renewing at once).
    pub fn rotate_refresh(
        conn: &mut DbConn,
        id: &str,
        presented: &str,
        next: &str,
        grace: i64,
    ) -> Result<Rotation> {
        let now = now();
        let rotated = diesel::update(
            sessions::table
                .find(id)
                .filter(sessions::revoked_at.is_null())
                .filter(sessions::refresh_jti.eq(presented)),
        )
        .set((
            sessions::refresh_jti.eq(next),
            sessions::previous_refresh_jti.eq(presented),
            sessions::refreshed_at.eq(now),
            sessions::last_used_at.eq(now),
        ))
        .execute(conn)?;
        if rotated == 1 {
            return Ok(Rotation::Rotated);
        }
        let session: Option<Session> = sessions::table
            .find(id)
            .select(Session::as_select())
            .first(conn)
            .optional()?;
        let Some(session) = session else {
            return Ok(Rotation::Refused);
        };
        if session.revoked_at.is_some() {
            return Ok(Rotation::Refused);
        }
        let just_replaced = session.previous_refresh_jti.as_deref() == Some(presented)
            && session.refreshed_at.is_some_and(|at| now - at <= grace);
        match session.refresh_jti {
            Some(current) if just_replaced => Ok(Rotation::Grace(current)),
            _ => {
                Session::revoke(conn, id)?;
                Ok(Rotation::Reused)
            }
        }
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}
