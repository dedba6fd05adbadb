//! The test harness (this target has `harness = false`): libtest-mimic runs
//! the tests that `db_tests!`, `backend_tests!`, [`tests!`](crate::tests)
//! and [`browser_tests!`](crate::browser_tests) register, under the names,
//! filters and options of Rust's own harness (`cargo test wrong_password`,
//! `-- --exact ...`, `--test-threads`, `--ignored`, `--list`).
//!
//! What a test needs is decided once, at start. A PostgreSQL variant without
//! `TEST_DATABASE_URL`, or a browser journey without Chromium, chromedriver
//! or axe-core (unless `TEST_REQUIRE_BROWSER` is set), or the reverse-proxy
//! test without nginx or openssl (unless `TEST_REQUIRE_NGINX` is set), is
//! ignored, never passed; after the summary, one line per reason says how many did not run
//! and why. Run anyway (`--ignored`, `--include-ignored`), such a test fails,
//! saying what is missing.

use std::collections::BTreeMap;
use std::process::ExitCode;

use libtest_mimic::{Arguments, Failed, FormatSetting, Trial};

/// What a test needs beyond the SQLite files every test can make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Needs {
    Nothing,
    /// A PostgreSQL server: `TEST_DATABASE_URL`.
    Postgres,
    /// Chromium, chromedriver and axe-core (see `crate::browser`).
    Browser,
    /// nginx and the openssl command (see `hardening::clients::proxy`).
    Nginx,
    /// PyPI's `openapi-spec-validator` (see `api::openapi`).
    SpecValidator,
    /// PyPI's `schemathesis` command (see `api::openapi::fuzz`).
    Schemathesis,
}

impl Needs {
    /// The tests of this kind, as the closing lines name them.
    fn kind(self) -> &'static str {
        match self {
            Needs::Nothing => "other",
            Needs::Postgres => "PostgreSQL",
            Needs::Browser => "browser",
            Needs::Nginx => "nginx",
            Needs::SpecValidator => "OpenAPI validator",
            Needs::Schemathesis => "schemathesis",
        }
    }

    /// Why tests that need this cannot run here, if they cannot.
    fn missing(self) -> Option<String> {
        match self {
            Needs::Nothing => None,
            Needs::Postgres if !cfg!(feature = "postgres") => {
                Some("built without the `postgres` feature".to_owned())
            }
            Needs::Postgres => std::env::var_os("TEST_DATABASE_URL")
                .is_none()
                .then(|| "TEST_DATABASE_URL is not set".to_owned()),
            #[cfg(all(feature = "google", feature = "mail"))]
            Needs::Browser => crate::browser::missing(),
            #[cfg(not(all(feature = "google", feature = "mail")))]
            Needs::Browser => Some("built without the `google` and `mail` features".to_owned()),
            Needs::Nginx => crate::hardening::clients::proxy::missing(),
            Needs::SpecValidator => crate::api::openapi::validator_missing(),
            Needs::Schemathesis => crate::api::openapi::schemathesis_missing(),
        }
    }

    /// Whether a test missing this runs anyway (and fails) instead of being
    /// ignored.
    fn required(self) -> bool {
        match self {
            #[cfg(all(feature = "google", feature = "mail"))]
            Needs::Browser => crate::browser::required(),
            Needs::Nginx => crate::hardening::clients::proxy::required(),
            Needs::SpecValidator | Needs::Schemathesis => crate::api::openapi::required(),
            _ => false,
        }
    }
}

/// One test, registered by the macros below (through `inventory`).
pub struct Test {
    /// `module_path!()` and the test's name: `integration::signin::...`.
    pub path: &'static str,
    pub needs: Needs,
    pub run: fn(),
}

inventory::collect!(Test);

impl Test {
    /// The name without the crate's: `signin::form::wrong_password::sqlite`,
    /// as Rust's own harness names it.
    pub fn name(&self) -> &'static str {
        self.path.split_once("::").map_or(self.path, |(_, name)| name)
    }
}

/// Registers each named `async fn name()` of the current module as a test
/// (each on a runtime of its own, as `#[rocket::async_test]`); with
/// `sync:` first, each plain `fn name()`.
#[macro_export]
macro_rules! tests {
    (sync: $($name:ident),* $(,)?) => {
        $( $crate::register_test!(fn $name, Nothing); )*
    };
    ($($name:ident),* $(,)?) => {
        $( $crate::register_test!(async $name, Nothing); )*
    };
}

/// Registers each named `async fn name()` of the current module as a
/// browser journey: ignored where Chromium, chromedriver or axe-core is
/// missing, unless `TEST_REQUIRE_BROWSER` is set.
#[macro_export]
macro_rules! browser_tests {
    ($($name:ident),* $(,)?) => {
        $( $crate::register_test!(async $name, Browser); )*
    };
}

/// Registers one test: `async name` or `fn name`, and what it needs.
#[doc(hidden)]
#[macro_export]
macro_rules! register_test {
    (async $name:ident, $needs:ident) => {
        $crate::register_test!(@ $name, $needs, {
            fn run() {
                ::rocket::async_test($name())
            }
            run
        });
    };
    (fn $name:ident, $needs:ident) => {
        $crate::register_test!(@ $name, $needs, $name);
    };
    (@ $name:ident, $needs:ident, $run:expr) => {
        ::inventory::submit! {
            $crate::harness::Test {
                path: concat!(module_path!(), "::", stringify!($name)),
                needs: $crate::harness::Needs::$needs,
                run: $run,
            }
        }
    };
}

pub fn main() -> ExitCode {
    let mut args = Arguments::from_args();
    // As Rust's own harness: `RUST_TEST_THREADS` when `--test-threads` is not
    // given, else one thread per core.
    if args.test_threads.is_none() {
        args.test_threads = std::env::var("RUST_TEST_THREADS")
            .ok()
            .and_then(|n| n.parse().ok());
    }

    // Each new Rocket turns its logger on until it ignites with the tests'
    // `log_level = "off"`, so with tests in parallel some lines of others'
    // logs get through. Rust's own harness captured them; this one does not,
    // so the log is silenced here, except with `--nocapture`.
    if !args.nocapture {
        let _ = log::set_logger(&Silent);
    }

    let mut tests: Vec<&Test> = inventory::iter::<Test>.into_iter().collect();
    tests.sort_by_key(|t| t.name());
    let missing: BTreeMap<Needs, Option<String>> = [
        Needs::Postgres,
        Needs::Browser,
        Needs::Nginx,
        Needs::SpecValidator,
        Needs::Schemathesis,
    ]
    .into_iter()
    .map(|needs| (needs, needs.missing()))
    .collect();

    let trials: Vec<(Needs, Trial)> = tests
        .iter()
        .map(|test| {
            let missing = missing.get(&test.needs).cloned().flatten();
            let ignored = missing.is_some() && !test.needs.required();
            let (needs, run) = (test.needs, test.run);
            let trial = Trial::test(test.name(), move || match missing {
                Some(why) => Err(Failed::from(format!(
                    "this {} test cannot run: {why}",
                    needs.kind()
                ))),
                None => {
                    run();
                    Ok(())
                }
            });
            (test.needs, trial.with_ignored_flag(ignored))
        })
        .collect();

    // The tests this run leaves out because of what is missing here.
    let mut not_run: BTreeMap<Needs, usize> = BTreeMap::new();
    for (needs, trial) in &trials {
        if trial.has_ignored_flag() && args.is_ignored(trial) && !args.is_filtered_out(trial) {
            *not_run.entry(*needs).or_default() += 1;
        }
    }

    let list = args.list;
    let conclusion = libtest_mimic::run(&args, trials.into_iter().map(|(_, t)| t).collect());
    if !list {
        for (needs, count) in not_run {
            let why = missing[&needs].as_deref().unwrap_or("?");
            let tests = if count == 1 { "test" } else { "tests" };
            let line = format!("{count} {} {tests} did not run: {why}", needs.kind());
            match args.format {
                Some(FormatSetting::Json) => eprintln!("{line}"),
                _ => println!("{line}"),
            }
        }
    }
    conclusion.exit_code()
}

/// A logger that drops everything: set first, it keeps Rocket's own.
struct Silent;

impl log::Log for Silent {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        false
    }

    fn log(&self, _: &log::Record<'_>) {}

    fn flush(&self) {}
}
