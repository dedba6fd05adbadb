//! Refresh tokens: checking one against its session, and rotating it.
//! Shared by the browser's sliding renewal and `POST /api/v1/refresh`.

use crate::auth::token::{AuthFailure, Claims, TokenType};
use crate::db::audit::{self, EventKind, NewEvent};
use crate::db::session::{Device, Rotation, Session};
use crate::db::user::User;
use crate::domain::now;
use crate::state::Gatehouse;

/// The new tokens of a rotated session.
pub struct Rotated {
    pub user: User,
    pub session: Session,
    pub access_token: String,
    pub access_claims: Claims,
    pub refresh_token: String,
}

impl std::fmt::Debug for Rotated {
    /// Never prints the tokens (the user, session and claims hide their own
    /// secrets).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rotated")
            .field("user", &self.user)
            .field("session", &self.session)
            .field("access_token", &"[redacted]")
            .field("access_claims", &self.access_claims)
            .field("refresh_token", &"[redacted]")
            .finish()
    }
}

/// Checks a refresh token and its session (so a signed-out, revoked, idle,
/// expired or disabled session never renews), replaces it with a new one,
/// and mints a new, non-fresh access token. A refresh token that was already
/// replaced revokes the session (outside the short grace window).
pub async fn rotate(app: &Gatehouse, refresh_token: &str, device: Device) -> Result<Rotated, AuthFailure> {
    let rotated = rotate_uncounted(app, refresh_token, device).await;
    if let Some(m) = &app.metrics {
        match rotated {
            Ok(_) => m.sign_in("refresh"),
            Err(_) => m.sign_in_failed("refresh"),
        }
    }
    rotated
}

/// [`rotate`] without the metrics: the sign-in counters are kept by the caller.
async fn rotate_uncounted(
    app: &Gatehouse,
    refresh_token: &str,
    device: Device,
) -> Result<Rotated, AuthFailure> {
    let decoded = app.tokens.decode(refresh_token, TokenType::Refresh)?;
    if decoded.expired {
        return Err(AuthFailure::Expired);
    }
    let claims = decoded.claims;
    let (session, user) = load_active(app, &claims).await?;
    let next_jti = uuid::Uuid::new_v4().to_string();
    let grace = app.config.jwt.refresh_reuse_grace;
    let (sid, presented, next, user_id) = (session.id.clone(), claims.jti.clone(), next_jti.clone(), user.id);
    let rotation = app
        .db
        .run(move |conn| {
            let rotation = Session::rotate_refresh(conn, &sid, &presented, &next, grace)?;
            let (kind, detail) = match rotation {
                Rotation::Rotated => (EventKind::Refresh, "tokens renewed"),
                Rotation::Reused => (
                    EventKind::RefreshReused,
                    "a replaced refresh token was presented again; session revoked",
                ),
                Rotation::Grace(_) | Rotation::Refused => return Ok(rotation),
            };
            audit::record(
                conn,
                NewEvent {
                    user_id: Some(user_id),
                    device: Some(&device),
                    detail,
                    ..NewEvent::new(kind)
                },
            )?;
            Ok(rotation)
        })
        .await
        .map_err(internal("rotating a refresh token"))?;
    let current_jti = match rotation {
        Rotation::Rotated => next_jti,
        // A concurrent request rotated it a moment ago; in case its answer
        // was lost, this one carries the current refresh token too.
        Rotation::Grace(current) => current,
        Rotation::Reused => {
            if let Some(m) = &app.metrics {
                m.refresh_reused();
            }
            return Err(AuthFailure::Revoked);
        }
        Rotation::Refused => return Err(AuthFailure::Revoked),
    };
    let refresh_token = app
        .tokens
        .issue_refresh(
            user.id,
            &session.id,
            &claims.csrf,
            &current_jti,
            session.expires_at,
        )
        .map_err(internal("signing a refresh token"))?;
    let (access_token, access_claims) = app
        .issue_access(&user, &session, &claims.csrf, false)
        .map_err(internal("signing an access token"))?;
    Ok(Rotated {
        user,
        session,
        access_token,
        access_claims,
        refresh_token,
    })
}

/// The one indexed query: the token's session joined to its user, checked
/// to be live, theirs, and enabled.
pub async fn load_active(app: &Gatehouse, claims: &Claims) -> Result<(Session, User), AuthFailure> {
    let sid = claims.sid.clone();
    let loaded = app
        .db
        .read(move |conn| User::load_with_session(conn, &sid))
        .await
        .map_err(internal("checking a session"))?;
    let Some((session, user)) = loaded else {
        return Err(AuthFailure::Revoked);
    };
    let idle = app.config.jwt.session_idle_timeout;
    if Some(session.user_id) != claims.user_id() || !session.is_active(now(), idle) {
        return Err(AuthFailure::Revoked);
    }
    if user.disabled {
        return Err(AuthFailure::Disabled);
    }
    Ok((session, user))
}

pub(crate) fn internal(what: &'static str) -> impl Fn(crate::error::Error) -> AuthFailure {
    move |e| {
        log::error!("{what} failed: {}", e.chain());
        AuthFailure::Internal
    }
}
