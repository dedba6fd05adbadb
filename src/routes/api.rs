//! The JSON API: sign-in (Flask-JWT's `/auth` and `/api/v1/login`), refresh,
//! sign-out, the current identity. Errors use Flask-JWT's shape (or
//! Flask-JWT-Extended's, `jwt.error_format`).

use rocket::http::{CookieJar, Status};
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};
use rocket::serde::json::Json;
use rocket::{get, post, routes, Route, State};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::api_views::{AccessToken, Done, Jwks, MeView, MeaningOfLife, SessionsRevoked};
use crate::auth::token::TokenType;
use crate::auth::AuthFailure;
use crate::db::session::Device;
use crate::services::signin::{self, PasswordSignIn, SignInError};
use crate::services::{account, refresh, two_factor};
use crate::state::Gatehouse;
use crate::web::guards::{header_token, set_failure_reason};
use crate::web::json::{ApiError, ApiResult, CodeRequired};
use crate::web::json_body::JsonBody;
use crate::web::{cookies, CsrfToken, CurrentUser, LoginRequired};

/// The routes under the API prefix (`/api/v1` by default).
pub fn routes() -> Vec<Route> {
    routes![
        login,
        login_two_factor,
        refresh_tokens,
        refresh_tokens_from_body,
        change_password,
        logout,
        logout_everywhere,
        me,
        private
    ]
}

/// Flask-JWT's sign-in route, mounted at `auth_url_rule` (`/auth`).
pub fn flask_jwt_routes() -> Vec<Route> {
    routes![flask_jwt_auth]
}

/// `/.well-known/jwks.json`, mounted at the root.
pub fn well_known_routes() -> Vec<Route> {
    routes![jwks]
}

/// A response cacheable by clients for a few minutes (JWKS).
#[derive(rocket::Responder)]
struct Cacheable<T> {
    inner: T,
    cache_control: rocket::http::Header<'static>,
}

/// The public keys tokens are signed with (the current one and those still
/// accepted), for clients verifying tokens themselves. Empty for HMAC.
#[utoipa::path(tag = "tokens", responses((status = 200, description = "The JSON Web Key Set tokens are signed with (empty for HMAC)", body = Jwks)), security(()))]
#[get("/.well-known/jwks.json")]
fn jwks(app: &State<Gatehouse>) -> Cacheable<Json<jsonwebtoken::jwk::JwkSet>> {
    Cacheable {
        inner: Json(app.tokens.jwks()),
        cache_control: rocket::http::Header::new("Cache-Control", "public, max-age=300"),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
}

impl TokenPair {
    pub fn new(app: &Gatehouse, access_token: String, refresh_token: String) -> Self {
        Self {
            access_token,
            refresh_token,
            token_type: "Bearer",
            expires_in: app.tokens.access_lifetime(),
        }
    }
}

async fn password_sign_in(
    app: &Gatehouse,
    email: &str,
    password: String,
    device: Device,
) -> Result<PasswordSignIn, SignInError> {
    signin::sign_in_with_password(app, email, password, device, true).await
}

/// `{"email", "password"}`; `username` (or the configured
/// `auth_username_key`, as Flask-JWT-Extended's tutorial sends) may stand
/// for `email`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LoginBody {
    email: Option<String>,
    password: String,
    /// The `auth_username_key` field, among any others (the document names
    /// it: `routes::openapi`).
    #[serde(flatten)]
    #[schema(ignore)]
    other: Map<String, Value>,
}

impl LoginBody {
    /// The address signed in with: `email`, or the `auth_username_key`
    /// field; a 422 naming the fields when neither, both (differing), or a
    /// non-string is sent.
    pub fn address(&self, auth_username_key: &str) -> Result<&str, ApiError> {
        let refuse = |d: String| Err(ApiError::new(Status::UnprocessableEntity, d));
        let username = match self.other.get(auth_username_key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.as_str()),
            Some(_) => return refuse(format!("`{auth_username_key}` must be a string")),
        };
        match (self.email.as_deref(), username) {
            (Some(email), Some(name)) if email != name => refuse(format!(
                "`email` and `{auth_username_key}` conflict: send one of them"
            )),
            (Some(address), _) | (None, Some(address)) => Ok(address),
            (None, None) => refuse(format!("missing field `email` (or `{auth_username_key}`)")),
        }
    }
}

/// `{"email" (or "username"), "password"}` -> an access and a refresh token; with
/// two-factor sign-in on, 401 with an `mfa_token` for `/login/two-factor`.
#[utoipa::path(tag = "sign-in", request_body = LoginBody, responses((status = 200, description = "Signed in (401 with an mfa_token when a two-factor code is needed)", body = TokenPair)), security(()))]
#[post("/login", data = "<body>")]
async fn login(
    body: JsonBody<LoginBody>,
    app: &State<Gatehouse>,
    device: Device,
) -> ApiResult<Result<Json<TokenPair>, CodeRequired>> {
    let body = body.into_inner();
    let address = body.address(&app.config.auth_username_key)?.to_owned();
    match password_sign_in(app, &address, body.password, device).await? {
        PasswordSignIn::SignedIn(s) => Ok(Ok(Json(TokenPair::new(app, s.token, s.refresh_token)))),
        PasswordSignIn::CodeRequired { user_id, remember } => {
            let token = two_factor::pending_token(app, user_id, remember, None, None)?;
            Ok(Err(CodeRequired::new(Some(token))))
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct TwoFactorBody {
    mfa_token: String,
    code: String,
}

/// `{"mfa_token", "code"}` (a TOTP code or a recovery code) -> an access
/// and a refresh token.
#[utoipa::path(tag = "sign-in", request_body = TwoFactorBody, responses((status = 200, description = "Signed in", body = TokenPair)), security(()))]
#[post("/login/two-factor", data = "<body>")]
async fn login_two_factor(
    body: JsonBody<TwoFactorBody>,
    app: &State<Gatehouse>,
    device: Device,
) -> ApiResult<Json<TokenPair>> {
    let pending = two_factor::check_pending(app, &body.mfa_token, None)?;
    let s = two_factor::finish_sign_in(app, &pending, &body.code, device).await?;
    Ok(Json(TokenPair::new(app, s.token, s.refresh_token)))
}

/// Flask-JWT's `POST /auth`: `{"username", "password"}` (keys configurable)
/// -> `{"access_token"}`.
#[utoipa::path(tag = "sign-in", request_body = Object, responses((status = 200, description = "Flask-JWT's answer: the access token", body = AccessToken)), security(()))]
#[post("/", data = "<body>")]
async fn flask_jwt_auth(
    body: JsonBody<Map<String, Value>>,
    app: &State<Gatehouse>,
    device: Device,
) -> ApiResult<Json<AccessToken>> {
    let get = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_owned);
    let (Some(username), Some(password)) = (
        get(&app.config.auth_username_key),
        get(&app.config.auth_password_key),
    ) else {
        let description = format!(
            "Send `{}` and `{}` as strings",
            app.config.auth_username_key, app.config.auth_password_key
        );
        return Err(ApiError::new(Status::UnprocessableEntity, description).with_words("Bad Request"));
    };
    match password_sign_in(app, &username, password, device).await? {
        PasswordSignIn::SignedIn(s) => Ok(Json(AccessToken {
            access_token: s.token,
        })),
        // Flask-JWT's flow has no second step: use /login and
        // /login/two-factor under the API prefix.
        PasswordSignIn::CodeRequired { .. } => Err(CodeRequired::refusal()),
    }
}

/// A refresh token from the `Authorization` header or the refresh cookie
/// (which, being sent by browsers on their own, also needs the CSRF
/// header). Forwards when there is neither: the handler then reads the JSON
/// body's `refresh_token`.
pub struct PresentedRefresh {
    token: String,
    from_cookie: bool,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for PresentedRefresh {
    type Error = AuthFailure;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, AuthFailure> {
        let Some(app) = req.rocket().state::<Gatehouse>() else {
            return Outcome::Error((Status::InternalServerError, AuthFailure::Internal));
        };
        let config = &app.config.jwt;
        let fail = |f: AuthFailure| {
            set_failure_reason(req, f);
            Outcome::Error((f.status(), f))
        };
        if let Some(token) = header_token(req, config) {
            return match token {
                Ok(token) => Outcome::Success(PresentedRefresh {
                    token: token.to_owned(),
                    from_cookie: false,
                }),
                Err(f) => fail(f),
            };
        }
        let Some(cookie) = req.cookies().get(&config.refresh_cookie_name) else {
            return Outcome::Forward(Status::Unauthorized);
        };
        let token = cookie.value().to_owned();
        // The CSRF value is the one signed into the refresh token.
        let csrf = match app.tokens.decode(&token, TokenType::Refresh) {
            Ok(decoded) => CsrfToken(decoded.claims.csrf),
            Err(f) => return fail(f),
        };
        if config.cookie_csrf_protect && !csrf.matches(req.headers().get_one(&config.access_csrf_header_name))
        {
            return fail(AuthFailure::Csrf);
        }
        Outcome::Success(PresentedRefresh {
            token,
            from_cookie: true,
        })
    }
}

/// A refresh token -> a new access token and a new refresh token; the one
/// presented is spent (presented again, it revokes the session).
#[utoipa::path(tag = "tokens", responses((status = 200, description = "A new access token and refresh token", body = TokenPair)), security(("bearer" = []), ("refresh_cookie" = [], "csrf_header" = []), ()))]
#[post("/refresh")]
async fn refresh_tokens(
    presented: PresentedRefresh,
    app: &State<Gatehouse>,
    jar: &CookieJar<'_>,
    device: Device,
) -> ApiResult<Json<TokenPair>> {
    rotate_and_answer(app, jar, device, presented).await
}

/// The same, with `{"refresh_token": ...}` in the body.
#[utoipa::path(tag = "tokens", request_body = Object, responses((status = 200, description = "A new access token and refresh token", body = TokenPair)), security(("bearer" = []), ("refresh_cookie" = [], "csrf_header" = []), ()))]
#[post("/refresh", data = "<body>", rank = 2)]
async fn refresh_tokens_from_body(
    body: Option<Json<Map<String, Value>>>,
    app: &State<Gatehouse>,
    jar: &CookieJar<'_>,
    device: Device,
) -> ApiResult<Json<TokenPair>> {
    let token = body
        .as_ref()
        .and_then(|b| b.get(&app.config.jwt.refresh_json_key))
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError {
            description: "Request does not contain a refresh token".into(),
            ..AuthFailure::Missing.into()
        })?;
    let presented = PresentedRefresh {
        token: token.to_owned(),
        from_cookie: false,
    };
    rotate_and_answer(app, jar, device, presented).await
}

async fn rotate_and_answer(
    app: &Gatehouse,
    jar: &CookieJar<'_>,
    device: Device,
    presented: PresentedRefresh,
) -> ApiResult<Json<TokenPair>> {
    let rotated = refresh::rotate(app, &presented.token, device).await?;
    if presented.from_cookie {
        let set = cookies::for_session(
            &app.config.jwt,
            &rotated.session,
            &rotated.access_token,
            &rotated.access_claims.csrf,
            &rotated.refresh_token,
        );
        cookies::apply(jar, set);
    }
    Ok(Json(TokenPair::new(
        app,
        rotated.access_token,
        rotated.refresh_token,
    )))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PasswordChange {
    current_password: String,
    new_password: String,
    #[serde(default = "yes")]
    sign_out_others: bool,
}

fn yes() -> bool {
    true
}

/// Changes the password (fresh sign-in needed); by default every other
/// session is signed out at once.
#[utoipa::path(tag = "account", request_body = PasswordChange, responses((status = 200, description = "Password changed", body = SessionsRevoked)), security(("bearer" = []), ("access_cookie" = [], "csrf_header" = [])))]
#[post("/password", data = "<body>")]
async fn change_password(
    body: JsonBody<PasswordChange>,
    user: crate::web::FreshLogin,
    app: &State<Gatehouse>,
    device: Device,
) -> ApiResult<Json<SessionsRevoked>> {
    let body = body.into_inner();
    let revoked = signin::change_password(
        app,
        &user.user,
        &user.session.id,
        body.current_password,
        body.new_password,
        body.sign_out_others,
        device,
    )
    .await?;
    let msg = "Password changed";
    Ok(Json(SessionsRevoked {
        msg,
        sessions_revoked: revoked,
    }))
}

/// Revokes the session the token belongs to: its access and refresh tokens
/// stop working at once.
#[utoipa::path(tag = "sign-in", responses((status = 200, description = "Signed out", body = Done)), security(("bearer" = []), ("access_cookie" = [], "csrf_header" = [])))]
#[post("/logout")]
async fn logout(
    user: CurrentUser,
    app: &State<Gatehouse>,
    jar: &CookieJar<'_>,
    device: Device,
) -> ApiResult<Json<Done>> {
    signin::sign_out(app, &user.session, device).await?;
    cookies::clear(jar, &app.config.jwt);
    Ok(Json(Done { msg: "Signed out" }))
}

/// Revokes every session of the user ("sign out everywhere").
#[utoipa::path(tag = "sign-in", responses((status = 200, description = "Every session signed out", body = SessionsRevoked)), security(("bearer" = []), ("access_cookie" = [], "csrf_header" = [])))]
#[post("/logout/all")]
async fn logout_everywhere(
    user: CurrentUser,
    app: &State<Gatehouse>,
    jar: &CookieJar<'_>,
    device: Device,
) -> ApiResult<Json<SessionsRevoked>> {
    let revoked = account::sign_out_everywhere(app, user.user.id, device).await?;
    cookies::clear(jar, &app.config.jwt);
    let msg = "Signed out everywhere";
    Ok(Json(SessionsRevoked {
        msg,
        sessions_revoked: revoked,
    }))
}

/// Flask-JWT's `current_identity` and Flask-JWT-Extended's `get_jwt`.
#[utoipa::path(tag = "account", responses((status = 200, description = "The signed-in identity and the token's claims", body = MeView)), security(("bearer" = []), ("access_cookie" = [], "csrf_header" = [])))]
#[get("/me")]
fn me(user: CurrentUser) -> Json<MeView> {
    Json(MeView::new(&user.user, user.claims))
}

/// The blog post's example.
#[utoipa::path(tag = "account", responses((status = 200, description = "The blog post's example", body = MeaningOfLife)), security(("bearer" = []), ("access_cookie" = [], "csrf_header" = [])))]
#[get("/private")]
fn private(_user: LoginRequired) -> Json<MeaningOfLife> {
    Json(MeaningOfLife { meaning_of_life: 42 })
}
