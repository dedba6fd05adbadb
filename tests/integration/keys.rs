//! Asymmetric algorithms, `kid`, JWKS and key rotation; forged headers.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use gatehouse::config::Config;
use gatehouse::domain::Role;
use rocket::figment::Figment;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::Client;
use serde_json::{json, Value};

use crate::common::{figment, Backend, TestApp, PASSWORD};
use crate::db_tests;
use crate::tests;

tests!(
    every_algorithm_signs_and_verifies_with_a_published_kid,
    hmac_tokens_have_a_kid_and_publish_no_key
);
tests!(sync: key_settings_name_their_key);

/// Makes a private key (and its public PEM) with openssl.
fn keypair(dir: &Path, name: &str, alg: &str) -> (PathBuf, PathBuf) {
    let private = dir.join(format!("{name}.pem"));
    let public = dir.join(format!("{name}.pub.pem"));
    let args: Vec<&str> = match alg {
        "RSA" => vec!["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        "P-256" => vec!["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "P-384" => vec!["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
        "Ed25519" => vec!["-algorithm", "ed25519"],
        other => panic!("{other}"),
    };
    let ok = Command::new("openssl")
        .arg("genpkey")
        .args(args)
        .arg("-out")
        .arg(&private)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl")
        .success();
    assert!(ok);
    let ok = Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&private)
        .arg("-out")
        .arg(&public)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    (private, public)
}

fn with_key(f: Figment, alg: &str, private: &Path) -> Figment {
    f.merge(("jwt.algorithm", alg))
        .merge(("jwt.private_key_file", private.display().to_string()))
}

fn header_of(token: &str) -> Value {
    let part = token.split('.').next().unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap(),
    )
    .unwrap()
}

async fn login(client: &Client) -> String {
    let res = client
        .post("/api/v1/login")
        .header(ContentType::JSON)
        .body(json!({"email": "ada@example.com", "password": PASSWORD}).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    res.into_json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn me(client: &Client, token: &str) -> Status {
    client
        .get("/api/v1/me")
        .header(Header::new("Authorization", format!("Bearer {token}")))
        .header(Header::new("Accept", "application/json"))
        .dispatch()
        .await
        .status()
}

async fn jwks(client: &Client) -> Value {
    let res = client.get("/.well-known/jwks.json").dispatch().await;
    assert_eq!(
        res.headers().get_one("Cache-Control"),
        Some("public, max-age=300")
    );
    res.into_json().await.unwrap()
}

async fn every_algorithm_signs_and_verifies_with_a_published_kid() {
    let dir = tempfile::tempdir().unwrap();
    let keys = [
        ("RS256", "RSA"),
        ("RS384", "RSA"),
        ("RS512", "RSA"),
        ("PS256", "RSA"),
        ("PS384", "RSA"),
        ("PS512", "RSA"),
        ("ES256", "P-256"),
        ("ES384", "P-384"),
        ("EdDSA", "Ed25519"),
    ];
    for (alg, kind) in keys {
        let (private, _) = keypair(dir.path(), alg, kind);
        let app = TestApp::spawn_rocket(Backend::Sqlite, |f| gatehouse::build(with_key(f, alg, &private)))
            .await
            .unwrap();
        app.create_user("ada@example.com", "Ada", Role::User).await;
        let token = login(&app.bare).await;
        let header = header_of(&token);
        assert_eq!(header["alg"], alg);
        assert_eq!(me(&app.bare, &token).await, Status::Ok, "{alg}");
        let set = jwks(&app.bare).await;
        assert_eq!(set["keys"].as_array().unwrap().len(), 1);
        assert_eq!(set["keys"][0]["kid"], header["kid"], "{alg}");
        assert_eq!(set["keys"][0]["alg"], alg);
        assert!(set["keys"][0].get("d").is_none(), "no private part is published");
    }
}

async fn hmac_tokens_have_a_kid_and_publish_no_key() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let token = login(&app.bare).await;
    assert!(header_of(&token)["kid"].as_str().is_some_and(|k| !k.is_empty()));
    assert_eq!(jwks(&app.bare).await, json!({"keys": []}));
}

db_tests!(forged_headers_are_refused);

async fn forged_headers_are_refused(app: TestApp) {
    let backend = app.backend;
    drop(app);
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = keypair(dir.path(), "rsa", "RSA");
    let app = TestApp::spawn_rocket(backend, |f| gatehouse::build(with_key(f, "RS256", &private)))
        .await
        .unwrap();
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let token = login(&app.bare).await;
    let parts: Vec<&str> = token.split('.').collect();
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let kid = header_of(&token)["kid"].as_str().unwrap().to_owned();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap(),
    )
    .unwrap();

    // HS256 "signed" with the RSA public key (algorithm confusion).
    let pem = std::fs::read(&public).unwrap();
    let mut hs = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs.kid = Some(kid.clone());
    let confused = jsonwebtoken::encode(&hs, &claims, &jsonwebtoken::EncodingKey::from_secret(&pem)).unwrap();
    // A listener a `jku` points at: it must never be asked.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let jku = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let (attacker_private, _) = keypair(dir.path(), "attacker", "RSA");
    let attacker_key =
        jsonwebtoken::EncodingKey::from_rsa_pem(&std::fs::read(&attacker_private).unwrap()).unwrap();
    let attacker_jwk =
        jsonwebtoken::jwk::Jwk::from_encoding_key(&attacker_key, jsonwebtoken::Algorithm::RS256).unwrap();
    let attacker_signed = |how: &str| {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(kid.clone());
        match how {
            "jku" => header.jku = Some(jku.clone()),
            _ => header.jwk = Some(attacker_jwk.clone()),
        }
        jsonwebtoken::encode(&header, &claims, &attacker_key).unwrap()
    };
    let forged = [
        (
            "alg none",
            format!("{}.{}.", b64(&json!({"alg": "none", "kid": kid})), parts[1]),
        ),
        ("hs256 with public key", confused),
        ("stripped signature", format!("{}.{}.", parts[0], parts[1])),
        (
            "unknown kid",
            format!(
                "{}.{}.{}",
                b64(&json!({"alg": "RS256", "kid": "other"})),
                parts[1],
                parts[2]
            ),
        ),
        (
            "no kid",
            format!("{}.{}.{}", b64(&json!({"alg": "RS256"})), parts[1], parts[2]),
        ),
        (
            "path kid",
            format!(
                "{}.{}.{}",
                b64(&json!({"alg": "RS256", "kid": "../../../etc/passwd"})),
                parts[1],
                parts[2]
            ),
        ),
        (
            "sql kid",
            format!(
                "{}.{}.{}",
                b64(&json!({"alg": "RS256", "kid": "x' OR '1'='1"})),
                parts[1],
                parts[2]
            ),
        ),
        // Signed by an attacker's key that the header points at (by URL or
        // embedded), under the genuine kid: the key is never fetched or used.
        ("jku", attacker_signed("jku")),
        ("jwk", attacker_signed("jwk")),
    ];
    for (what, token) in forged {
        let res = app
            .bare
            .get("/api/v1/me")
            .header(Header::new("Authorization", format!("Bearer {token}")))
            .header(Header::new("Accept", "application/json"))
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::Unauthorized, "{what}");
        let body: Value = res.into_json().await.unwrap();
        let expected = if what == "alg none" {
            "The token is malformed"
        } else {
            "Signature verification failed"
        };
        assert_eq!(body["description"], expected, "{what}");
    }
    let mut buf = [0u8; 1];
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        Ok((mut stream, _)) => panic!("the jku listener was contacted: {:?}", stream.read(&mut buf)),
        Err(e) => panic!("{e}"),
    }
    // The genuine token still works.
    assert_eq!(me(&app.bare, &token).await, Status::Ok);
}

db_tests!(key_rotation_keeps_old_tokens_valid);

/// Sign with a new key, keep verifying the old one: old tokens keep working
/// until they expire, new ones use the new key, both are published, and an
/// independent library (PyJWT) verifies both against the JWKS.
async fn key_rotation_keeps_old_tokens_valid(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let (old_private, old_public) = keypair(dir.path(), "old", "RSA");
    let (new_private, _) = keypair(dir.path(), "new", "RSA");
    let before = Client::untracked(gatehouse::build(with_key(
        figment(&app.url),
        "RS256",
        &old_private,
    )))
    .await
    .unwrap();
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let old_token = login(&before).await;

    let after = Client::untracked(gatehouse::build(
        with_key(figment(&app.url), "RS256", &new_private).merge((
            "jwt.verify_keys",
            vec![json!({"algorithm": "RS256", "public_key_file": old_public.display().to_string()})],
        )),
    ))
    .await
    .unwrap();
    assert_eq!(
        me(&after, &old_token).await,
        Status::Ok,
        "the old key still verifies"
    );
    let new_token = login(&after).await;
    assert_ne!(header_of(&new_token)["kid"], header_of(&old_token)["kid"]);
    let set = jwks(&after).await;
    let kids: Vec<&str> = set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids.len(), 2);
    assert!(kids.contains(&header_of(&old_token)["kid"].as_str().unwrap()));
    assert!(kids.contains(&header_of(&new_token)["kid"].as_str().unwrap()));
    // The instance still on the old key alone refuses the new key's tokens.
    assert_eq!(me(&before, &new_token).await, Status::Unauthorized);

    let jwks_file = dir.path().join("jwks.json");
    std::fs::write(&jwks_file, set.to_string()).unwrap();
    verify_with_pyjwt(&jwks_file, &[&old_token, &new_token]);
}

fn verify_with_pyjwt(jwks_file: &Path, tokens: &[&str]) {
    let has_pyjwt = Command::new("python3")
        .args(["-c", "import jwt, cryptography"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_pyjwt {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have PyJWT (pip install 'pyjwt[crypto]')"
        );
        eprintln!("PyJWT is not installed: the independent JWKS check was skipped");
        return;
    }
    let out = Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/verify_jwks.py"))
        .arg(jwks_file)
        .args(["gatehouse", "gatehouse"])
        .args(tokens)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "PyJWT refused a token: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), tokens.len());
}

fn key_settings_name_their_key() {
    let f = figment("sqlite://x.db").merge(("jwt.algorithm", "RS256"));
    assert_eq!(Config::from_figment(&f).unwrap_err().key, "jwt.private_key_file");
    let f = f.merge(("jwt.private_key_file", "/no/such/key.pem"));
    let err = Config::from_figment(&f).unwrap_err();
    assert_eq!(err.key, "jwt.private_key_file");
    assert!(err.message.contains("cannot read"));
    let f = figment("sqlite://x.db").merge(("jwt.algorithm", "none"));
    assert_eq!(Config::from_figment(&f).unwrap_err().key, "jwt.algorithm");
    let dir = tempfile::tempdir().unwrap();
    let (private, _) = keypair(dir.path(), "ec", "P-256");
    let f = figment("sqlite://x.db")
        .merge(("jwt.algorithm", "RS256"))
        .merge(("jwt.private_key_file", private.display().to_string()));
    assert!(Config::from_figment(&f)
        .unwrap_err()
        .message
        .contains("not a PEM private key"));
}
