//! Starting a session for someone who has proved who they are (with a
//! password, Google or a registration link): the row, the audit event, and
//! the first tokens with a new CSRF value.

use crate::auth::token::{random_value, Claims};
use crate::db::audit::{self, EventKind, NewEvent};
use crate::db::session::{Device, NewSession, Session};
use crate::db::user::User;
use crate::db::DbConn;
use crate::error::Error;
use crate::state::Gatehouse;

/// A new session, its first (fresh) access token and its refresh token.
pub struct SignedIn {
    pub user: User,
    pub session: Session,
    pub token: String,
    pub claims: Claims,
    pub refresh_token: String,
}

impl std::fmt::Debug for SignedIn {
    /// Never prints the tokens (the user, session and claims hide their own
    /// secrets).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn")
            .field("user", &self.user)
            .field("session", &self.session)
            .field("token", &"[redacted]")
            .field("claims", &self.claims)
            .field("refresh_token", &"[redacted]")
            .finish()
    }
}

/// Starts a session for a user who has proved who they are, records it, and
/// mints a fresh access token with a new CSRF value (no fixation).
pub async fn start_session(
    app: &Gatehouse,
    user: User,
    device: Device,
    remember: bool,
    method: &'static str,
) -> Result<SignedIn, Error> {
    let lifetime = app.session_lifetime(remember);
    let user_id = user.id;
    let refresh_jti = new_refresh_jti();
    let jti = refresh_jti.clone();
    let session = app
        .db
        .run(move |conn| {
            conn.write(|conn| open_session(conn, user_id, &device, remember, method, lifetime, &jti))
        })
        .await?;
    if let Some(m) = &app.metrics {
        m.sign_in(crate::metrics::method_label(method));
    }
    issue_tokens(app, user, session, &refresh_jti)
}

/// A new session's first refresh token id.
pub fn new_refresh_jti() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The database half of starting a session: the row, the user's last
/// sign-in, the audit event. Call it inside a transaction, with whatever
/// else must happen all together or not at all.
pub fn open_session(
    conn: &mut DbConn,
    user_id: i32,
    device: &Device,
    remember: bool,
    method: &str,
    lifetime: i64,
    refresh_jti: &str,
) -> Result<Session, Error> {
    let session = Session::create(
        conn,
        NewSession {
            user_id,
            device,
            remember,
            method,
            lifetime,
            refresh_jti,
        },
    )?;
    User::record_sign_in(conn, user_id)?;
    audit::record(
        conn,
        NewEvent {
            user_id: Some(user_id),
            device: Some(device),
            detail: method,
            ..NewEvent::new(EventKind::SignIn)
        },
    )?;
    Ok(session)
}

/// The token half: a fresh access token with a new CSRF value, and the
/// session's refresh token.
pub fn issue_tokens(
    app: &Gatehouse,
    user: User,
    session: Session,
    refresh_jti: &str,
) -> Result<SignedIn, Error> {
    let csrf = random_value();
    let (token, claims) = app.issue_access(&user, &session, &csrf, true)?;
    let refresh_token =
        app.tokens
            .issue_refresh(user.id, &session.id, &csrf, refresh_jti, session.expires_at)?;
    Ok(SignedIn {
        user,
        session,
        token,
        claims,
        refresh_token,
    })
}
