//! `ConfigError`: what is wrong with the configuration, naming the key.

/// A configuration error, naming the key.
#[derive(Debug, thiserror::Error)]
#[error("`{key}`: {message}")]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

pub(crate) fn bad(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.into(),
        message: message.into(),
    }
}
