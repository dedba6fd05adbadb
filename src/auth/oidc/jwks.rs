//! The provider's signing keys: fetched from its `jwks_uri`, kept as long as
//! its `Cache-Control` says, and refetched for an unknown `kid` at most once
//! per `jwks_refetch_interval`, so a flood of made-up `kid`s can't make us
//! flood the provider.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, PublicKeyUse};
use jsonwebtoken::DecodingKey;
use rocket::tokio::sync::Mutex;
use serde::Deserialize;

use super::{OidcError, FAILURE_BACKOFF};

/// RS256 verification keys by `kid`.
#[derive(Default)]
pub struct KeySet {
    keys: HashMap<String, DecodingKey>,
}

impl KeySet {
    /// Keeps the RSA signing keys of a JWKS document: a key of another type,
    /// for encryption, for another algorithm, or without a `kid` is skipped
    /// (one odd key must not make the provider's other keys unusable).
    pub fn parse(body: &[u8]) -> Result<Self, String> {
        #[derive(Deserialize)]
        struct Document {
            keys: Vec<serde_json::Value>,
        }
        let doc: Document =
            serde_json::from_slice(body).map_err(|e| format!("the JWKS is not a key set: {e}"))?;
        let mut keys = HashMap::new();
        for value in doc.keys {
            let Ok(jwk) = serde_json::from_value::<Jwk>(value) else {
                continue;
            };
            let Some(kid) = jwk.common.key_id.clone() else {
                continue;
            };
            let usable = matches!(jwk.algorithm, AlgorithmParameters::RSA(_))
                && jwk
                    .common
                    .public_key_use
                    .as_ref()
                    .is_none_or(|u| *u == PublicKeyUse::Signature)
                && jwk
                    .common
                    .key_algorithm
                    .is_none_or(|a| a == jsonwebtoken::jwk::KeyAlgorithm::RS256);
            if !usable {
                continue;
            }
            if let Ok(key) = DecodingKey::from_jwk(&jwk) {
                keys.insert(kid, key);
            }
        }
        Ok(Self { keys })
    }

    pub fn get(&self, kid: &str) -> Option<&DecodingKey> {
        self.keys.get(kid)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

struct Cached {
    set: KeySet,
    /// When the provider said to fetch again.
    expires: Instant,
    /// When, the provider being unreachable, these keys are no longer used.
    usable_until: Instant,
}

/// How long keys outlive their `Cache-Control` while the provider can't be
/// reached.
const STALE_FOR: Duration = Duration::from_secs(24 * 3600);

impl Cached {
    fn new(set: KeySet, now: Instant, max_age: Duration) -> Self {
        Self {
            set,
            expires: now + max_age,
            usable_until: now + max_age + STALE_FOR,
        }
    }
}

/// The cache. One lock: a refetch in flight makes the others wait for its
/// result rather than fetch again.
#[derive(Default)]
pub struct KeyCache {
    state: Mutex<CacheState>,
}

#[derive(Default)]
struct CacheState {
    cached: Option<Cached>,
    /// When an unknown `kid` last caused a refetch.
    last_kid_refetch: Option<Instant>,
    /// When a fetch last failed: for a few seconds after, nobody waits for
    /// another.
    failed_at: Option<Instant>,
}

/// How a key was looked up.
pub enum Lookup {
    Found(DecodingKey),
    /// Not in the provider's keys, even after a refetch (or a refetch was
    /// not allowed yet).
    Unknown,
}

impl KeyCache {
    /// The key for `kid`, fetching with `fetch` when the cache is empty or
    /// stale, or (rate-limited) when the `kid` is unknown.
    pub async fn key<F, Fut>(
        &self,
        kid: &str,
        refetch_interval: Duration,
        fetch: F,
    ) -> Result<Lookup, OidcError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<(KeySet, Duration), OidcError>>,
    {
        let mut state = self.state.lock().await;
        let now = Instant::now();
        if state.cached.as_ref().is_some_and(|c| c.usable_until <= now) {
            state.cached = None;
        }
        let fresh = state.cached.as_ref().is_some_and(|c| c.expires > now);
        let backing_off = state
            .failed_at
            .is_some_and(|t| now.duration_since(t) < FAILURE_BACKOFF);
        if !fresh && !backing_off {
            match fetch().await {
                Ok((set, max_age)) => {
                    state.cached = Some(Cached::new(set, now, max_age));
                    state.failed_at = None;
                }
                Err(e) => {
                    // The provider's keys rotate slowly: keys we already
                    // hold are still its keys for a while.
                    log::warn!("could not fetch the provider's keys: {e:?}");
                    state.failed_at = Some(Instant::now());
                    if state.cached.is_none() {
                        return Err(e);
                    }
                }
            }
        } else if state.cached.is_none() {
            return Err(OidcError::Unreachable(
                "the provider's keys are unavailable".into(),
            ));
        }
        if let Some(key) = state.cached.as_ref().and_then(|c| c.set.get(kid)) {
            return Ok(Lookup::Found(key.clone()));
        }
        // A `kid` we don't know: the provider may have rotated its keys.
        // Look again, but not more often than the interval allows.
        let allowed = state
            .last_kid_refetch
            .is_none_or(|t| now.duration_since(t) >= refetch_interval);
        if !fresh || !allowed {
            return Ok(Lookup::Unknown);
        }
        state.last_kid_refetch = Some(now);
        let (set, max_age) = fetch().await?;
        let found = set.get(kid).cloned();
        state.cached = Some(Cached::new(set, now, max_age));
        Ok(found.map_or(Lookup::Unknown, Lookup::Found))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_keys_are_skipped_not_fatal() {
        let body = br#"{"keys": [
            {"kty": "EC", "crv": "P-256", "kid": "ec", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": "sXch", "e": "AQAB"},
            {"kty": "weird", "kid": "w"},
            {"kty": "RSA", "kid": "good", "alg": "RS256", "use": "sig", "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw", "e": "AQAB"}
        ]}"#;
        let set = KeySet::parse(body).unwrap();
        assert_eq!(set.len(), 1);
        assert!(set.get("good").is_some());
        assert!(KeySet::parse(b"[]").is_err());
    }
}
