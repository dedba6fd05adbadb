//! `[two_factor]`: two-factor sign-in (TOTP codes and recovery codes).

use serde::{Deserialize, Serialize};

use super::error::{bad, ConfigError};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TwoFactorSettings {
    /// Admins must turn two-factor sign-in on before any admin page (they
    /// are sent to `/account/two-factor`) or admin API call (403).
    pub required_for_admins: bool,
    /// Seconds a sign-in that passed its password may wait for its code.
    pub pending_expires: u64,
}

impl Default for TwoFactorSettings {
    fn default() -> Self {
        Self {
            required_for_admins: false,
            pending_expires: 5 * 60,
        }
    }
}

impl TwoFactorSettings {
    pub fn validate(self) -> Result<Self, ConfigError> {
        if !(30..=3600).contains(&self.pending_expires) {
            return Err(bad(
                "two_factor.pending_expires",
                "must be between 30 and 3600 seconds (300 is a good default)",
            ));
        }
        Ok(self)
    }
}
