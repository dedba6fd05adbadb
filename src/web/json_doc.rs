//! The parts of the OpenAPI document that follow the live configuration:
//! the one error schema, the error answers every JSON route may give, and
//! the security schemes (Bearer, the access cookie with its CSRF header,
//! the refresh cookie). `routes::openapi` puts them in the document.

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Ref, RefOr, Response, ResponseBuilder};

use crate::config::{Config, ErrorFormat};

/// The name of the error schema in `components.schemas`.
pub const ERROR_SCHEMA: &str = "Error";

/// The security schemes' names in `components.securitySchemes`.
pub const BEARER: &str = "bearer";
pub const ACCESS_COOKIE: &str = "access_cookie";
pub const CSRF_HEADER: &str = "csrf_header";
pub const REFRESH_COOKIE: &str = "refresh_cookie";

/// The JSON error every API refusal and catcher answers with (see
/// `web::json::error_json`), in the configured `jwt.error_format`. The one
/// place its shape is described.
pub fn error_schema(config: &Config) -> Schema {
    let string = || ObjectBuilder::new().schema_type(Type::String);
    let mfa_token = string().description(Some(
        "Only on a sign-in that needs a two-factor code: send it with the code to /login/two-factor",
    ));
    match config.jwt.error_format {
        ErrorFormat::FlaskJwt => ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "Flask-JWT's error: what went wrong, in words and as a status.",
            ))
            .property("error", string().description(Some("The status in words")))
            .property(
                "description",
                string().description(Some("What is wrong, naming the field when a field is")),
            )
            .property(
                "status_code",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(400))
                    .maximum(Some(599)),
            )
            .property("mfa_token", mfa_token)
            .required("error")
            .required("description")
            .required("status_code")
            .into(),
        ErrorFormat::FlaskJwtExtended => ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "Flask-JWT-Extended's error (`jwt.error_format = \"flask-jwt-extended\"`): what went wrong, in words.",
            ))
            .property(
                "msg",
                string().description(Some("What is wrong, naming the field when a field is")),
            )
            .property("mfa_token", mfa_token)
            .required("msg")
            .into(),
    }
}

/// The error answers, by status: (status, name in `components.responses`,
/// description).
pub const ERROR_RESPONSES: [(&str, &str, &str); 9] = [
    (
        "400",
        "BadRequest",
        "Malformed request (such as a body that is not JSON)",
    ),
    ("401", "Unauthorized", "No valid token, or a refused sign-in"),
    (
        "403",
        "Forbidden",
        "Signed in, but not allowed (role, CSRF, fresh sign-in)",
    ),
    ("404", "NotFound", "No such resource, or the feature is off"),
    ("409", "Conflict", "The change conflicts with what exists"),
    ("413", "PayloadTooLarge", "The body is over the limit"),
    (
        "422",
        "UnprocessableEntity",
        "A field is missing or malformed: the description names it",
    ),
    (
        "429",
        "TooManyRequests",
        "Too many attempts: try again after Retry-After seconds",
    ),
    (
        "503",
        "ServiceUnavailable",
        "Busy: try again after Retry-After seconds",
    ),
];

/// One error answer, with the error schema.
pub fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(RefOr::Ref(Ref::from_schema_name(ERROR_SCHEMA))))
                .build(),
        )
        .build()
}

/// The security schemes, named after the configured cookies and header.
pub fn security_schemes(config: &Config) -> Vec<(&'static str, SecurityScheme)> {
    let jwt = &config.jwt;
    vec![
        (
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        ),
        (
            ACCESS_COOKIE,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                jwt.access_cookie_name.clone(),
                "The access token in its HttpOnly cookie (writes also need the CSRF header)".to_owned(),
            ))),
        ),
        (
            CSRF_HEADER,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                jwt.access_csrf_header_name.clone(),
                "The CSRF value signed into the token, for writes with cookies".to_owned(),
            ))),
        ),
        (
            REFRESH_COOKIE,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                jwt.refresh_cookie_name.clone(),
                "The refresh token in its HttpOnly cookie (with the CSRF header)".to_owned(),
            ))),
        ),
    ]
}
