//! Request guards. Holding a [`CurrentUser`] proves the request carries a
//! valid token of an active session of an enabled user: only `FromRequest`
//! can build one.

use std::sync::Mutex;

use rocket::http::Status;
use rocket::outcome::{try_outcome, Outcome};
use rocket::request::{self, FromRequest, Request};

use super::token::{AuthFailure, Claims, TokenType};
use super::{cookies, csrf};
use crate::app::Gatehouse;
use crate::db::audit::{self, EventKind, NewEvent};
use crate::db::now;
use crate::db::session::{Device, Rotation, Session};
use crate::db::user::User;
use crate::domain::Role;

/// The signed-in user of this request, their session and the token's claims.
///
/// - Succeeds when the access token (cookie, else `Authorization: Bearer`)
///   is valid and its session is neither revoked nor expired and the user is
///   not disabled. An expired cookie of a live session is renewed in place.
/// - Forwards with 401 when the request carries no token, so a route of
///   lower rank can serve anonymous visitors.
/// - Fails with 401 (500 if the database can't be reached) otherwise; the
///   reason is kept for the catchers ([`failure_reason`]).
///
/// The work is done once per request (cached with `local_cache`), whichever
/// guards ask, and costs one indexed query.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    pub session: Session,
    pub claims: Claims,
    /// Whether the token came from a cookie (cookie-authenticated writes
    /// need the CSRF value).
    pub from_cookie: bool,
}

/// Alias for handlers that need a signed-in user but don't read it:
/// `fn page(_user: LoginRequired)`.
pub type LoginRequired = CurrentUser;

impl CurrentUser {
    pub fn id(&self) -> i32 {
        self.user.id
    }

    pub fn role(&self) -> Role {
        self.user.role()
    }
}

/// The cached outcome of authenticating this request.
struct Cached(Option<Result<CurrentUser, AuthFailure>>);

/// The latest reason a guard refused this request, for catchers.
struct Reason(Mutex<Option<AuthFailure>>);

fn reason_slot<'r>(req: &'r Request<'_>) -> &'r Reason {
    req.local_cache(|| Reason(Mutex::new(None)))
}

/// Why this request was refused, if a Gatehouse guard refused it. Custom
/// catchers use this to answer each reason their own way.
pub fn failure_reason(req: &Request<'_>) -> Option<AuthFailure> {
    *reason_slot(req).0.lock().unwrap_or_else(|e| e.into_inner())
}

/// Records why a request was refused (the latest refusal is what the
/// request ends on).
pub fn set_failure_reason(req: &Request<'_>, reason: AuthFailure) {
    *reason_slot(req).0.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason);
}

/// Authenticates the request once and caches the outcome.
pub async fn authenticate<'r>(req: &'r Request<'_>) -> &'r Result<CurrentUser, AuthFailure> {
    let cached = req
        .local_cache_async(async { Cached(Some(resolve(req).await)) })
        .await;
    cached.0.as_ref().expect("cached authentication is always set")
}

fn bearer_token<'r>(req: &'r Request<'_>) -> Option<&'r str> {
    let value = req.headers().get_one("Authorization")?;
    let (scheme, token) = value.trim().split_once(' ')?;
    (scheme.eq_ignore_ascii_case("Bearer") || scheme == "JWT").then(|| token.trim())
}

async fn resolve(req: &Request<'_>) -> Result<CurrentUser, AuthFailure> {
    let Some(app) = req.rocket().state::<Gatehouse>() else {
        log::error!("Gatehouse state is missing: was the app built with gatehouse::build?");
        return Err(AuthFailure::Internal);
    };
    let config = &app.config.jwt;
    let jar = req.cookies();
    let access = jar.get(&config.access_cookie_name).map(|c| c.value().to_owned());
    let refresh = jar.get(&config.refresh_cookie_name).map(|c| c.value().to_owned());
    if access.is_none() && refresh.is_none() {
        return match bearer_token(req) {
            Some(token) => from_bearer(app, token).await,
            None => Err(AuthFailure::Missing),
        };
    }
    let result = from_cookies(app, req, access.as_deref(), refresh.as_deref()).await;
    if matches!(&result, Err(f) if *f != AuthFailure::Internal) {
        // Cookies that will never work again are removed rather than sent
        // back on every request.
        cookies::apply_from_guard(req, cookies::removals(jar, config));
    }
    result
}

/// An API client's token: valid, unexpired, of a live session.
async fn from_bearer(app: &Gatehouse, token: &str) -> Result<CurrentUser, AuthFailure> {
    let decoded = app.tokens.decode(token, TokenType::Access)?;
    if decoded.expired {
        return Err(AuthFailure::Expired);
    }
    let (session, user) = load_active(app, &decoded.claims).await?;
    Ok(CurrentUser {
        user,
        session,
        claims: decoded.claims,
        from_cookie: false,
    })
}

/// A browser's cookies. A valid access cookie is enough; when it has expired
/// (or is gone) the refresh cookie renews both, rotating the refresh token.
/// A tampered or otherwise invalid access cookie is refused outright.
async fn from_cookies(
    app: &Gatehouse,
    req: &Request<'_>,
    access: Option<&str>,
    refresh: Option<&str>,
) -> Result<CurrentUser, AuthFailure> {
    let access = access
        .map(|t| app.tokens.decode(t, TokenType::Access))
        .transpose()?;
    if let Some(decoded) = access.as_ref().filter(|d| !d.expired) {
        let (session, user) = load_active(app, &decoded.claims).await?;
        return Ok(CurrentUser {
            user,
            session,
            claims: decoded.claims.clone(),
            from_cookie: true,
        });
    }
    let Some(refresh) = refresh else {
        return Err(if access.is_some() {
            AuthFailure::Expired
        } else {
            AuthFailure::Missing
        });
    };
    renew(app, req, refresh).await
}

/// Sliding renewal: checks the refresh cookie and its session (so a
/// signed-out or revoked session never renews), rotates the refresh token,
/// and sets new cookies.
async fn renew(app: &Gatehouse, req: &Request<'_>, refresh: &str) -> Result<CurrentUser, AuthFailure> {
    let decoded = app.tokens.decode(refresh, TokenType::Refresh)?;
    if decoded.expired {
        return Err(AuthFailure::Expired);
    }
    let claims = decoded.claims;
    let (session, user) = load_active(app, &claims).await?;
    let next_jti = uuid::Uuid::new_v4().to_string();
    let grace = app.config.jwt.refresh_reuse_grace;
    let (sid, presented, next, user_id) = (session.id.clone(), claims.jti.clone(), next_jti.clone(), user.id);
    let device = Device::from_request_parts(req);
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
    let config = &app.config.jwt;
    let expires = session.remember.then_some(session.expires_at);
    let current_jti = match rotation {
        Rotation::Rotated => next_jti,
        // A concurrent request rotated it a moment ago; in case its answer
        // was lost, this one carries the current refresh token too.
        Rotation::Grace(current) => current,
        Rotation::Reused | Rotation::Refused => return Err(AuthFailure::Revoked),
    };
    let token = app
        .tokens
        .issue_refresh(
            user.id,
            &session.id,
            &claims.csrf,
            &current_jti,
            session.expires_at,
        )
        .map_err(internal("signing a refresh token"))?;
    cookies::apply_from_guard(req, vec![cookies::refresh(config, token, expires)]);
    let (token, access) = app
        .tokens
        .issue_access(user.id, &session.id, &claims.csrf, false)
        .map_err(internal("signing an access token"))?;
    cookies::apply_from_guard(req, cookies::access(config, token, access.csrf.clone(), expires));
    Ok(CurrentUser {
        user,
        session,
        claims: access,
        from_cookie: true,
    })
}

/// The one indexed query: the token's session joined to its user, checked
/// to be live, theirs, and enabled.
async fn load_active(app: &Gatehouse, claims: &Claims) -> Result<(Session, User), AuthFailure> {
    let sid = claims.sid.clone();
    let loaded = app
        .db
        .run(move |conn| User::load_with_session(conn, &sid))
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

fn internal(what: &'static str) -> impl Fn(crate::error::Error) -> AuthFailure {
    move |e| {
        log::error!("{what} failed: {}", e.chain());
        AuthFailure::Internal
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CurrentUser {
    type Error = AuthFailure;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        match authenticate(req).await {
            Ok(_) if csrf::rejected(req) => {
                set_failure_reason(req, AuthFailure::Csrf);
                Outcome::Error((Status::Forbidden, AuthFailure::Csrf))
            }
            Ok(user) => Outcome::Success(user.clone()),
            Err(AuthFailure::Missing) => {
                set_failure_reason(req, AuthFailure::Missing);
                Outcome::Forward(Status::Unauthorized)
            }
            Err(failure) => {
                set_failure_reason(req, *failure);
                Outcome::Error((failure.status(), *failure))
            }
        }
    }
}

/// A signed-in user with the `admin` role, checked on every request.
///
/// Succeeds for an admin; fails with 403 for any other signed-in user; does
/// what [`CurrentUser`] does when nobody is signed in.
#[derive(Debug, Clone)]
pub struct AdminUser(pub CurrentUser);

impl std::ops::Deref for AdminUser {
    type Target = CurrentUser;

    fn deref(&self) -> &CurrentUser {
        &self.0
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for AdminUser {
    type Error = AuthFailure;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        let user = try_outcome!(req.guard::<CurrentUser>().await);
        if user.role() == Role::Admin {
            Outcome::Success(AdminUser(user))
        } else {
            set_failure_reason(req, AuthFailure::Forbidden);
            Outcome::Error((Status::Forbidden, AuthFailure::Forbidden))
        }
    }
}

impl Device {
    pub fn from_request_parts(req: &Request<'_>) -> Device {
        Device {
            user_agent: req.headers().get_one("User-Agent").unwrap_or("").to_owned(),
            ip: req.client_ip().map(|ip| ip.to_string()).unwrap_or_default(),
        }
    }
}

/// The device a request comes from, for sessions and the audit log.
#[rocket::async_trait]
impl<'r> FromRequest<'r> for Device {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        Outcome::Success(Device::from_request_parts(req))
    }
}
