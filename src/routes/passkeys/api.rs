//! Passkeys in the JSON API (under `api_prefix`): sign in with one
//! (start/finish -> the usual tokens), one as the second factor after
//! `/login`'s `mfa_token`, and a signed-in caller's own passkeys (register
//! and remove need a fresh token). Ceremonies here are bound to no browser.

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{delete, get, patch, post, routes, Route, State};
use serde::Deserialize;
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse};

use super::PasskeyView;
use crate::db::session::Device;
use crate::routes::api::TokenPair;
use crate::services::passkey::{self, Started};
use crate::services::two_factor;
use crate::state::Gatehouse;
use crate::web::json::ApiResult;
use crate::web::json_body::JsonBody;
use crate::web::passkeys::PasskeysOn;
use crate::web::{CurrentUser, FreshLogin};

pub fn routes() -> Vec<Route> {
    routes![
        login_start,
        login_finish,
        register_start,
        register_finish,
        list,
        rename,
        remove,
        second_factor_start,
        second_factor_finish
    ]
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct FinishBody {
    challenge_id: String,
    credential: serde_json::Value,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RegisterBody {
    challenge_id: String,
    name: String,
    credential: serde_json::Value,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NameBody {
    name: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct MfaStartBody {
    mfa_token: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct MfaFinishBody {
    mfa_token: String,
    challenge_id: String,
    credential: serde_json::Value,
}

/// `{}` -> `{"challenge_id", "options"}` for `navigator.credentials.get()`.
#[utoipa::path(tag = "passkeys", responses((status = 200, description = "The challenge for navigator.credentials.get()", body = Object)), security(()))]
#[post("/passkeys/login/start")]
async fn login_start(
    _on: PasskeysOn,
    app: &State<Gatehouse>,
    device: Device,
) -> ApiResult<Json<Started<RequestChallengeResponse>>> {
    Ok(Json(passkey::start_sign_in(app, None, &device).await?))
}

/// `{"challenge_id", "credential"}` -> an access and a refresh token.
#[utoipa::path(tag = "passkeys", request_body = FinishBody, responses((status = 200, description = "Signed in", body = TokenPair)), security(()))]
#[post("/passkeys/login/finish", data = "<body>")]
async fn login_finish(
    _on: PasskeysOn,
    body: JsonBody<FinishBody>,
    app: &State<Gatehouse>,
    device: Device,
) -> ApiResult<Json<TokenPair>> {
    let body = body.into_inner();
    let s = passkey::finish_sign_in(app, &body.challenge_id, body.credential, None, true, device).await?;
    Ok(Json(TokenPair::new(app, s.token, s.refresh_token)))
}

#[utoipa::path(tag = "passkeys", responses((status = 200, description = "The challenge for navigator.credentials.create()", body = Object)), security(("bearer" = []), ("access_cookie" = [], "csrf_header" = [])))]
#[post("/passkeys/register/start")]
async fn register_start(
    _on: PasskeysOn,
    user: FreshLogin,
    app: &State<Gatehouse>,
) -> ApiResult<Json<Started<CreationChallengeResponse>>> {
    Ok(Json(passkey::start_registration(app, &user.user, None).await?))
}

/// `{"challenge_id", "name", "credential"}` -> 201 and the passkey.
#[utoipa::path(tag = "passkeys", request_body = RegisterBody, responses((status = 201, description = "The new passkey", body = PasskeyView)), security(("bearer" = []), ("access_cookie" = [], "csrf_header" = [])))]
#[post("/passkeys/register/finish", data = "<body>")]
async fn register_finish(
    _on: PasskeysOn,
    user: FreshLogin,
    body: JsonBody<RegisterBody>,
    app: &State<Gatehouse>,
    device: Device,
) -> ApiResult<(Status, Json<PasskeyView>)> {
    let body = body.into_inner();
    let stored = passkey::finish_registration(
        app,
        &user.user,
        &body.challenge_id,
        &body.name,
        body.credential,
        None,
        device,
    )
    .await?;
    Ok((Status::Created, Json(stored.into())))
}

#[utoipa::path(tag = "passkeys", responses((status = 200, description = "The caller's passkeys", body = Vec<PasskeyView>)), security(("bearer" = []), ("access_cookie" = [], "csrf_header" = [])))]
#[get("/passkeys")]
async fn list(
    _on: PasskeysOn,
    user: CurrentUser,
    app: &State<Gatehouse>,
) -> ApiResult<Json<Vec<PasskeyView>>> {
    Ok(Json(PasskeyView::list(passkey::list(app, user.id()).await?)))
}

/// `{"name"}` -> the renamed passkey.
#[utoipa::path(tag = "passkeys", request_body = NameBody, responses((status = 200, description = "The renamed passkey", body = PasskeyView)), security(("bearer" = []), ("access_cookie" = [], "csrf_header" = [])))]
#[patch("/passkeys/<id>", data = "<body>")]
async fn rename(
    _on: PasskeysOn,
    id: i32,
    user: CurrentUser,
    body: JsonBody<NameBody>,
    app: &State<Gatehouse>,
    device: Device,
) -> ApiResult<Json<PasskeyView>> {
    Ok(Json(
        passkey::rename(app, user.id(), id, &body.name, device)
            .await?
            .into(),
    ))
}

/// Removes one of the caller's passkeys (a fresh token needed): 204.
#[utoipa::path(tag = "passkeys", responses((status = 204, description = "Removed")), security(("bearer" = []), ("access_cookie" = [], "csrf_header" = [])))]
#[delete("/passkeys/<id>")]
async fn remove(
    _on: PasskeysOn,
    id: i32,
    user: FreshLogin,
    app: &State<Gatehouse>,
    device: Device,
) -> ApiResult<Status> {
    passkey::remove(
        app,
        user.id(),
        id,
        None,
        Some(device),
        Some(user.session.id.clone()),
    )
    .await?;
    Ok(Status::NoContent)
}

/// `{"mfa_token"}` (from `/login`'s 401) -> `{"challenge_id", "options"}`
/// listing the account's passkeys.
#[utoipa::path(tag = "passkeys", request_body = MfaStartBody, responses((status = 200, description = "The challenge listing the account's passkeys", body = Object)), security(()))]
#[post("/login/two-factor/passkey/start", data = "<body>")]
async fn second_factor_start(
    _on: PasskeysOn,
    body: JsonBody<MfaStartBody>,
    app: &State<Gatehouse>,
    device: Device,
) -> ApiResult<Json<Started<RequestChallengeResponse>>> {
    let pending = two_factor::check_pending(app, &body.mfa_token, None)?;
    Ok(Json(
        passkey::start_second_factor(app, &pending, None, device).await?,
    ))
}

/// `{"mfa_token", "challenge_id", "credential"}` -> an access and a
/// refresh token.
#[utoipa::path(tag = "passkeys", request_body = MfaFinishBody, responses((status = 200, description = "Signed in", body = TokenPair)), security(()))]
#[post("/login/two-factor/passkey/finish", data = "<body>")]
async fn second_factor_finish(
    _on: PasskeysOn,
    body: JsonBody<MfaFinishBody>,
    app: &State<Gatehouse>,
    device: Device,
) -> ApiResult<Json<TokenPair>> {
    let body = body.into_inner();
    let pending = two_factor::check_pending(app, &body.mfa_token, None)?;
    let s = passkey::finish_second_factor(app, &pending, &body.challenge_id, body.credential, None, device)
        .await?;
    Ok(Json(TokenPair::new(app, s.token, s.refresh_token)))
}

/// These routes in the OpenAPI document (`routes::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    login_start,
    login_finish,
    register_start,
    register_finish,
    list,
    rename,
    remove,
    second_factor_start,
    second_factor_finish
))]
pub struct Doc;
