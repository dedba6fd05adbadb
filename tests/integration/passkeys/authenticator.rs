//! A software authenticator written for the tests from the WebAuthn spec
//! (Level 3, §6.1 authenticator data, §6.5 attestation, §5.8.1 client
//! data): one ES256 (P-256) credential, "none" attestation, a signature
//! counter the test sets, the user handle it was registered with. It plays
//! the browser too: it writes the client data (type, challenge, origin).
//!
//! The CBOR it needs (a map of small ints, text and byte strings) is
//! written by hand.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use crypto_glue::ecdsa_p256::{self, EcdsaP256PrivateKey, EcdsaP256Signature, EcdsaP256SigningKey};
use crypto_glue::traits::{SignatureEncoding, Signer, ToSec1Point};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// Authenticator data flags (§6.1).
const UP: u8 = 0x01;
const UV: u8 = 0x04;
const BE: u8 = 0x08;
const BS: u8 = 0x10;
const AT: u8 = 0x40;

pub struct Authenticator {
    key: EcdsaP256PrivateKey,
    pub credential_id: Vec<u8>,
    /// Set by `register` from the options' `user.id`.
    pub user_handle: Vec<u8>,
    /// The next signature counter.
    pub counter: u32,
    /// What the client data says the page's origin is.
    pub origin: String,
    /// Whose RP id's hash goes into the authenticator data.
    pub rp_id: String,
    /// Backup eligible and backed up (a synced passkey).
    pub synced: bool,
    pub user_verified: bool,
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).expect("base64url")
}

impl Authenticator {
    /// A new credential for `http://localhost:8000` (the test app's origin).
    pub fn new() -> Self {
        let mut credential_id = vec![0u8; 16];
        rand::fill(&mut credential_id[..]);
        Authenticator {
            key: ecdsa_p256::new_key(),
            credential_id,
            user_handle: Vec::new(),
            counter: 0,
            origin: "http://localhost:8000".into(),
            rp_id: "localhost".into(),
            synced: false,
            user_verified: true,
        }
    }

    fn flags(&self, attested: bool) -> u8 {
        let mut flags = UP;
        if self.user_verified {
            flags |= UV;
        }
        if self.synced {
            flags |= BE | BS;
        }
        if attested {
            flags |= AT;
        }
        flags
    }

    fn client_data(&self, kind: &str, challenge: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "type": kind,
            "challenge": challenge,
            "origin": self.origin,
            "crossOrigin": false,
        }))
        .unwrap()
    }

    /// The COSE_Key of the public key (RFC 9053: kty EC2, alg ES256, crv
    /// P-256, x, y).
    fn cose_key(&self) -> Vec<u8> {
        let point = self.key.public_key().to_sec1_point(false);
        let (x, y) = (point.x().unwrap(), point.y().unwrap());
        let mut out = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21];
        cbor_bytes(&mut out, x);
        out.push(0x22);
        cbor_bytes(&mut out, y);
        out
    }

    fn auth_data(&self, attested: bool) -> Vec<u8> {
        let mut data = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        data.push(self.flags(attested));
        data.extend_from_slice(&self.counter.to_be_bytes());
        if attested {
            data.extend_from_slice(&[0u8; 16]); // AAGUID: none
            data.extend_from_slice(&(self.credential_id.len() as u16).to_be_bytes());
            data.extend_from_slice(&self.credential_id);
            data.extend_from_slice(&self.cose_key());
        }
        data
    }

    /// `navigator.credentials.create()`: the credential for the options of
    /// a registration's start (`{"publicKey": {...}}`), as the browser's
    /// script posts it.
    pub fn register(&mut self, options: &Value) -> Value {
        let public_key = &options["publicKey"];
        let challenge = public_key["challenge"].as_str().expect("a challenge");
        self.user_handle = unb64(public_key["user"]["id"].as_str().expect("a user id"));
        let client_data = self.client_data("webauthn.create", challenge);
        let auth_data = self.auth_data(true);
        // {"fmt": "none", "attStmt": {}, "authData": h'...'}
        let mut attestation = vec![0xa3];
        cbor_text(&mut attestation, "fmt");
        cbor_text(&mut attestation, "none");
        cbor_text(&mut attestation, "attStmt");
        attestation.push(0xa0);
        cbor_text(&mut attestation, "authData");
        cbor_bytes(&mut attestation, &auth_data);
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "attestationObject": b64(&attestation),
                "clientDataJSON": b64(&client_data),
                "transports": ["internal"],
            },
            "extensions": {},
        })
    }

    /// `navigator.credentials.get()`: an assertion for the options of a
    /// sign-in's start, signed over authenticator data and the client
    /// data's hash, with the user handle.
    pub fn assert(&mut self, options: &Value) -> Value {
        let challenge = options["publicKey"]["challenge"].as_str().expect("a challenge");
        let client_data = self.client_data("webauthn.get", challenge);
        let auth_data = self.auth_data(false);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));
        let signer = EcdsaP256SigningKey::from(&self.key);
        let signature: EcdsaP256Signature = signer.try_sign(&signed).expect("signs");
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(&client_data),
                "signature": b64(&signature.to_der().to_vec()),
                "userHandle": b64(&self.user_handle),
            },
            "extensions": {},
        })
    }
}

fn cbor_head(out: &mut Vec<u8>, major: u8, len: usize) {
    match len {
        0..=23 => out.push(major << 5 | len as u8),
        24..=255 => out.extend_from_slice(&[major << 5 | 24, len as u8]),
        _ => {
            out.push(major << 5 | 25);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
    }
}

fn cbor_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    cbor_head(out, 2, bytes.len());
    out.extend_from_slice(bytes);
}

fn cbor_text(out: &mut Vec<u8>, text: &str) {
    cbor_head(out, 3, text.len());
    out.extend_from_slice(text.as_bytes());
}
