//! Request guards. Holding a [`CurrentUser`] proves the request carries a
//! valid token of an active session of an enabled user: only `FromRequest`
//! can build one.

use std::sync::Mutex;

use rocket::http::Status;
use rocket::outcome::{try_outcome, Outcome};
use rocket::request::{self, FromRequest, Request};

use super::cookies;
use crate::auth::token::{AuthFailure, Claims, Decoded, TokenType};
use crate::config::{JwtConfig, Location};
use crate::db::session::{Device, Session};
use crate::db::user::User;
use crate::domain::now;
use crate::domain::Role;
use crate::services::admin::Actor;
use crate::services::refresh::{self, load_active};
use crate::state::Gatehouse;

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

/// The token in the configured header, if the header is there. A header of
/// another form (no token, an unknown type) is malformed, not missing.
pub(crate) fn header_token<'r>(
    req: &'r Request<'_>,
    config: &JwtConfig,
) -> Option<Result<&'r str, AuthFailure>> {
    let value = req.headers().get_one(&config.header_name)?;
    let parsed = value.trim().split_once(' ').and_then(|(kind, token)| {
        let token = token.trim();
        let known = config.header_types.iter().any(|t| t.eq_ignore_ascii_case(kind));
        (known && !token.is_empty() && !token.contains(' ')).then_some(token)
    });
    Some(parsed.ok_or(AuthFailure::Malformed))
}

async fn resolve(req: &Request<'_>) -> Result<CurrentUser, AuthFailure> {
    let Some(app) = req.rocket().state::<Gatehouse>() else {
        log::error!("Gatehouse state is missing: was the app built with gatehouse::build?");
        return Err(AuthFailure::Internal);
    };
    let config = &app.config.jwt;
    // The first location (in the configured order) that holds a token
    // decides; a bad token there is reported as such.
    for location in &config.token_location {
        match location {
            Location::Cookies => {
                let jar = req.cookies();
                let access = jar.get(&config.access_cookie_name).map(|c| c.value().to_owned());
                let refresh = jar.get(&config.refresh_cookie_name).map(|c| c.value().to_owned());
                if access.is_none() && refresh.is_none() {
                    continue;
                }
                let result = from_cookies(app, req, access.as_deref(), refresh.as_deref()).await;
                if matches!(&result, Err(f) if *f != AuthFailure::Internal) {
                    // Cookies that will never work again are removed rather
                    // than sent back on every request.
                    cookies::apply_from_guard(req, cookies::removals(jar, config));
                }
                return result;
            }
            Location::Headers => {
                if let Some(token) = header_token(req, config) {
                    return from_token(app, token?).await;
                }
            }
            Location::QueryString => {
                if let Some(token) = req.query_value::<&str>(&config.query_string_name) {
                    return from_token(app, token.map_err(|_| AuthFailure::Malformed)?).await;
                }
            }
            // Read by the `JsonAuth` data guard: a request guard can't see
            // the body.
            Location::Json => {}
        }
    }
    Err(AuthFailure::Missing)
}

/// A token from a header, the query string or a JSON body: valid, unexpired,
/// of a live session.
pub(crate) async fn from_token(app: &Gatehouse, token: &str) -> Result<CurrentUser, AuthFailure> {
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
    // A valid access cookie serves as it is, unless it is about to expire
    // and a refresh cookie can renew it now (so a page's later requests
    // don't all race to renew).
    let margin = app.config.jwt.renew_before_expiry;
    let fresh_enough = |d: &&Decoded| !d.expired && (refresh.is_none() || d.claims.exp - now() > margin);
    if let Some(decoded) = access.as_ref().filter(fresh_enough) {
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
    // Sliding renewal: the refresh cookie renews both cookies.
    let rotated = refresh::rotate(app, refresh, Device::from_request_parts(req)).await?;
    let set = cookies::for_session(
        &app.config.jwt,
        &rotated.session,
        &rotated.access_token,
        &rotated.access_claims.csrf,
        &rotated.refresh_token,
    );
    cookies::apply_from_guard(req, set);
    Ok(CurrentUser {
        user: rotated.user,
        session: rotated.session,
        claims: rotated.access_claims,
        from_cookie: true,
    })
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CurrentUser {
    type Error = AuthFailure;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        match authenticate(req).await {
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
/// Succeeds for an admin; fails with 403 for any other signed-in user, and
/// (with `[two_factor] required_for_admins`) for an admin with neither
/// two-factor sign-in on nor a passkey (reason [`AuthFailure::TwoFactorEnrollmentRequired`]:
/// pages redirect to `/account/two-factor`), or whose only second factor is
/// a passkey this session didn't use (reason
/// [`AuthFailure::SecondFactorRequired`]); does what [`CurrentUser`] does
/// when nobody is signed in.
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
        if user.role() != Role::Admin {
            set_failure_reason(req, AuthFailure::Forbidden);
            return Outcome::Error((Status::Forbidden, AuthFailure::Forbidden));
        }
        let required = req
            .rocket()
            .state::<Gatehouse>()
            .filter(|app| app.config.two_factor.required_for_admins && !user.user.two_factor_on());
        if let Some(app) = required {
            // A passkey satisfies it too (looked up only for an admin
            // without TOTP, under the requirement), but only in a session
            // that used one: a password sign-in asks for a second step only
            // when TOTP is on, so a password alone must not open the admin.
            let failure = match crate::services::passkey::has_passkey(app, user.id()).await {
                Ok(true) if user.claims.has_second_factor() => None,
                Ok(true) => Some(AuthFailure::SecondFactorRequired),
                Ok(false) => Some(AuthFailure::TwoFactorEnrollmentRequired),
                Err(e) => {
                    log::error!("admin guard: looking for passkeys: {}", e.chain());
                    Some(AuthFailure::Internal)
                }
            };
            if let Some(failure) = failure {
                set_failure_reason(req, failure);
                return Outcome::Error((failure.status(), failure));
            }
        }
        Outcome::Success(AdminUser(user))
    }
}

/// A signed-in user whose token is fresh: issued by a password (or Google)
/// sign-in, not by a renewal. For sensitive actions.
///
/// Succeeds for a fresh token; fails with 401 (reason
/// [`AuthFailure::FreshRequired`]) for a renewed one; does what
/// [`CurrentUser`] does otherwise.
#[derive(Debug, Clone)]
pub struct FreshLogin(pub CurrentUser);

impl std::ops::Deref for FreshLogin {
    type Target = CurrentUser;

    fn deref(&self) -> &CurrentUser {
        &self.0
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for FreshLogin {
    type Error = AuthFailure;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        let user = try_outcome!(req.guard::<CurrentUser>().await);
        if user.claims.fresh {
            Outcome::Success(FreshLogin(user))
        } else {
            set_failure_reason(req, AuthFailure::FreshRequired);
            Outcome::Error((Status::Unauthorized, AuthFailure::FreshRequired))
        }
    }
}

/// An admin with a fresh token, for admin writes: fails with 403 for a
/// non-admin and with 401 (`FreshRequired`) for a renewed token.
#[derive(Debug, Clone)]
pub struct FreshAdmin(pub CurrentUser);

impl std::ops::Deref for FreshAdmin {
    type Target = CurrentUser;

    fn deref(&self) -> &CurrentUser {
        &self.0
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for FreshAdmin {
    type Error = AuthFailure;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        let admin = try_outcome!(req.guard::<AdminUser>().await);
        if admin.claims.fresh {
            Outcome::Success(FreshAdmin(admin.0))
        } else {
            set_failure_reason(req, AuthFailure::FreshRequired);
            Outcome::Error((Status::Unauthorized, AuthFailure::FreshRequired))
        }
    }
}

/// Flask-JWT-Extended's `jwt_optional`: the user if a valid token was sent,
/// `None` if none was, and a failure (401) if the token sent is bad.
/// (`Option<CurrentUser>` instead treats a bad token as none.)
#[derive(Debug, Clone)]
pub struct JwtOptional(pub Option<CurrentUser>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for JwtOptional {
    type Error = AuthFailure;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        match req.guard::<CurrentUser>().await {
            Outcome::Success(user) => Outcome::Success(JwtOptional(Some(user))),
            Outcome::Forward(_) => Outcome::Success(JwtOptional(None)),
            Outcome::Error(e) => Outcome::Error(e),
        }
    }
}

impl Device {
    pub fn from_request_parts(req: &Request<'_>) -> Device {
        Device {
            user_agent: req.headers().get_one("User-Agent").unwrap_or("").to_owned(),
            ip: super::client_ip::as_stored(req),
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

/// An admin write's actor: a fresh admin ([`FreshAdmin`]) and the device
/// the request comes from, for the audit log. Fails as `FreshAdmin` does.
#[rocket::async_trait]
impl<'r> FromRequest<'r> for Actor {
    type Error = AuthFailure;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        let admin = try_outcome!(req.guard::<FreshAdmin>().await);
        Outcome::Success(Actor {
            id: admin.user.id,
            device: Device::from_request_parts(req),
        })
    }
}
