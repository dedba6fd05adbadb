//! The provider's HTTP endpoints: discovery, JWKS, authorize and token (with
//! the ID token it signs).

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use oauth2::url::{form_urlencoded, Url};
use oauth2::{PkceCodeChallenge, PkceCodeVerifier};
use serde_json::{json, Value};

use super::{keys, now, random, Grant, ProviderState, Signing, CLIENT_ID, CLIENT_SECRET, CURRENT};

fn respond(req: tiny_http::Request, status: u16, body: String, headers: &[(&str, &str)]) {
    let mut res = tiny_http::Response::from_string(body).with_status_code(status);
    for (k, v) in headers {
        res.add_header(tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()).unwrap());
    }
    let _ = req.respond(res);
}

fn json_response(req: tiny_http::Request, status: u16, body: Value, cache: Option<&str>) {
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(cache) = cache {
        headers.push(("Cache-Control", cache));
    }
    respond(req, status, body.to_string(), &headers);
}

fn query(url: &str) -> HashMap<String, String> {
    let url = Url::parse(&format!("http://x{url}")).unwrap();
    url.query_pairs().into_owned().collect()
}

pub(super) fn handle(mut req: tiny_http::Request, issuer: &str, state: &Mutex<ProviderState>) {
    let url = req.url().to_owned();
    let path = url.split('?').next().unwrap_or("").to_owned();
    match (req.method().as_str(), path.as_str()) {
        ("GET", "/.well-known/openid-configuration") => {
            let (named, redirect) = {
                let s = state.lock().unwrap();
                (
                    s.discovery_issuer.clone().unwrap_or_else(|| issuer.to_owned()),
                    s.redirect_discovery,
                )
            };
            if redirect {
                return respond(
                    req,
                    302,
                    String::new(),
                    &[("Location", &format!("{issuer}/jwks"))],
                );
            }
            json_response(
                req,
                200,
                json!({
                    "issuer": named,
                    "authorization_endpoint": format!("{issuer}/authorize"),
                    "token_endpoint": format!("{issuer}/token"),
                    "jwks_uri": format!("{issuer}/jwks"),
                    "response_types_supported": ["code"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "code_challenge_methods_supported": ["S256"],
                    "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                }),
                Some("public, max-age=3600"),
            )
        }
        ("GET", "/jwks") => {
            let mut s = state.lock().unwrap();
            s.jwks_fetches += 1;
            let keys: Vec<Value> = s.published.iter().map(|&i| keys()[i].jwk.clone()).collect();
            drop(s);
            json_response(req, 200, json!({ "keys": keys }), Some("public, max-age=3600"));
        }
        ("GET", "/authorize") => {
            let q = query(&url);
            let get = |k: &str| q.get(k).cloned().unwrap_or_default();
            if get("client_id") != CLIENT_ID
                || get("response_type") != "code"
                || get("code_challenge_method") != "S256"
                || get("code_challenge").is_empty()
                || get("redirect_uri") != state.lock().unwrap().redirect_uri
                || !get("scope").split(' ').any(|s| s == "openid")
            {
                return respond(req, 400, format!("bad authorization request: {url}"), &[]);
            }
            let code = random();
            let mut s = state.lock().unwrap();
            let identity = s.identity.clone();
            s.codes.insert(
                code.clone(),
                Grant {
                    redirect_uri: get("redirect_uri"),
                    challenge: get("code_challenge"),
                    nonce: q.get("nonce").cloned(),
                    identity,
                },
            );
            drop(s);
            let mut back = Url::parse(&get("redirect_uri")).unwrap();
            back.query_pairs_mut()
                .append_pair("code", &code)
                .append_pair("state", &get("state"));
            respond(req, 302, String::new(), &[("Location", back.as_str())]);
        }
        ("POST", "/token") => {
            let mut body = String::new();
            let _ = req.as_reader().read_to_string(&mut body);
            let form: HashMap<String, String> =
                form_urlencoded::parse(body.as_bytes()).into_owned().collect();
            let basic = req
                .headers()
                .iter()
                .find(|h| h.field.equiv("Authorization"))
                .map(|h| h.value.as_str().to_owned());
            let expected = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
            );
            let client_ok = basic.as_deref() == Some(expected.as_str())
                || (form.get("client_id").map(String::as_str) == Some(CLIENT_ID)
                    && form.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET));
            if !client_ok {
                return json_response(req, 401, json!({"error": "invalid_client"}), None);
            }
            let mut s = state.lock().unwrap();
            s.token_requests += 1;
            let grant = form.get("code").and_then(|c| s.codes.remove(c));
            let Some(grant) = grant else {
                drop(s);
                return json_response(
                    req,
                    400,
                    json!({"error": "invalid_grant", "error_description": "unknown or used code"}),
                    None,
                );
            };
            let verifier = form.get("code_verifier").cloned().unwrap_or_default();
            let challenge = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(verifier));
            if challenge.as_str() != grant.challenge {
                drop(s);
                return json_response(
                    req,
                    400,
                    json!({"error": "invalid_grant", "error_description": "PKCE verification failed"}),
                    None,
                );
            }
            if form.get("redirect_uri") != Some(&grant.redirect_uri) {
                drop(s);
                return json_response(
                    req,
                    400,
                    json!({"error": "invalid_grant", "error_description": "redirect_uri mismatch"}),
                    None,
                );
            }
            let id_token = sign_id_token(issuer, &s, &grant);
            drop(s);
            json_response(
                req,
                200,
                json!({
                    "access_token": random(),
                    "token_type": "Bearer",
                    "expires_in": 3599,
                    "scope": "openid email profile",
                    "id_token": id_token,
                }),
                None,
            );
        }
        _ => respond(req, 404, "not found".into(), &[]),
    }
}

fn sign_id_token(issuer: &str, s: &ProviderState, grant: &Grant) -> String {
    let id = &grant.identity;
    let now = now();
    let mut claims = json!({
        "iss": issuer,
        "azp": CLIENT_ID,
        "aud": CLIENT_ID,
        "sub": id.sub,
        "email": id.email,
        "email_verified": id.email_verified,
        "name": id.name,
        "iat": now,
        "exp": now + 3600,
    });
    let map = claims.as_object_mut().unwrap();
    if let Some(nonce) = &grant.nonce {
        map.insert("nonce".into(), json!(nonce));
    }
    if let Some(hd) = &id.hd {
        map.insert("hd".into(), json!(hd));
    }
    for (k, v) in &s.patch {
        if v.is_null() {
            map.remove(k);
        } else {
            map.insert(k.clone(), v.clone());
        }
    }
    match &s.signing {
        Signing::Rsa { key, kid } => {
            let mut header = Header::new(Algorithm::RS256);
            header.kid = Some(kid.clone());
            let key = EncodingKey::from_rsa_pem(&keys()[*key].pem).unwrap();
            jsonwebtoken::encode(&header, &claims, &key).unwrap()
        }
        Signing::Rs384 => {
            let mut header = Header::new(Algorithm::RS384);
            header.kid = Some(keys()[CURRENT].kid.clone());
            let key = EncodingKey::from_rsa_pem(&keys()[CURRENT].pem).unwrap();
            jsonwebtoken::encode(&header, &claims, &key).unwrap()
        }
        Signing::HmacWithClientSecret => {
            let mut header = Header::new(Algorithm::HS256);
            header.kid = Some(keys()[CURRENT].kid.clone());
            jsonwebtoken::encode(
                &header,
                &claims,
                &EncodingKey::from_secret(CLIENT_SECRET.as_bytes()),
            )
            .unwrap()
        }
    }
}
