//! The app's own folders: `template_dir` and `static_dir`.

use std::path::{Path, PathBuf};

use rocket::figment::value::magic::RelativePathBuf;

use super::error::{bad, ConfigError};

pub(super) const DEFAULT_TEMPLATE_DIR: &str = "templates";
pub(super) const DEFAULT_STATIC_DIR: &str = "static";

/// The app's folder (relative to the Rocket.toml that names it, else to
/// the working folder), if it exists; one named otherwise than the default
/// must.
pub(super) fn folder(
    key: &str,
    value: &RelativePathBuf,
    default: &str,
) -> Result<Option<PathBuf>, ConfigError> {
    let path = value.relative();
    if path.is_dir() {
        Ok(Some(path))
    } else if value.original() == Path::new(default) && !path.exists() {
        Ok(None)
    } else {
        Err(bad(key, format!("`{}` is not a folder", path.display())))
    }
}
