//! A small OpenID Connect provider on loopback for the Google sign-in tests:
//! discovery, authorize, token and JWKS ([`endpoints`]), with RS256 keys
//! made for the test run. Each test starts its own and tells it what to put
//! in the next ID token (or how to misbehave).
#![allow(dead_code)]

mod endpoints;

use std::collections::HashMap;
use std::net::TcpListener;
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use gatehouse::config::keys::KeyRing;
use jsonwebtoken::Algorithm;
use rocket::figment::Figment;
use serde_json::{Map, Value};

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
                endpoints::handle(req, &iss, &shared);
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
