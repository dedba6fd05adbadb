//! The OpenAPI document at `/api/v1/openapi.json`: it lists every JSON
//! route (walked from the mounted routes), follows the configuration,
//! validates (PyPI's `openapi-spec-validator`), and JSON bodies that are
//! refused name what is wrong; [`fuzz`] runs schemathesis against a live
//! server from it.

mod fuzz;

use std::collections::BTreeSet;
use std::process::Command;

use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::Client;
use serde_json::{json, Value};

use super::{json_of, post_json};
use crate::common::{Backend, TestApp};
use crate::{register_test, tests};

tests!(
    document_lists_every_json_route,
    answers_have_real_schemas,
    document_follows_the_configuration,
    refused_bodies_name_the_field,
);
register_test!(async document_validates, SpecValidator);

/// Why the validator can't run here.
pub fn validator_missing() -> Option<String> {
    python_module_missing("openapi_spec_validator", "openapi-spec-validator")
}

/// Why schemathesis can't run here.
pub fn schemathesis_missing() -> Option<String> {
    match Command::new("schemathesis").arg("--version").output() {
        Ok(out) if out.status.success() => None,
        _ => Some("the `schemathesis` command is missing (pip install schemathesis)".to_owned()),
    }
}

/// Set in CI: a missing validator or fuzzer fails its test.
pub fn required() -> bool {
    std::env::var_os("TEST_REQUIRE_SCHEMATHESIS").is_some()
}

fn python_module_missing(module: &str, package: &str) -> Option<String> {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|out| out.status.success());
    (!ok).then(|| format!("python3 cannot import {module} (pip install {package})"))
}

async fn document(client: &Client, prefix: &str) -> Value {
    let res = client.get(format!("{prefix}/openapi.json")).dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(res.content_type(), Some(ContentType::JSON));
    json_of(res).await
}

/// `(method, path)` of every operation in the document.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            found.insert((method.to_uppercase(), path.clone()));
        }
    }
    found
}

/// `(method, path)` of every mounted route that answers JSON: everything
/// under the API prefix, Flask-JWT's `/auth`, the JWKS and the readiness
/// check.
fn json_routes(client: &Client, prefix: &str, auth: &str) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for route in client.rocket().routes() {
        let path = route.uri.path().to_string();
        let under_api = path == prefix || path.starts_with(&format!("{prefix}/"));
        let root_json = ["/.well-known/jwks.json", "/health/ready"].contains(&path.as_str());
        if !(under_api || path == auth || root_json) {
            continue;
        }
        // `<id>` -> `{id}`, as OpenAPI writes a path parameter.
        let path = path
            .split('/')
            .map(|segment| match segment.strip_prefix('<') {
                Some(name) => format!("{{{}}}", name.trim_end_matches('>').trim_end_matches("..")),
                None => segment.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("/");
        found.insert((route.method.as_str().to_owned(), path));
    }
    found
}

/// The 2xx answers that may stay a bare JSON object: the document itself
/// and the WebAuthn challenges (the browser's big options objects).
const BARE_ANSWERS: &[(&str, &str)] = &[
    ("GET", "/api/v1/openapi.json"),
    ("POST", "/api/v1/passkeys/login/start"),
    ("POST", "/api/v1/passkeys/register/start"),
    ("POST", "/api/v1/login/two-factor/passkey/start"),
];

/// A schema that says no more than "some JSON object" (following a `$ref`
/// into the components): no properties, no items, no composition.
fn is_bare_object(doc: &Value, schema: &Value) -> bool {
    if let Some(name) = schema["$ref"].as_str() {
        let name = name.trim_start_matches("#/components/schemas/");
        return is_bare_object(doc, &doc["components"]["schemas"][name]);
    }
    let described = [
        "properties",
        "items",
        "allOf",
        "oneOf",
        "anyOf",
        "enum",
        "additionalProperties",
    ];
    let says_object = schema["type"] == "object" || schema["type"].is_null();
    says_object && !described.iter().any(|key| schema.get(key).is_some())
}

/// Every 2xx JSON answer is described field by field, except the short
/// [`BARE_ANSWERS`] list: schemathesis checks each answer against it, and a
/// new route documented as a bare `Object` fails here.
async fn answers_have_real_schemas() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("the app starts");
    let doc = document(&app.bare, "/api/v1").await;
    let mut bare = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            for (status, response) in operation["responses"].as_object().expect("responses") {
                let schema = &response["content"]["application/json"]["schema"];
                if status.starts_with('2') && !schema.is_null() && is_bare_object(&doc, schema) {
                    bare.insert((method.to_uppercase(), path.clone()));
                }
            }
        }
    }
    let allowed: BTreeSet<_> = BARE_ANSWERS
        .iter()
        .map(|(method, path)| ((*method).to_owned(), (*path).to_owned()))
        .collect();
    let undescribed: Vec<_> = bare.difference(&allowed).collect();
    assert!(
        undescribed.is_empty(),
        "2xx answers documented as a bare object: {undescribed:?}"
    );
    // The allow-list holds no stale entry.
    let stale: Vec<_> = allowed.difference(&bare).collect();
    assert!(
        stale.is_empty(),
        "described now, drop from BARE_ANSWERS: {stale:?}"
    );
    // `/me`: the identity and the claims, exactly.
    let me = &doc["components"]["schemas"]["MeView"];
    assert_eq!(me["required"], json!(["identity", "claims"]), "{me}");
    let claims = &doc["components"]["schemas"]["Claims"];
    let required = claims["required"].as_array().expect("required claims");
    for claim in ["sub", "sid", "type", "jti", "exp", "csrf", "fresh"] {
        assert!(required.contains(&json!(claim)), "{claim}: {claims}");
    }
    assert!(!required.contains(&json!("amr")), "{claims}");
    // Admins' answers: a user's optional fields are not required.
    let user = &doc["components"]["schemas"]["UserView"];
    let required = user["required"].as_array().expect("required fields");
    for field in ["id", "email", "role", "disabled", "locked", "two_factor"] {
        assert!(required.contains(&json!(field)), "{field}: {user}");
    }
    for field in ["last_sign_in_at", "passkeys"] {
        assert!(!required.contains(&json!(field)), "{field}: {user}");
    }
    // Flask-JWT's `/auth` takes its two configured keys, both required.
    let auth = &doc["paths"]["/auth"]["post"]["requestBody"]["content"]["application/json"];
    assert_eq!(auth["schema"]["$ref"], "#/components/schemas/FlaskAuthBody");
    let body = &doc["components"]["schemas"]["FlaskAuthBody"];
    assert_eq!(body["required"], json!(["username", "password"]), "{body}");
    let session = &doc["components"]["schemas"]["Session"]["properties"];
    assert!(session.get("refresh_jti").is_none(), "{session}");
}

async fn document_lists_every_json_route() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("the app starts");
    let doc = document(&app.bare, "/api/v1").await;
    assert_eq!(doc["openapi"], "3.1.0");
    let mounted = json_routes(&app.bare, "/api/v1", "/auth");
    let listed = documented(&doc);
    let missing: Vec<_> = mounted.difference(&listed).collect();
    let extra: Vec<_> = listed.difference(&mounted).collect();
    assert!(
        missing.is_empty(),
        "routes missing from the document: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "documented routes that are not mounted: {extra:?}"
    );
    // Sign-in, the API's own routes and the root's are all there.
    for (method, path) in [
        ("POST", "/api/v1/login"),
        ("GET", "/api/v1/admin/users/{id}"),
        ("POST", "/auth"),
        ("GET", "/.well-known/jwks.json"),
        ("GET", "/health/ready"),
        ("GET", "/api/v1/openapi.json"),
    ] {
        assert!(
            listed.contains(&(method.to_owned(), path.to_owned())),
            "{method} {path}"
        );
    }
    // Every operation may answer with the error schema.
    let login = &doc["paths"]["/api/v1/login"]["post"];
    assert_eq!(
        login["responses"]["422"]["$ref"],
        "#/components/responses/UnprocessableEntity"
    );
    assert_eq!(
        login["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/LoginBody"
    );
    let error = &doc["components"]["schemas"]["Error"];
    assert_eq!(error["required"], json!(["error", "description", "status_code"]));
    // Sign-in takes `email`, or Flask-JWT's `username` in its place.
    let body = &doc["components"]["schemas"]["LoginBody"];
    assert_eq!(body["required"], json!(["password"]), "{body}");
    for field in ["username", "password"] {
        assert_eq!(body["properties"][field]["type"], "string", "{field}: {body}");
    }
    assert!(
        body["properties"]["email"]["type"].to_string().contains("string"),
        "{body}"
    );
}

async fn document_follows_the_configuration() {
    let app = TestApp::spawn_with(Backend::Sqlite, |f| {
        f.merge(("api_prefix", "/v2"))
            .merge(("auth_url_rule", "/token"))
            .merge(("jwt.access_cookie_name", "my_access"))
            .merge(("jwt.access_csrf_header_name", "X-My-Csrf"))
            .merge(("jwt.error_format", "flask-jwt-extended"))
            .merge(("auth_username_key", "login"))
    })
    .await
    .expect("the app starts");
    let doc = document(&app.bare, "/v2").await;
    let listed = documented(&doc);
    assert_eq!(listed, json_routes(&app.bare, "/v2", "/token"));
    assert!(listed.contains(&("POST".to_owned(), "/v2/login".to_owned())));
    assert!(listed.contains(&("POST".to_owned(), "/token".to_owned())));
    assert!(!listed.iter().any(|(_, path)| path.starts_with("/api/v1")));
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["access_cookie"]["in"], "cookie");
    assert_eq!(schemes["access_cookie"]["name"], "my_access");
    assert_eq!(schemes["csrf_header"]["name"], "X-My-Csrf");
    assert_eq!(schemes["refresh_cookie"]["in"], "cookie");
    // Flask-JWT-Extended's error shape, and the configured username key.
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["Error"]["required"], json!(["msg"]));
    assert!(schemas["Error"]["properties"]["error"].is_null());
    assert_eq!(schemas["LoginBody"]["properties"]["login"]["type"], "string");
    assert!(schemas["LoginBody"]["properties"]["username"].is_null());
}

async fn refused_bodies_name_the_field() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("the app starts");
    let api = &app.bare;
    let refused = |status: Status, body: Value| {
        assert_eq!(body["status_code"], status.code, "{body}");
        body["description"].as_str().expect("a description").to_owned()
    };
    let res = post_json(api, "/api/v1/login", json!({"email": "ada@example.com"}), None).await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    let description = refused(Status::UnprocessableEntity, json_of(res).await);
    assert!(description.contains("missing field `password`"), "{description}");

    let res = post_json(api, "/api/v1/login", json!({"email": 7, "password": "x"}), None).await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    let description = refused(Status::UnprocessableEntity, json_of(res).await);
    assert!(description.starts_with("`email`: invalid type"), "{description}");

    let res = api
        .post("/api/v1/login/two-factor")
        .header(ContentType::JSON)
        .body("{\"mfa_token\": ")
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::BadRequest);
    let description = refused(Status::BadRequest, json_of(res).await);
    assert!(
        description.starts_with("The body is not valid JSON"),
        "{description}"
    );

    let big = format!("{{\"email\": \"{}\"}}", "a".repeat(2 << 20));
    let res = api
        .post("/api/v1/login")
        .header(ContentType::JSON)
        .header(Header::new("Accept", "application/json"))
        .body(big)
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::PayloadTooLarge);
    let description = refused(Status::PayloadTooLarge, json_of(res).await);
    assert!(
        description.starts_with("The body is over the limit"),
        "{description}"
    );
}

/// The served document passes `openapi-spec-validator` (OpenAPI 3.1).
async fn document_validates() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("the app starts");
    let doc = document(&app.bare, "/api/v1").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let out = Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "openapi-spec-validator refused the document:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
