//! Signing and checking: round trips, forged headers, tampering, time and
//! audience, duplicated claims, pending sign-in tokens.

use super::*;
use crate::config::Settings;

fn tokens() -> Tokens {
    let mut s = Settings::default();
    s.jwt.secret_key = Some("k3P9vQz8Lr2Xw6Yt1Nb5Mc7Hd4Jf0Gs8Ae2Ui6Oo9".into());
    Tokens::new(&s.validate(false).unwrap().jwt)
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[test]
fn round_trip() {
    let t = tokens();
    let (token, claims) = t
        .issue_access(7, "sid-1", "csrf-1", true, vec!["pwd".into()], Default::default())
        .unwrap();
    let decoded = t.decode(&token, TokenType::Access).unwrap();
    assert_eq!(decoded.claims, claims);
    assert!(!decoded.expired);
    assert_eq!(
        t.decode(&token, TokenType::Refresh).unwrap_err(),
        AuthFailure::NotRefresh
    );
    assert_eq!(decoded.claims.amr, vec!["pwd".to_owned()]);
}

#[test]
fn a_pending_sign_in_token_is_good_only_as_one() {
    let t = tokens();
    let mfa = t.issue_mfa(7, true, Some("/items".into()), None, 300).unwrap();
    let claims = t.decode_mfa(&mfa).unwrap();
    assert_eq!((claims.user_id(), claims.remember), (Some(7), true));
    assert_eq!(claims.next.as_deref(), Some("/items"));
    assert_eq!(
        t.decode(&mfa, TokenType::Access).unwrap_err(),
        AuthFailure::WrongType
    );
    assert_eq!(
        t.decode(&mfa, TokenType::Refresh).unwrap_err(),
        AuthFailure::NotRefresh
    );
    let (access, _) = issued(&t);
    assert_eq!(t.decode_mfa(&access).unwrap_err(), AuthFailure::WrongType);
    let expired = t.issue_mfa(7, false, None, None, -120).unwrap();
    assert_eq!(t.decode_mfa(&expired).unwrap_err(), AuthFailure::Expired);
}

/// An access token for user 7, and its claims.
fn issued(t: &Tokens) -> (String, Claims) {
    t.issue_access(7, "sid-1", "c", true, Vec::new(), Default::default())
        .unwrap()
}

#[test]
fn refuses_forged_headers() {
    let t = tokens();
    let (token, _) = issued(&t);
    let parts: Vec<&str> = token.split('.').collect();
    // alg: none, with and without a signature
    let none = b64(br#"{"alg":"none","typ":"JWT"}"#);
    for forged in [format!("{none}.{}.", parts[1]), format!("{none}.{}", parts[1])] {
        assert_eq!(
            t.decode(&forged, TokenType::Access).unwrap_err(),
            AuthFailure::Malformed
        );
    }
    // HS384 header on our HS256 key: the algorithm comes from config
    let hs384 = b64(br#"{"alg":"HS384","typ":"JWT"}"#);
    assert_eq!(
        t.decode(&format!("{hs384}.{}.{}", parts[1], parts[2]), TokenType::Access)
            .unwrap_err(),
        AuthFailure::BadSignature
    );
    // an unknown critical header
    let crit = b64(br#"{"alg":"HS256","typ":"JWT","crit":["exp-ext"]}"#);
    assert_eq!(
        t.decode(&format!("{crit}.{}.{}", parts[1], parts[2]), TokenType::Access)
            .unwrap_err(),
        AuthFailure::Malformed
    );
}

#[test]
fn refuses_tampered_tokens() {
    let t = tokens();
    let (token, claims) = issued(&t);
    let parts: Vec<&str> = token.split('.').collect();
    // stripped signature
    assert!(t
        .decode(&format!("{}.{}.", parts[0], parts[1]), TokenType::Access)
        .is_err());
    // tampered payload
    let mut tampered = claims.clone();
    tampered.sub = "1".into();
    let body = b64(serde_json::to_string(&tampered).unwrap().as_bytes());
    assert_eq!(
        t.decode(&format!("{}.{body}.{}", parts[0], parts[2]), TokenType::Access)
            .unwrap_err(),
        AuthFailure::BadSignature
    );
    // too large
    assert_eq!(
        t.decode(&"a".repeat(100_000), TokenType::Access).unwrap_err(),
        AuthFailure::Malformed
    );
}

#[test]
fn checks_time_and_audience() {
    let t = tokens();
    let now = now();
    let base = t
        .issue_access(1, "s", "c", false, Vec::new(), Default::default())
        .unwrap()
        .1;
    let expired = Claims {
        exp: now - 10,
        ..base.clone()
    };
    assert!(
        t.decode(&t.sign(&expired).unwrap(), TokenType::Access)
            .unwrap()
            .expired
    );
    let future = Claims {
        nbf: now + 3600,
        ..base.clone()
    };
    assert_eq!(
        t.decode(&t.sign(&future).unwrap(), TokenType::Access)
            .unwrap_err(),
        AuthFailure::NotYetValid
    );
    let aud = Claims {
        aud: "someone-else".into(),
        ..base.clone()
    };
    assert_eq!(
        t.decode(&t.sign(&aud).unwrap(), TokenType::Access).unwrap_err(),
        AuthFailure::InvalidClaims
    );
    let iss = Claims {
        iss: "evil".into(),
        ..base.clone()
    };
    assert_eq!(
        t.decode(&t.sign(&iss).unwrap(), TokenType::Access).unwrap_err(),
        AuthFailure::InvalidClaims
    );
    // a required claim missing
    let mut value = serde_json::to_value(&base).unwrap();
    value.as_object_mut().unwrap().remove("jti");
    assert!(t.decode(&t.sign(&value).unwrap(), TokenType::Access).is_err());
    value = serde_json::to_value(&base).unwrap();
    value.as_object_mut().unwrap().remove("exp");
    assert!(t.decode(&t.sign(&value).unwrap(), TokenType::Access).is_err());
    for claim in ["iss", "aud"] {
        value = serde_json::to_value(&base).unwrap();
        value.as_object_mut().unwrap().remove(claim);
        assert_eq!(
            t.decode(&t.sign(&value).unwrap(), TokenType::Access).unwrap_err(),
            AuthFailure::InvalidClaims,
            "missing {claim}"
        );
    }
}

#[test]
fn refuses_a_duplicated_claim() {
    let t = tokens();
    let (_, claims) = issued(&t);
    // a duplicated claim, correctly signed, is refused rather than
    // resolved either way
    let json = serde_json::to_string(&claims).unwrap();
    let dup = serde_json::value::RawValue::from_string(json.replacen('{', "{\"sub\":\"1\",", 1)).unwrap();
    let signed_dup = t.sign(&dup).unwrap();
    assert_eq!(
        t.decode(&signed_dup, TokenType::Access).unwrap_err(),
        AuthFailure::Malformed
    );
}
