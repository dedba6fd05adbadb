//! `[password]` and `[login]`: bcrypt's cost, the password rules, and the
//! protection against guessing.

use serde::{Deserialize, Serialize};

use super::error::{bad, ConfigError};
use super::jwt::seconds;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordSettings {
    /// bcrypt cost factor, at least 10.
    pub bcrypt_cost: u32,
    /// Minimum length in characters, at least 8.
    pub min_length: usize,
    /// Password checks (and hashes) run at once, on threads of lower
    /// priority than the web workers; 0 (the default) is one per core.
    pub hash_workers: usize,
    /// Checks that may wait for a thread; past that a sign-in is answered
    /// 503 with `Retry-After` at once.
    pub hash_queue: usize,
    /// The password threads' niceness (0 to 19, Linux; 0 by default): the
    /// higher, the more signed-in pages come before sign-ins when both want
    /// the CPU.
    pub hash_nice: i32,
}

impl Default for PasswordSettings {
    fn default() -> Self {
        Self {
            bcrypt_cost: 12,
            min_length: 8,
            hash_workers: 0,
            hash_queue: 16,
            hash_nice: 0,
        }
    }
}

/// Protection against guessing.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoginSettings {
    /// Failed sign-ins within `failure_window` that lock an account.
    pub max_failures: u32,
    /// Seconds over which failures are counted.
    pub failure_window: u64,
    /// Seconds an account stays locked.
    pub lockout: u64,
    /// Sign-in attempts allowed per IP address and minute (all sign-in
    /// endpoints together).
    pub rate_limit_per_minute: u32,
}

impl Default for LoginSettings {
    fn default() -> Self {
        Self {
            max_failures: 5,
            failure_window: 15 * 60,
            lockout: 15 * 60,
            rate_limit_per_minute: 20,
        }
    }
}

impl PasswordSettings {
    pub fn validate(self) -> Result<Self, ConfigError> {
        if !(10..=31).contains(&self.bcrypt_cost) {
            return Err(bad(
                "password.bcrypt_cost",
                "must be between 10 and 31 (12 is a good default)",
            ));
        }
        if !(8..=72).contains(&self.min_length) {
            return Err(bad("password.min_length", "must be between 8 and 72"));
        }
        if self.hash_workers > 256 {
            return Err(bad(
                "password.hash_workers",
                "must be at most 256 (0: one per core)",
            ));
        }
        if !(0..=19).contains(&self.hash_nice) {
            return Err(bad("password.hash_nice", "must be between 0 and 19"));
        }
        if !(1..=100_000).contains(&self.hash_queue) {
            return Err(bad("password.hash_queue", "must be between 1 and 100000"));
        }
        Ok(self)
    }
}

impl LoginSettings {
    pub fn validate(self) -> Result<Self, ConfigError> {
        if self.max_failures == 0 || self.max_failures > 1000 {
            return Err(bad("login.max_failures", "must be between 1 and 1000"));
        }
        seconds("login.failure_window", self.failure_window)?;
        seconds("login.lockout", self.lockout)?;
        if self.rate_limit_per_minute == 0 {
            return Err(bad("login.rate_limit_per_minute", "must be at least 1"));
        }
        Ok(self)
    }
}
