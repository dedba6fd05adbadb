//! A small OpenID Connect provider on loopback for the Google sign-in tests:
//! discovery, authorize, token and JWKS, with RS256 keys made for the test
//! run. Each test starts its own and tells it what to put in the next ID
//! token (or how to misbehave).
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::TcpListener;
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use gatehouse::config::keys::KeyRing;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use oauth2::url::{form_urlencoded, Url};
use oauth2::{PkceCodeChallenge, PkceCodeVerifier};
use rocket::figment::Figment;
use serde_json::{json, Map, Value};

pub const CLIENT_ID: &str = "gatehouse-test-client.apps.example";
pub const CLIENT_SECRET: &str = "test-only-client-secret";
pub const REDIRECT_URI: &str = "http://localhost:8000/auth/google/callback";
pub const SPA_REDIRECT_URI: &str = "http://localhost:3000/oauth/callback";

/// An RSA key made with openssl for this test run.
pub struct TestKey {
    pub kid: String,
    pub pem: Vec<u8>,
    pub jwk: Value,
}

fn make_key(kid: &str) -> TestKey {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.pem");
    let ok = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&path)
        .output()
        .expect("openssl is installed (the tests make RSA keys with it)")
        .status
        .success();
    assert!(ok, "openssl genpkey");
    let pem = std::fs::read(&path).unwrap();
    let ring = KeyRing::private_pem(Algorithm::RS256, &pem, Some(kid.into())).unwrap();
    let jwk = serde_json::to_value(&ring.jwks().keys[0]).unwrap();
    TestKey {
        kid: kid.into(),
        pem,
        jwk,
    }
}

/// Three keys for the whole run: the provider's current key, the one it
/// rotates to, and an attacker's (never published).
pub fn keys() -> &'static [TestKey; 3] {
    static KEYS: OnceLock<[TestKey; 3]> = OnceLock::new();
    KEYS.get_or_init(|| [make_key("key-1"), make_key("key-2"), make_key("attacker")])
}

pub const CURRENT: usize = 0;
pub const ROTATED: usize = 1;
pub const ATTACKER: usize = 2;

/// Who signs in next.
#[derive(Debug, Clone)]
pub struct Identity {
    pub sub: String,
    pub email: String,
    pub email_verified: bool,
    pub name: String,
    pub hd: Option<String>,
}

impl Identity {
    pub fn new(sub: &str, email: &str) -> Self {
        Self {
            sub: sub.into(),
            email: email.into(),
            email_verified: true,
            name: "Grace Hopper".into(),
            hd: None,
        }
    }
}

/// How the next ID token is signed.
#[derive(Debug, Clone)]
pub enum Signing {
    /// RS256 with one of [`keys`], named by a `kid`.
    Rsa { key: usize, kid: String },
    /// HS256 with the client secret (the classic algorithm confusion).
    HmacWithClientSecret,
    /// RS384 with the current key.
    Rs384,
}

struct Grant {
    redirect_uri: String,
    challenge: String,
    nonce: Option<String>,
    identity: Identity,
}

pub struct ProviderState {
    /// Where `/authorize` sends the browser back (Gatehouse's callback).
    pub redirect_uri: String,
    /// The `issuer` the discovery document names (normally the real one).
    pub discovery_issuer: Option<String>,
    /// Discovery answers with a redirect elsewhere instead.
    pub redirect_discovery: bool,
    /// Indices into [`keys`] published at `/jwks`.
    pub published: Vec<usize>,
    pub signing: Signing,
    pub identity: Identity,
    /// Claims merged over the next ID token's (`Value::Null` removes one).
    pub patch: Map<String, Value>,
    pub jwks_fetches: usize,
    pub token_requests: usize,
    codes: HashMap<String, Grant>,
}

pub struct Provider {
    pub issuer: String,
    pub state: Arc<Mutex<ProviderState>>,
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn random() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

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

impl Provider {
    /// Starts a provider on a free loopback port; it serves until the test
    /// process ends.
    pub fn start() -> Provider {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("bind a loopback port");
        let issuer = format!(
            "http://127.0.0.1:{}",
            server.server_addr().to_ip().unwrap().port()
        );
        let state = Arc::new(Mutex::new(ProviderState {
            redirect_uri: REDIRECT_URI.into(),
            discovery_issuer: None,
            redirect_discovery: false,
            published: vec![CURRENT],
            signing: Signing::Rsa {
                key: CURRENT,
                kid: keys()[CURRENT].kid.clone(),
            },
            identity: Identity::new("google-sub-1", "grace@example.com"),
            patch: Map::new(),
            jwks_fetches: 0,
            token_requests: 0,
            codes: HashMap::new(),
        }));
        let (shared, iss) = (state.clone(), issuer.clone());
        std::thread::spawn(move || {
            for req in server.incoming_requests() {
                handle(req, &iss, &shared);
            }
        });
        Provider { issuer, state }
    }

    pub fn set<R>(&self, f: impl FnOnce(&mut ProviderState) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }

    pub fn jwks_fetches(&self) -> usize {
        self.state.lock().unwrap().jwks_fetches
    }

    /// Issues a code as `/authorize` would for a single-page app that made
    /// its own PKCE pair and nonce.
    pub fn code_for_spa(&self, challenge: &str, nonce: Option<&str>) -> String {
        let mut state = self.state.lock().unwrap();
        let code = random();
        let identity = state.identity.clone();
        state.codes.insert(
            code.clone(),
            Grant {
                redirect_uri: SPA_REDIRECT_URI.into(),
                challenge: challenge.into(),
                nonce: nonce.map(str::to_owned),
                identity,
            },
        );
        code
    }

    /// Gatehouse's settings for this provider.
    pub fn configure(&self, figment: Figment) -> Figment {
        figment
            .merge(("google.client_id", CLIENT_ID))
            .merge(("google.client_secret", CLIENT_SECRET))
            .merge(("google.redirect_uri", REDIRECT_URI))
            .merge(("google.spa_redirect_uris", vec![SPA_REDIRECT_URI]))
            .merge(("google.issuer", self.issuer.as_str()))
            .merge(("google.timeout", 3))
            .merge(("google.connect_timeout", 2))
            // Many sign-ins from one test client: the limit has tests of its own.
            .merge(("login.rate_limit_per_minute", 1000))
    }
}

fn query(url: &str) -> HashMap<String, String> {
    let url = Url::parse(&format!("http://x{url}")).unwrap();
    url.query_pairs().into_owned().collect()
}

fn handle(mut req: tiny_http::Request, issuer: &str, state: &Mutex<ProviderState>) {
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

/// A server that accepts connections and never answers.
pub fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    url
}
