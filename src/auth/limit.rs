//! The per-IP rate limit on sign-in endpoints (the form, `/auth`,
//! `/api/v1/login`). In memory, per instance; the per-account lockout,
//! which instances must agree on, lives in the database.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

pub struct SignInLimiter {
    checks: AtomicU64,
    attempts: DefaultKeyedRateLimiter<IpAddr>,
    /// Passkey sign-ins started (each stores a challenge): five times the
    /// sign-in limit, as the sign-in page starts one for autofill on every
    /// load, but bounded, so nobody can fill the challenge table.
    starts: DefaultKeyedRateLimiter<IpAddr>,
    /// At most one audit event per address and minute, so a flood of
    /// refused attempts can't flood the audit log.
    audit: DefaultKeyedRateLimiter<IpAddr>,
}

/// IPv6 clients get a /64 each, so one can't escape the limit by walking its
/// own prefix.
fn bucket(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            let mut segments = v6.segments();
            segments[4..].fill(0);
            IpAddr::from(segments)
        }
        v4 => v4,
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

impl SignInLimiter {
    pub fn new(per_minute: NonZeroU32) -> Self {
        Self {
            checks: AtomicU64::new(0),
            attempts: RateLimiter::keyed(Quota::per_minute(per_minute)),
            starts: RateLimiter::keyed(Quota::per_minute(
                per_minute.saturating_mul(NonZeroU32::new(5).expect("5 is not 0")),
            )),
            audit: RateLimiter::keyed(Quota::per_minute(NonZeroU32::MIN)),
        }
    }

    pub fn check(&self, ip: Option<IpAddr>) -> Attempt {
        // A request with no known address (a local test client) shares one
        // bucket: it is limited too rather than waved through.
        let ip = ip.map(bucket).unwrap_or(IpAddr::from([0, 0, 0, 0]));
        // Now and then, forget addresses not seen for a while.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 {
            self.retain_recent();
        }
        if self.attempts.check_key(&ip).is_ok() {
            Attempt::Allowed
        } else {
            Attempt::Limited {
                record: self.audit.check_key(&ip).is_ok(),
            }
        }
    }

    /// Whether this address may start one more passkey sign-in (not an
    /// attempt: the answer, at its finish, is counted by [`Self::check`]).
    pub fn check_start(&self, ip: Option<IpAddr>) -> bool {
        let ip = ip.map(bucket).unwrap_or(IpAddr::from([0, 0, 0, 0]));
        self.starts.check_key(&ip).is_ok()
    }

    /// Drops the state of addresses not seen for a while.
    pub fn retain_recent(&self) {
        self.attempts.retain_recent();
        self.starts.retain_recent();
        self.audit.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_address() {
        let limiter = SignInLimiter::new(NonZeroU32::new(3).unwrap());
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        let b = Some(IpAddr::from([10, 0, 0, 2]));
        for _ in 0..3 {
            assert_eq!(limiter.check(a), Attempt::Allowed);
        }
        assert_eq!(limiter.check(a), Attempt::Limited { record: true });
        assert_eq!(limiter.check(a), Attempt::Limited { record: false });
        assert_eq!(limiter.check(b), Attempt::Allowed);
    }

    #[test]
    fn passkey_starts_get_five_times_the_attempts() {
        let limiter = SignInLimiter::new(NonZeroU32::new(2).unwrap());
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        for _ in 0..10 {
            assert!(limiter.check_start(a));
        }
        assert!(!limiter.check_start(a));
        assert!(limiter.check_start(Some(IpAddr::from([10, 0, 0, 2]))));
        // Starts don't use up the attempts.
        assert_eq!(limiter.check(a), Attempt::Allowed);
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        let limiter = SignInLimiter::new(NonZeroU32::new(1).unwrap());
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let other_in_prefix: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert_eq!(limiter.check(Some(one)), Attempt::Allowed);
        assert!(matches!(
            limiter.check(Some(other_in_prefix)),
            Attempt::Limited { .. }
        ));
    }
}
