//! The per-IP rate limit on sign-in endpoints (the form, `/auth`,
//! `/api/v1/login`, passkeys, two-factor codes, password changes, mailed
//! links). On SQLite in memory, per instance; on PostgreSQL in the database
//! (`db::sign_in_limit`), so that instances behind one load balancer share
//! it: one statement per attempt, on the blocking pool. The per-account
//! lockout lives in the database on both.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::DatabaseUrl;
use crate::db::sign_in_limit::{self, Quota as SharedQuota};
use crate::db::Db;
use crate::error::Result;

pub struct SignInLimiter {
    checks: AtomicU64,
    store: Store,
    /// At most one audit event per address and minute (per instance), so a
    /// flood of refused attempts can't flood the audit log.
    audit: DefaultKeyedRateLimiter<IpAddr>,
}

/// Where the counts are kept.
enum Store {
    Memory {
        attempts: DefaultKeyedRateLimiter<IpAddr>,
        /// Passkey sign-ins started (each stores a challenge): five times
        /// the sign-in limit, as the sign-in page starts one for autofill
        /// on every load, but bounded, so nobody can fill the challenge
        /// table.
        starts: DefaultKeyedRateLimiter<IpAddr>,
    },
    /// PostgreSQL: shared by every instance on the database.
    Shared {
        db: Db,
        attempts: SharedQuota,
        starts: SharedQuota,
        /// Addresses the database just refused, refused here without
        /// asking again for an interval (at most a second): a flood of
        /// refused attempts costs the database one statement a second
        /// per address and instance, not one per attempt.
        refused: Mutex<HashMap<(&'static str, IpAddr), Instant>>,
    },
}

/// IPv6 clients get a /64 each, so one can't escape the limit by walking its
/// own prefix. A request with no known address (a local test client) shares
/// one bucket: it is limited too rather than waved through.
fn bucket(ip: Option<IpAddr>) -> IpAddr {
    match ip {
        Some(IpAddr::V6(v6)) => {
            let mut segments = v6.segments();
            segments[4..].fill(0);
            IpAddr::from(segments)
        }
        Some(v4) => v4,
        None => IpAddr::from([0, 0, 0, 0]),
    }
}

/// What the limiter says about one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    Allowed,
    /// Refused; `record` says whether to write it to the audit log.
    Limited {
        record: bool,
    },
}

/// Passkey starts get five times the attempts.
fn starts_quota(per_minute: NonZeroU32) -> NonZeroU32 {
    per_minute.saturating_mul(NonZeroU32::new(5).expect("5 is not 0"))
}

impl SignInLimiter {
    /// In memory, for this instance alone.
    pub fn new(per_minute: NonZeroU32) -> Self {
        Self::with_store(Store::Memory {
            attempts: RateLimiter::keyed(Quota::per_minute(per_minute)),
            starts: RateLimiter::keyed(Quota::per_minute(starts_quota(per_minute))),
        })
    }

    /// Shared through the database when it is PostgreSQL; in memory on
    /// SQLite.
    pub fn for_database(db: &Db, per_minute: NonZeroU32) -> Self {
        if !matches!(db.url(), DatabaseUrl::Postgres(_)) {
            return Self::new(per_minute);
        }
        let quota = |kind, n: NonZeroU32| SharedQuota {
            kind,
            per_minute: n.get(),
        };
        Self::with_store(Store::Shared {
            db: db.clone(),
            attempts: quota("attempt", per_minute),
            starts: quota("start", starts_quota(per_minute)),
            refused: Mutex::new(HashMap::new()),
        })
    }

    fn with_store(store: Store) -> Self {
        Self {
            checks: AtomicU64::new(0),
            store,
            audit: RateLimiter::keyed(Quota::per_minute(NonZeroU32::MIN)),
        }
    }

    /// Whether the store is shared between instances (PostgreSQL).
    pub fn is_shared(&self) -> bool {
        matches!(self.store, Store::Shared { .. })
    }

    /// Counts one sign-in attempt from this address.
    pub async fn check(&self, ip: Option<IpAddr>) -> Result<Attempt> {
        let ip = bucket(ip);
        let allowed = match &self.store {
            Store::Memory { attempts, .. } => attempts.check_key(&ip).is_ok(),
            Store::Shared { attempts, .. } => self.take(*attempts, ip).await?,
        };
        // Now and then, forget addresses not seen for a while.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 {
            self.retain_recent().await?;
        }
        Ok(if allowed {
            Attempt::Allowed
        } else {
            Attempt::Limited {
                record: self.audit.check_key(&ip).is_ok(),
            }
        })
    }

    /// Whether this address may start one more passkey sign-in (not an
    /// attempt: the answer, at its finish, is counted by [`Self::check`]).
    pub async fn check_start(&self, ip: Option<IpAddr>) -> Result<bool> {
        let ip = bucket(ip);
        match &self.store {
            Store::Memory { starts, .. } => Ok(starts.check_key(&ip).is_ok()),
            Store::Shared { starts, .. } => self.take(*starts, ip).await,
        }
    }

    async fn take(&self, quota: SharedQuota, ip: IpAddr) -> Result<bool> {
        let Store::Shared { db, refused, .. } = &self.store else {
            return Ok(true);
        };
        let key = (quota.kind, ip);
        let lock = || refused.lock().unwrap_or_else(|e| e.into_inner());
        if lock().get(&key).is_some_and(|until| *until > Instant::now()) {
            return Ok(false);
        }
        let address = ip.to_string();
        let taken = db
            .run(move |conn| sign_in_limit::take(conn, quota, &address))
            .await?
            .unwrap_or(true);
        if !taken {
            let hold = Duration::from_micros(quota.interval() as u64).min(Duration::from_secs(1));
            lock().insert(key, Instant::now() + hold);
        }
        Ok(taken)
    }

    /// Drops the state of addresses not seen for a while.
    pub async fn retain_recent(&self) -> Result<()> {
        self.audit.retain_recent();
        match &self.store {
            Store::Memory { attempts, starts } => {
                attempts.retain_recent();
                starts.retain_recent();
            }
            Store::Shared { db, refused, .. } => {
                let now = Instant::now();
                refused
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .retain(|_, until| *until > now);
                db.run(sign_in_limit::sweep).await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rocket::async_test]
    async fn limits_per_address() {
        let limiter = SignInLimiter::new(NonZeroU32::new(3).unwrap());
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        let b = Some(IpAddr::from([10, 0, 0, 2]));
        for _ in 0..3 {
            assert_eq!(limiter.check(a).await.unwrap(), Attempt::Allowed);
        }
        assert_eq!(limiter.check(a).await.unwrap(), Attempt::Limited { record: true });
        assert_eq!(
            limiter.check(a).await.unwrap(),
            Attempt::Limited { record: false }
        );
        assert_eq!(limiter.check(b).await.unwrap(), Attempt::Allowed);
    }

    #[rocket::async_test]
    async fn passkey_starts_get_five_times_the_attempts() {
        let limiter = SignInLimiter::new(NonZeroU32::new(2).unwrap());
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        for _ in 0..10 {
            assert!(limiter.check_start(a).await.unwrap());
        }
        assert!(!limiter.check_start(a).await.unwrap());
        assert!(limiter
            .check_start(Some(IpAddr::from([10, 0, 0, 2])))
            .await
            .unwrap());
        // Starts don't use up the attempts.
        assert_eq!(limiter.check(a).await.unwrap(), Attempt::Allowed);
    }

    #[rocket::async_test]
    async fn ipv6_clients_share_their_64() {
        let limiter = SignInLimiter::new(NonZeroU32::new(1).unwrap());
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let other_in_prefix: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert_eq!(limiter.check(Some(one)).await.unwrap(), Attempt::Allowed);
        assert!(matches!(
            limiter.check(Some(other_in_prefix)).await.unwrap(),
            Attempt::Limited { .. }
        ));
    }
}
