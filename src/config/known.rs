//! Unknown keys stop the launch: a misspelt `deny_by_defalt = true` would
//! otherwise leave every route open without a word. Every profile of
//! Rocket.toml and every `ROCKET_*` and `GATEHOUSE_*` variable is checked,
//! not only the profile that runs; a close key is suggested.

use rocket::figment::error::Kind;
use rocket::figment::providers::Serialized;
use rocket::figment::value::Dict;
use rocket::figment::{Figment, Profile, Provider};

use super::error::{bad, ConfigError};
use super::Settings;

/// Rocket's own settings (Rocket 0.5's `Config`), and `config` (what
/// `ROCKET_CONFIG`, the path of Rocket.toml, becomes).
const ROCKET_KEYS: &[&str] = &[
    "address",
    "port",
    "workers",
    "max_blocking",
    "ident",
    "ip_header",
    "limits",
    "temp_dir",
    "keep_alive",
    "tls",
    "secret_key",
    "shutdown",
    "log_level",
    "cli_colors",
    "config",
];

/// Settings of an app's own that Gatehouse should let pass (any other
/// unknown key stops the launch): `rocket.manage(AppKeys::new(["stripe_key"]))`
/// before ignite.
#[derive(Debug, Clone, Default)]
pub struct AppKeys(pub Vec<String>);

impl AppKeys {
    pub fn new<S: Into<String>>(keys: impl IntoIterator<Item = S>) -> Self {
        AppKeys(keys.into_iter().map(Into::into).collect())
    }
}

/// What Kubernetes sets for a Service named `gatehouse`
/// (`GATEHOUSE_SERVICE_HOST`, `GATEHOUSE_PORT_8000_TCP`...): not settings,
/// and not refused as unknown ones.
pub(crate) fn from_kubernetes(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.starts_with("service_") || key == "port" || key.starts_with("port_")
}

/// Refuses a key that is neither Gatehouse's nor Rocket's, in any profile,
/// at the top or inside one of Gatehouse's sections (`[jwt]`, `[password]`...).
/// `own`: the app's own keys ([`AppKeys`]).
pub fn check(figment: &Figment, own: &[String]) -> Result<(), ConfigError> {
    let defaults = Figment::from(Serialized::defaults(Settings::default()))
        .extract::<Dict>()
        .map_err(|e| bad("config", e.to_string()))?;
    let data = figment.data().map_err(|e| bad("config", e.to_string()))?;
    for (profile, dict) in &data {
        for key in dict.keys() {
            let known = defaults.contains_key(key)
                || ROCKET_KEYS.contains(&key.as_str())
                || own.iter().any(|k| k == key);
            if !known {
                let names = defaults
                    .keys()
                    .chain(own)
                    .map(String::as_str)
                    .chain(ROCKET_KEYS.iter().copied());
                return Err(unknown(figment, profile.as_str().as_str(), key, key, names));
            }
        }
    }
    // Inside the sections, serde knows every key (and the Flask names such
    // as `jwt.expiration_delta`): read the settings as each profile would
    // run them, and report only unknown keys (a bad value in a profile
    // that isn't running is that profile's business when it runs).
    let mut profiles: Vec<Profile> = data
        .keys()
        .filter(|p| **p != Profile::Default && **p != Profile::Global)
        .cloned()
        .collect();
    profiles.push(figment.profile().clone());
    for profile in profiles {
        let Err(e) = figment.clone().select(profile.clone()).extract::<Settings>() else {
            continue;
        };
        for e in e {
            if let Kind::UnknownField(field, expected) = &e.kind {
                let path = e.path.join(".");
                let names = expected.iter().copied();
                return Err(unknown(figment, profile.as_str().as_str(), &path, field, names));
            }
        }
    }
    Ok(())
}

fn unknown<'a>(
    figment: &Figment,
    profile: &str,
    path: &str,
    key: &str,
    names: impl Iterator<Item = &'a str>,
) -> ConfigError {
    let source = figment
        .find_metadata(path)
        .map(|m| {
            // Name the variable itself: GATEHOUSE_JWT__ACESS_TOKEN_EXPIRES.
            let prefix = ["ROCKET_", "GATEHOUSE_"].into_iter().find(|p| m.name.contains(p));
            match (prefix, &m.source) {
                (Some(prefix), _) => {
                    let separator = if prefix == "ROCKET_" { "." } else { "__" };
                    format!(
                        " (the variable {prefix}{})",
                        path.replace('.', separator).to_uppercase()
                    )
                }
                (None, Some(file)) => format!(" (from {} {file}, profile `{profile}`)", m.name),
                (None, None) => format!(" (from {}, profile `{profile}`)", m.name),
            }
        })
        .unwrap_or_else(|| format!(" (profile `{profile}`)"));
    bad(
        path,
        format!(
            "is not a setting of Gatehouse's or Rocket's{source}{} (an app's own settings are declared with `gatehouse::config::AppKeys`)",
            suggestion(key, names)
        ),
    )
}

/// `; did you mean `x`?` for the closest name, if one is close.
pub fn suggestion<'a>(key: &str, names: impl Iterator<Item = &'a str>) -> String {
    names
        .map(|name| (strsim::jaro_winkler(key, name), name))
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, name)| format!("; did you mean `{name}`?"))
        .unwrap_or_default()
}

/// Whether `key` still holds Rocket's own default: set by no provider, or
/// by a `rocket::Config` (Rocket's defaults, or an app's
/// `rocket::Config { ..Default::default() }`) at the default's value.
/// Gatehouse replaces such a value with its own default (the client
/// address, the shutdown grace); anything an operator set is kept.
pub fn is_rockets_default(figment: &Figment, key: &str) -> bool {
    match figment.find_metadata(key) {
        None => true,
        Some(m) => {
            m.name.starts_with("rocket::Config")
                && figment.find_value(key).ok()
                    == Figment::from(rocket::Config::default()).find_value(key).ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use rocket::figment::providers::{Format, Toml};

    use super::*;
    use crate::config::figment_with;

    fn check_own(figment: &Figment) -> Result<(), ConfigError> {
        check(figment, &["my_own".to_string()])
    }

    fn toml(text: &str) -> Figment {
        figment_with("debug", Settings::default()).merge(Toml::string(text).nested())
    }

    #[test]
    fn a_misspelt_key_names_itself_and_the_right_one() {
        let err = check_own(&toml("[default]\ndeny_by_defalt = true\n")).unwrap_err();
        assert_eq!(err.key, "deny_by_defalt");
        assert!(err.message.contains("did you mean `deny_by_default`"), "{err}");
        // In a profile that isn't running, and inside a section.
        let err = check_own(&toml("[release.jwt]\naccess_token_expire = 60\n")).unwrap_err();
        assert_eq!(err.key, "jwt.access_token_expire");
        assert!(
            err.message.contains("did you mean `access_token_expires`"),
            "{err}"
        );
        assert!(err.message.contains("release"), "{err}");
    }

    #[test]
    fn flask_names_pass() {
        check_own(&toml(
            "[default.jwt]\nexpiration_delta = 600\nleeway = 5\n[release.jwt]\nrefresh_token_expires = 60\n",
        ))
        .unwrap();
    }

    #[test]
    fn a_bad_key_in_a_list_of_tables_is_found_in_a_profile_not_running() {
        let err = check_own(&toml(
            "[staging.jwt]\nverify_keys = [{ algorithm = \"HS256\", secret = \"x\" }]\n",
        ))
        .unwrap_err();
        assert!(
            err.key.contains("verify_keys") && err.message.contains("staging"),
            "{err}"
        );
        assert!(err.message.contains("did you mean `secret_key`"), "{err}");
    }

    #[test]
    fn webauthn_keys_are_known() {
        check_own(&toml(
            "[default.webauthn]\nenabled = true\nrp_id = \"example.com\"\norigin = \"https://id.example.com\"\nrp_name = \"X\"\n",
        ))
        .unwrap();
        let err = check_own(&toml("[default.webauthn]\nrpid = \"example.com\"\n")).unwrap_err();
        assert_eq!(err.key, "webauthn.rpid");
        assert!(err.message.contains("did you mean `rp_id`"), "{err}");
    }

    #[test]
    fn nothing_close_suggests_nothing() {
        let err = check_own(&toml("[default]\nzzqx = 1\n")).unwrap_err();
        assert!(!err.message.contains("did you mean"), "{err}");
    }

    #[test]
    fn rocket_and_gatehouse_keys_pass() {
        let figment = toml(
            "[default]\nport = 9000\nlog_level = \"normal\"\nsite_name = \"x\"\nmy_own = 1\ntemplate_dir = \"t\"\n[default.limits]\nform = \"64 KiB\"\n[default.password]\nbcrypt_cost = 12\n",
        );
        check_own(&figment).unwrap();
    }
}
