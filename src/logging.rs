//! The server's logger, set by [`crate::cli::run`] before Rocket's own:
//! `RUST_LOG`-style filtering (`info`, `warn,gatehouse::request=info`,
//! `gatehouse=debug`), and without `RUST_LOG` the level Rocket's
//! `log_level` / `ROCKET_LOG_LEVEL` names (`critical`: warnings and errors,
//! `normal`: info, `debug`: everything).
//!
//! Requests are logged once, by Gatehouse (`gatehouse::request`, see
//! [`crate::web::request_log`]): Rocket's own lines about each request
//! (`rocket::server`) stay at warnings unless `RUST_LOG` names them, and
//! hyper's, rustls' and r2d2's unless the level is `debug`.

use std::io::Write;

use log::{Level, LevelFilter, Log, Metadata, Record};
use rocket::config::LogLevel;
use rocket::figment::Figment;

/// `target=level` directives, most specific (longest target) first; a
/// directive without a target (`""`) applies to everything else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter(Vec<(String, LevelFilter)>);

/// Targets that stay quiet below `debug` unless named.
const NOISY: [&str; 4] = ["rocket::server", "hyper", "rustls", "r2d2"];

impl Filter {
    /// Parses a `RUST_LOG` value. A directive that doesn't parse is an
    /// error naming it (a typo shouldn't silence the log).
    pub fn parse(spec: &str) -> Result<Filter, String> {
        let mut directives = Vec::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (target, level) = match part.split_once('=') {
                Some((target, level)) => (target.trim(), level.trim()),
                // `info` is a level; `gatehouse` alone is "everything from it".
                None => match part.parse::<LevelFilter>() {
                    Ok(level) => ("", level.as_str()),
                    Err(_) => (part, "trace"),
                },
            };
            let level = level
                .parse::<LevelFilter>()
                .map_err(|_| format!("RUST_LOG: `{part}` is not `level` or `target=level`"))?;
            directives.push((target.to_owned(), level));
        }
        let mut filter = Filter(directives);
        filter.quiet_noisy(LevelFilter::Warn);
        Ok(filter)
    }

    /// The filter for Rocket's `log_level`.
    pub fn for_rocket(level: LogLevel) -> Filter {
        let level: LevelFilter = level.into();
        let mut filter = Filter(vec![(String::new(), level)]);
        if level < LevelFilter::Debug {
            filter.quiet_noisy(LevelFilter::Warn);
        } else {
            // Debugging: everything but Rocket's request lines (Gatehouse's say it).
            filter.quiet_noisy_one("rocket::server", LevelFilter::Warn);
        }
        filter
    }

    /// The noisy targets at `level`, unless a directive names them (or
    /// something more specific).
    fn quiet_noisy(&mut self, level: LevelFilter) {
        for target in NOISY {
            self.quiet_noisy_one(target, level);
        }
    }

    fn quiet_noisy_one(&mut self, target: &str, level: LevelFilter) {
        let named = self
            .0
            .iter()
            .any(|(t, _)| !t.is_empty() && (t.starts_with(target) || target.starts_with(t.as_str())));
        if !named {
            let everything = self.level_for("");
            self.0.push((target.to_owned(), level.min(everything)));
        }
        self.0.sort_by_key(|d| std::cmp::Reverse(d.0.len()));
    }

    /// The level for a target: the longest directive it starts with (as a
    /// whole path segment), else the target-less one, else off.
    pub fn level_for(&self, target: &str) -> LevelFilter {
        self.0
            .iter()
            .find(|(t, _)| {
                t.is_empty()
                    || target == t
                    || target
                        .strip_prefix(t.as_str())
                        .is_some_and(|rest| rest.starts_with("::"))
            })
            .map_or(LevelFilter::Off, |(_, level)| *level)
    }

    /// The most verbose level any directive allows (`log::set_max_level`).
    pub fn max(&self) -> LevelFilter {
        self.0.iter().map(|(_, l)| *l).max().unwrap_or(LevelFilter::Off)
    }
}

/// Writes each record allowed by its [`Filter`] as one line on stderr:
/// `LEVEL target: message` (Rocket's launch lines and the request lines
/// as they are).
pub struct Logger {
    filter: Filter,
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.filter.level_for(metadata.target())
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = format_line(record);
        // A closed stderr is no reason to stop serving.
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }

    fn flush(&self) {}
}

/// One record as a line.
pub fn format_line(record: &Record<'_>) -> String {
    let target = record.target();
    // Rocket's own informational lines read as Rocket prints them.
    let plain = target == "gatehouse::request"
        || target.starts_with("rocket::launch")
        || (target.starts_with("rocket::") && record.level() >= Level::Info);
    if plain {
        return format!("{}", record.args());
    }
    // Rocket marks an indented line with a target ending in `_`.
    let target = target.trim_end_matches("::_");
    format!("{:<5} {target}: {}", record.level(), record.args())
}

/// Sets the logger from the figment the Rocket will be built from:
/// `RUST_LOG` when set, else its `log_level`. Call it before the Rocket is
/// built, so Rocket's own logger stays out. A `RUST_LOG` that doesn't parse
/// is said on stderr, and `log_level` used.
pub fn init(figment: Figment) -> Figment {
    let level = figment
        .extract_inner::<LogLevel>("log_level")
        .unwrap_or(LogLevel::Critical);
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => Filter::parse(&spec).unwrap_or_else(|e| {
            eprintln!("{e}; using log_level `{level}`");
            Filter::for_rocket(level)
        }),
        _ => Filter::for_rocket(level),
    };
    let max = filter.max();
    if log::set_boxed_logger(Box::new(Logger { filter })).is_ok() {
        log::set_max_level(max);
    }
    figment
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_log_directives() {
        let f = Filter::parse("warn,gatehouse::request=info").unwrap();
        assert_eq!(f.level_for("gatehouse::request"), LevelFilter::Info);
        assert_eq!(f.level_for("gatehouse::app"), LevelFilter::Warn);
        assert_eq!(
            f.level_for("gatehouse::requests"),
            LevelFilter::Warn,
            "whole segments only"
        );
        assert_eq!(f.max(), LevelFilter::Info);
        let f = Filter::parse("info").unwrap();
        assert_eq!(f.level_for("gatehouse::request"), LevelFilter::Info);
        assert_eq!(
            f.level_for("rocket::server"),
            LevelFilter::Warn,
            "requests are logged once"
        );
        assert_eq!(f.level_for("rocket::server::_"), LevelFilter::Warn);
        assert_eq!(f.level_for("hyper::proto"), LevelFilter::Warn);
        assert_eq!(f.level_for("rocket::launch"), LevelFilter::Info);
        // Named, a noisy target says what it was told.
        let f = Filter::parse("info,rocket=debug").unwrap();
        assert_eq!(f.level_for("rocket::server"), LevelFilter::Debug);
        let f = Filter::parse("gatehouse").unwrap();
        assert_eq!(f.level_for("gatehouse::db"), LevelFilter::Trace);
        assert_eq!(f.level_for("rocket::launch"), LevelFilter::Off);
        assert!(Filter::parse("gatehouse=loud").is_err());
    }

    #[test]
    fn rocket_levels() {
        let f = Filter::for_rocket(LogLevel::Critical);
        assert_eq!(f.level_for("gatehouse::request"), LevelFilter::Warn);
        let f = Filter::for_rocket(LogLevel::Normal);
        assert_eq!(f.level_for("gatehouse::request"), LevelFilter::Info);
        assert_eq!(f.level_for("rocket::server"), LevelFilter::Warn);
        let f = Filter::for_rocket(LogLevel::Debug);
        assert_eq!(f.level_for("r2d2"), LevelFilter::Trace);
        assert_eq!(f.level_for("rocket::server"), LevelFilter::Warn);
        let f = Filter::for_rocket(LogLevel::Off);
        assert_eq!(f.max(), LevelFilter::Off);
    }

    #[test]
    fn lines() {
        let args = format_args!("GET /login 200 1.0ms id=x");
        let record = Record::builder()
            .target("gatehouse::request")
            .level(Level::Info)
            .args(args)
            .build();
        assert_eq!(format_line(&record), "GET /login 200 1.0ms id=x");
        let args = format_args!("disk full");
        let record = Record::builder()
            .target("gatehouse::db")
            .level(Level::Error)
            .args(args)
            .build();
        assert_eq!(format_line(&record), "ERROR gatehouse::db: disk full");
    }
}
