//! Passwords: policy, and bcrypt hashing and checking on bcrypt's own
//! threads (see [`Hasher`]), never on the async workers.

use std::sync::Arc;

use super::hasher::Hasher;
use crate::error::{Error, Result};

/// bcrypt reads at most 72 bytes; longer passwords are refused, never
/// silently cut.
pub const MAX_BYTES: usize = 72;

/// Very common passwords, refused whatever their length (NIST SP 800-63B).
const COMMON: &str = include_str!("common-passwords.txt");

/// Why a new password was refused, fit to show the person choosing it.
pub fn check_policy(password: &str, min_length: usize) -> Result<(), String> {
    // bcrypt implementations read a password as a C string, so a NUL would
    // end it early; no keyboard types the other control characters.
    if password.chars().any(char::is_control) {
        return Err("Remove the control characters (such as NUL, a tab or a line break).".into());
    }
    if password.chars().count() < min_length {
        return Err(format!("Use at least {min_length} characters."));
    }
    if password.len() > MAX_BYTES {
        return Err(format!(
            "Use at most {MAX_BYTES} bytes (bcrypt ignores anything longer, so we refuse it)."
        ));
    }
    let lower = password.to_lowercase();
    if COMMON.lines().any(|common| common.trim() == lower) {
        return Err("That password is too common; choose one that is harder to guess.".into());
    }
    let mut chars: Vec<char> = lower.chars().collect();
    chars.dedup();
    if chars.len() <= 2 {
        return Err("That password is too easy to guess.".into());
    }
    Ok(())
}

/// Hashes and verifies with the configured cost. Verification of an unknown
/// account runs against a dummy hash of the same cost, so it takes as long.
#[derive(Clone)]
pub struct Passwords {
    cost: u32,
    dummy_hash: Arc<String>,
    hasher: Hasher,
}

impl Passwords {
    /// Computes the dummy hash once and starts bcrypt's threads (`workers`,
    /// 0 for one per core, at niceness `nice`, behind a queue of `queue`);
    /// blocking (call at start-up).
    pub fn new(cost: u32, workers: usize, queue: usize, nice: i32) -> Result<Self> {
        let dummy_hash = bcrypt::hash(uuid::Uuid::new_v4().to_string(), cost)?;
        Ok(Self {
            cost,
            dummy_hash: Arc::new(dummy_hash),
            hasher: Hasher::new(workers, queue, nice)?,
        })
    }

    /// Hashes on a bcrypt thread ([`Error::Busy`] when they are all taken
    /// and the queue is full). The caller has checked the policy; this still
    /// refuses over-long input rather than truncate it.
    pub async fn hash(&self, password: String) -> Result<String> {
        let cost = self.cost;
        self.hasher.run(move || hash_blocking(&password, cost)).await?
    }

    /// Password checks waiting for a bcrypt thread (for the metrics).
    pub fn queued(&self) -> usize {
        self.hasher.queued()
    }

    pub fn hash_blocking(&self, password: &str) -> Result<String> {
        hash_blocking(password, self.cost)
    }

    /// Checks a password against a stored hash (or, with `None`, against the
    /// dummy hash, and answers no). Over-long input does the same work and
    /// answers no.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool> {
        Ok(self.check(password, hash).await?.ok)
    }

    /// [`Self::verify`], and whether the stored hash has another cost than
    /// the configured one (the caller hashes it again with [`Self::hash`],
    /// once the account is known to be usable: hashing here would make a
    /// right guess on a locked account slower than a wrong one). A
    /// wrong password against a cheaper hash costs what the configured cost
    /// does (see [`harden`]), so raising the cost doesn't make existing
    /// accounts answer faster than unknown emails.
    pub async fn check(&self, password: String, hash: Option<String>) -> Result<Checked> {
        let (dummy, cost) = (self.dummy_hash.clone(), self.cost);
        self.hasher
            .run(move || {
                let usable = password.len() <= MAX_BYTES;
                let (candidate, target) = match (&hash, usable) {
                    (Some(hash), true) => (password.as_str(), hash.as_str()),
                    _ => ("", dummy.as_str()),
                };
                let matches = bcrypt::verify(candidate, target).unwrap_or(false);
                if !(matches && hash.is_some() && usable) {
                    harden(candidate, target, cost, &dummy);
                    return Ok(Checked {
                        ok: false,
                        needs_rehash: false,
                    });
                }
                Ok(Checked {
                    ok: true,
                    needs_rehash: stored_cost(target) != Some(cost),
                })
            })
            .await?
    }
}

/// A password check's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checked {
    pub ok: bool,
    /// The password is right and the stored hash has another cost than the
    /// configured one.
    pub needs_rehash: bool,
}

/// The cost a bcrypt hash was made with (`$2b$12$...` -> 12).
pub fn stored_cost(hash: &str) -> Option<u32> {
    hash.parse::<bcrypt::HashParts>().ok().map(|p| p.get_cost())
}

/// How many more checks of a hash of cost `stored` make a failed one cost
/// what one of cost `configured` does: each step of cost doubles the work,
/// so 2^(configured - stored) checks in all (Django's `harden_runtime`).
pub fn hardening_rounds(stored: u32, configured: u32) -> u64 {
    match configured.checked_sub(stored) {
        Some(diff) if diff > 0 => (1u64 << diff.min(40)) - 1,
        _ => 0,
    }
}

/// After a failed check of `candidate` against `target`, spends what a
/// check at the configured cost would have cost; returns the extra checks
/// done. A hash whose cost can't be read costs a check of the dummy hash.
fn harden(candidate: &str, target: &str, configured: u32, dummy: &str) -> u64 {
    let Some(stored) = stored_cost(target) else {
        let _ = bcrypt::verify(candidate, dummy);
        return 1;
    };
    let rounds = hardening_rounds(stored, configured);
    for _ in 0..rounds {
        let _ = std::hint::black_box(bcrypt::verify(candidate, target));
    }
    rounds
}

fn hash_blocking(password: &str, cost: u32) -> Result<String> {
    if password.len() > MAX_BYTES {
        return Err(Error::Invalid(format!(
            "passwords are limited to {MAX_BYTES} bytes"
        )));
    }
    Ok(bcrypt::hash(password, cost)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert!(check_policy("short", 8).is_err());
        assert!(check_policy("password", 8).unwrap_err().contains("common"));
        assert!(check_policy("Password1", 8).unwrap_err().contains("common"));
        assert!(check_policy("aaaaaaaaaa", 8).is_err());
        assert!(check_policy(&"x1".repeat(37), 8).unwrap_err().contains("72"));
        assert!(check_policy("correct horse battery", 8).is_ok());
        // 8 characters, but multi-byte: counts characters for the minimum.
        assert!(check_policy("éèêëàâäô", 8).is_ok());
        assert!(check_policy("correct\0horse battery", 8)
            .unwrap_err()
            .contains("control"));
    }

    #[rocket::async_test]
    async fn hashes_and_verifies() {
        let p = Passwords::new(10, 1, 4, 10).unwrap();
        let hash = p.hash("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$2b$10$"));
        assert!(p
            .verify("correct horse battery".into(), Some(hash.clone()))
            .await
            .unwrap());
        assert!(!p
            .verify("wrong horse battery".into(), Some(hash.clone()))
            .await
            .unwrap());
        assert!(!p.verify("correct horse battery".into(), None).await.unwrap());
        // bcrypt would see only the first 72 bytes; we refuse instead.
        let long = "a".repeat(72) + "b";
        assert!(p.hash(long.clone()).await.is_err());
        let h72 = p.hash_blocking(&"a".repeat(72)).unwrap();
        assert!(!p.verify(long, Some(h72)).await.unwrap());
    }

    #[test]
    fn a_failed_check_of_a_cheaper_hash_does_the_configured_work() {
        assert_eq!(hardening_rounds(4, 10), 63);
        assert_eq!(hardening_rounds(11, 12), 1);
        assert_eq!(hardening_rounds(10, 10), 0);
        assert_eq!(hardening_rounds(12, 10), 0);
        let cheap = bcrypt::hash("right horse battery", 4).unwrap();
        let dummy = bcrypt::hash("dummy", 6).unwrap();
        // One check of cost 4 done, three more: 4 x 2^4 = 2^6.
        assert_eq!(harden("wrong horse battery", &cheap, 6, &dummy), 3);
        assert_eq!(
            harden("", &dummy, 6, &dummy),
            0,
            "the dummy hash is at the configured cost"
        );
        assert_eq!(harden("x", "not a bcrypt hash", 6, &dummy), 1);
    }

    #[rocket::async_test]
    async fn the_right_password_of_another_cost_needs_a_rehash() {
        let p = Passwords::new(5, 1, 4, 0).unwrap();
        let cheap = bcrypt::hash("right horse battery", 4).unwrap();
        let checked = p
            .check("right horse battery".into(), Some(cheap.clone()))
            .await
            .unwrap();
        assert_eq!(
            checked,
            Checked {
                ok: true,
                needs_rehash: true
            }
        );
        let rehashed = p.hash("right horse battery".into()).await.unwrap();
        assert_eq!(stored_cost(&rehashed), Some(5));
        let again = p
            .check("right horse battery".into(), Some(rehashed))
            .await
            .unwrap();
        assert_eq!(
            again,
            Checked {
                ok: true,
                needs_rehash: false
            },
            "already at the configured cost"
        );
        let wrong = p.check("wrong horse battery".into(), Some(cheap)).await.unwrap();
        assert_eq!(
            wrong,
            Checked {
                ok: false,
                needs_rehash: false
            }
        );
    }
}
