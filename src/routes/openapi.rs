//! The OpenAPI 3.1 document of every JSON route, generated from the
//! handlers' `#[utoipa::path]` attributes and the body types' `ToSchema`
//! derives, and laid out for the live configuration: the API's routes under
//! `api_prefix`, Flask-JWT's at `auth_url_rule`, the error schema and the
//! security schemes of `web::json_doc`. Built once at ignite and served at
//! `{api_prefix}/openapi.json`.

use rocket::{get, routes, Route, State};
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::request_body::{RequestBody, RequestBodyBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{Components, OpenApi as Document, Ref, RefOr, Required};
use utoipa::OpenApi;

use crate::config::Config;
use crate::web::json_doc::{self, ERROR_RESPONSES, ERROR_SCHEMA};

/// The routes mounted under the API prefix.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gatehouse",
        description = "Sign-in with JSON Web Tokens: tokens, the account, the example items, passkeys, the admin API. \
                       Errors follow the `Error` schema: Flask-JWT's shape (`error`, `description`, `status_code`), \
                       or Flask-JWT-Extended's (`msg`) with `jwt.error_format = \"flask-jwt-extended\"`."
    ),
    paths(
        openapi_json,
        super::api::login,
        super::api::login_two_factor,
        super::api::refresh_tokens,
        super::api::refresh_tokens_from_body,
        super::api::change_password,
        super::api::logout,
        super::api::logout_everywhere,
        super::api::me,
        super::api::private,
        super::items::list_json,
        super::items::item_json,
        super::items::create_json,
        super::items::delete_json,
        super::password::api_forgot,
        super::password::api_reset,
        super::admin::api::list_users,
        super::admin::api::create_user,
        super::admin::api::get_user,
        super::admin::api::remove_passkey,
        super::admin::api::update_user,
        super::admin::api::delete_user,
        super::admin::api::disable_user,
        super::admin::api::enable_user,
        super::admin::api::unlock_user,
        super::admin::api::revoke_user_sessions,
        super::admin::api::reset_password,
        super::admin::api::unlink_google,
        super::admin::api::reset_two_factor,
        super::admin::api::user_sessions,
        super::admin::api::delete_session,
        super::admin::api::audit_log,
    )
)]
struct ApiPaths;

/// Google's sign-in for single-page apps (with the `google` feature).
#[cfg(feature = "google")]
#[derive(OpenApi)]
#[openapi(paths(super::google::api_sign_in))]
struct GooglePaths;

/// Flask-JWT's `POST /auth`, at `auth_url_rule`.
#[derive(OpenApi)]
#[openapi(paths(super::api::flask_jwt_auth))]
struct FlaskPaths;

/// The routes at the root.
#[derive(OpenApi)]
#[openapi(paths(super::api::jwks, super::pages::ready))]
struct RootPaths;

/// `GET {api_prefix}/openapi.json`.
pub fn routes() -> Vec<Route> {
    routes![openapi_json]
}

/// The document, built once (see [`document`]).
pub struct ApiDocument(pub String);

/// This document.
#[utoipa::path(
    tag = "api",
    responses((status = 200, description = "This OpenAPI document", body = Object)),
    security(())
)]
#[get("/openapi.json")]
fn openapi_json(doc: &State<ApiDocument>) -> (rocket::http::ContentType, String) {
    (rocket::http::ContentType::JSON, doc.0.clone())
}

/// The whole document for this configuration.
pub fn document(config: &Config) -> Document {
    let mut doc = ApiPaths::openapi();
    let mut api = std::mem::take(&mut doc.paths.paths);
    let mut components = doc.components.take().unwrap_or_else(Components::new);
    let mut others = vec![super::passkeys::ApiDoc::openapi()];
    #[cfg(feature = "google")]
    others.push(GooglePaths::openapi());
    let (mut flask, mut root) = (FlaskPaths::openapi(), RootPaths::openapi());
    for other in others.iter_mut().chain([&mut flask, &mut root]) {
        if let Some(more) = other.components.take() {
            components.schemas.extend(more.schemas);
        }
    }
    for other in others {
        api.extend(other.paths.paths);
    }
    let prefix = config.api_prefix.trim_end_matches('/');
    let mut paths: Vec<(String, PathItem)> = api
        .into_iter()
        .map(|(path, item)| (format!("{prefix}{path}"), item))
        .collect();
    for (_, mut item) in flask.paths.paths {
        if let Some(auth) = item.post.as_mut() {
            auth.request_body = Some(flask_auth_body());
        }
        paths.push((config.auth_url_rule.clone(), item));
    }
    paths.extend(root.paths.paths);
    for (path, mut item) in paths {
        for operation in operations(&mut item) {
            for (status, name, _) in ERROR_RESPONSES {
                operation
                    .responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
            }
        }
        doc.paths.paths.insert(path, item);
    }
    components
        .schemas
        .insert(ERROR_SCHEMA.to_owned(), RefOr::T(json_doc::error_schema(config)));
    name_the_username_key(&mut components, &config.auth_username_key);
    let flask_body = RefOr::T(flask_auth_schema(config));
    components.schemas.insert(FLASK_AUTH_BODY.to_owned(), flask_body);
    for (_, name, description) in ERROR_RESPONSES {
        components
            .responses
            .insert(name.to_owned(), RefOr::T(json_doc::error_response(description)));
    }
    for (name, scheme) in json_doc::security_schemes(config) {
        components.add_security_scheme(name, scheme);
    }
    doc.components = Some(components);
    doc
}

/// `LoginBody` takes the configured `auth_username_key` (Flask-JWT's
/// `username` by default) in place of `email`: the derive can't know its
/// name, so it is added here.
fn name_the_username_key(components: &mut Components, key: &str) {
    let Some(RefOr::T(Schema::Object(login))) = components.schemas.get_mut("LoginBody") else {
        return;
    };
    if key != "email" && key != "password" {
        let field = ObjectBuilder::new().schema_type(Type::String).description(Some(
            "The address, in place of `email` (the configured `auth_username_key`)",
        ));
        login.properties.insert(key.to_owned(), field.into());
    }
}

/// The name of Flask-JWT's `/auth` body in the components.
const FLASK_AUTH_BODY: &str = "FlaskAuthBody";

/// Flask-JWT's `/auth` body: the configured `auth_username_key` and
/// `auth_password_key` (`username` and `password` by default), strings.
fn flask_auth_schema(config: &Config) -> Schema {
    let string = || ObjectBuilder::new().schema_type(Type::String);
    let (user, password) = (&config.auth_username_key, &config.auth_password_key);
    let body = ObjectBuilder::new()
        .property(user, string())
        .property(password, string())
        .required(user)
        .required(password);
    Schema::Object(body.build())
}

fn flask_auth_body() -> RequestBody {
    let content = ContentBuilder::new().schema(Some(Ref::from_schema_name(FLASK_AUTH_BODY)));
    RequestBodyBuilder::new()
        .content("application/json", content.build())
        .required(Some(Required::True))
        .build()
}

/// The document as served.
pub fn document_json(config: &Config) -> String {
    serde_json::to_string(&document(config)).unwrap_or_else(|_| "{}".to_owned())
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.options.as_mut(),
        item.head.as_mut(),
        item.patch.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}
