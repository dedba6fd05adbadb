//! `jwt.error_format`: the shape of JSON errors, Flask-JWT's
//! (`{"error", "description", "status_code"}`) or Flask-JWT-Extended's
//! (`{"msg"}`).

use crate::config::error::{bad, ConfigError};
use crate::config::known::suggestion;

/// The shape of every JSON error answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorFormat {
    /// `{"error", "description", "status_code"}` (Flask-JWT).
    #[default]
    FlaskJwt,
    /// `{"msg"}` (Flask-JWT-Extended).
    FlaskJwtExtended,
}

impl ErrorFormat {
    const NAMES: [&'static str; 2] = ["flask-jwt", "flask-jwt-extended"];

    /// Its name in configuration.
    pub fn name(self) -> &'static str {
        match self {
            ErrorFormat::FlaskJwt => Self::NAMES[0],
            ErrorFormat::FlaskJwtExtended => Self::NAMES[1],
        }
    }

    /// `flask-jwt` or `flask-jwt-extended` (case and `_` for `-` don't
    /// matter); anything else is refused, with the closest name.
    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        let name = value.trim().to_ascii_lowercase().replace('_', "-");
        match name.as_str() {
            "flask-jwt" => Ok(ErrorFormat::FlaskJwt),
            "flask-jwt-extended" => Ok(ErrorFormat::FlaskJwtExtended),
            _ => Err(bad(
                "jwt.error_format",
                format!(
                    "`{value}` is not `flask-jwt` or `flask-jwt-extended`{}",
                    suggestion(&name, Self::NAMES.into_iter())
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorFormat;

    #[test]
    fn names() {
        for format in [ErrorFormat::FlaskJwt, ErrorFormat::FlaskJwtExtended] {
            assert_eq!(ErrorFormat::parse(format.name()).unwrap(), format);
        }
        assert_eq!(
            ErrorFormat::parse("Flask_JWT_Extended").unwrap(),
            ErrorFormat::FlaskJwtExtended
        );
        let e = ErrorFormat::parse("flask-jwt-extnded").unwrap_err().to_string();
        assert!(e.contains("did you mean `flask-jwt-extended`?"), "{e}");
        assert!(!ErrorFormat::parse("xml")
            .unwrap_err()
            .to_string()
            .contains("did you mean"));
    }
}
