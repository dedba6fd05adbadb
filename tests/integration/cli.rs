//! The command line, run as a person would: the real binary.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::tests;

tests!(sync:
    manage_users_from_the_command_line,
    reset_two_factor_from_the_command_line,
    bad_input_gets_a_one_line_error_and_writes_nothing,
    a_misspelt_setting_stops_every_command,
    the_first_start_names_the_command_that_makes_an_admin,
    a_release_without_public_url_says_password_reset_is_off,
);

struct Cli {
    dir: tempfile::TempDir,
}

impl Cli {
    fn new() -> Self {
        Cli {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn run(&self, args: &[&str], stdin: &str) -> Output {
        self.run_with(args, stdin, &[])
    }

    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
        command
            .args(args)
            .current_dir(self.dir.path())
            .env(
                "DATABASE_URL",
                format!("sqlite://{}", self.dir.path().join("cli.db").display()),
            )
            .env("GATEHOUSE_PASSWORD__BCRYPT_COST", "10")
            .env(
                "ROCKET_CONFIG",
                format!("{}/Rocket.toml", env!("CARGO_MANIFEST_DIR")),
            )
            .env_remove("ROCKET_PROFILE")
            .env_remove("ROCKET_LOG_LEVEL")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    fn run_with(&self, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
        let mut child = self.command(args, env).spawn().unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }

    fn ok(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn fails(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run(args, stdin);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.trim().lines().count(), 1, "a one-line error: {err}");
        err
    }
}

/// `user reset-2fa`: turns a user's two-factor sign-in off, audited; a
/// one-line error when it is off or the user is unknown.
fn reset_two_factor_from_the_command_line() {
    use gatehouse::config::DatabaseUrl;
    use gatehouse::db::two_factor::{RecoveryCodes, TotpSecret};
    use gatehouse::db::Db;

    let cli = Cli::new();
    cli.ok(
        &["user", "create", "--email", "ada@example.com", "--password-stdin"],
        "another good passphrase\n",
    );
    let url = format!("sqlite://{}", cli.dir.path().join("cli.db").display());
    let db = Db::connect(&DatabaseUrl::parse(&url).unwrap(), 1).unwrap();
    let email = gatehouse::domain::Email::parse("ada@example.com").unwrap();
    let user = db
        .run_blocking(|conn| gatehouse::db::user::User::find_by_email(conn, &email))
        .unwrap()
        .unwrap();
    let err = cli.fails(&["user", "reset-2fa", "ada@example.com"], "");
    assert!(err.contains("does not have two-factor sign-in on"), "{err}");
    db.run_blocking(|conn| {
        TotpSecret::replace(conn, user.id, &gatehouse::auth::totp::new_secret())?;
        TotpSecret::enable(conn, user.id)?;
        RecoveryCodes::replace(conn, user.id, &["a".repeat(64)])
    })
    .unwrap();

    let out = cli.ok(&["user", "reset-2fa", "ada@example.com"], "");
    assert!(
        out.contains("two-factor sign-in is off for ada@example.com"),
        "{out}"
    );
    let (user, secret, codes, kinds) = db
        .run_blocking(|conn| {
            let user = gatehouse::db::user::User::get(conn, user.id)?;
            let secret = TotpSecret::find(conn, user.id)?;
            let codes = RecoveryCodes::remaining(conn, user.id)?;
            let kinds: Vec<String> = gatehouse::db::audit::recent(conn, None, 10)?
                .into_iter()
                .map(|e| e.kind)
                .collect();
            Ok((user, secret, codes, kinds))
        })
        .unwrap();
    assert!(!user.two_factor_on() && secret.is_none() && codes == 0);
    assert!(kinds.contains(&"two_factor_reset".to_owned()), "{kinds:?}");
    let err = cli.fails(&["user", "reset-2fa", "nobody@example.com"], "");
    assert!(err.contains("no user"), "{err}");
}

fn manage_users_from_the_command_line() {
    let cli = Cli::new();
    assert!(cli.ok(&["migrate"], "").contains("migration"));
    let out = cli.ok(
        &[
            "user",
            "create",
            "--email",
            "Root@Example.com",
            "--name",
            "Root",
            "--admin",
            "--password-stdin",
        ],
        "correct horse battery\n",
    );
    assert!(out.contains("created admin root@example.com"), "{out}");
    cli.ok(
        &["user", "create", "--email", "ada@example.com", "--password-stdin"],
        "another good passphrase\n",
    );
    let list = cli.ok(&["user", "list"], "");
    assert!(
        list.contains("root@example.com") && list.contains("ada@example.com") && list.contains("2 user(s)")
    );

    assert!(cli
        .ok(&["user", "set-role", "ada@example.com", "admin"], "")
        .contains("is now admin"));
    assert!(cli
        .ok(&["user", "disable", "ada@example.com"], "")
        .contains("disabled"));
    assert!(cli
        .ok(&["user", "enable", "ada@example.com"], "")
        .contains("enabled"));
    assert!(cli
        .ok(&["user", "set-role", "ada@example.com", "user"], "")
        .contains("is now user"));
}

fn bad_input_gets_a_one_line_error_and_writes_nothing() {
    let cli = Cli::new();
    cli.ok(
        &[
            "user",
            "create",
            "--email",
            "root@example.com",
            "--admin",
            "--password-stdin",
        ],
        "correct horse battery\n",
    );
    assert!(cli
        .fails(
            &["user", "create", "--email", "not-an-email", "--password-stdin"],
            "correct horse battery\n"
        )
        .contains("email"));
    assert!(cli
        .fails(
            &["user", "create", "--email", "a@example.com", "--password-stdin"],
            "password\n"
        )
        .contains("common"));
    assert!(cli
        .fails(
            &["user", "create", "--email", "b@example.com", "--password-stdin"],
            "short\n"
        )
        .contains("at least 8"));
    let long = "x".repeat(73) + "\n";
    assert!(cli
        .fails(
            &["user", "create", "--email", "c@example.com", "--password-stdin"],
            &long
        )
        .contains("72"));
    assert!(cli
        .fails(
            &[
                "user",
                "create",
                "--email",
                "ROOT@example.com",
                "--password-stdin"
            ],
            "correct horse battery\n"
        )
        .contains("already exists"));
    assert!(cli
        .fails(&["user", "set-role", "root@example.com", "superuser"], "")
        .contains("unknown role"));
    assert!(cli
        .fails(&["user", "disable", "nobody@example.com"], "")
        .contains("no user"));
    // The only admin can't be demoted or disabled.
    assert!(cli
        .fails(&["user", "set-role", "root@example.com", "user"], "")
        .contains("last admin"));
    assert!(cli
        .fails(&["user", "disable", "root@example.com"], "")
        .contains("last admin"));
    let list = cli.ok(&["user", "list"], "");
    assert!(list.contains("1 user(s)"), "nothing half-written: {list}");
}

fn a_misspelt_setting_stops_every_command() {
    let cli = Cli::new();
    for args in [&["migrate"][..], &["user", "list"], &["serve"]] {
        let out = cli.run_with(
            args,
            "",
            &[("GATEHOUSE_DENY_BY_DEFALT", "true"), ("ROCKET_PORT", "0")],
        );
        assert!(!out.status.success(), "{args:?} runs with a misspelt setting");
        let said = String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
        assert!(
            said.contains("GATEHOUSE_DENY_BY_DEFALT") && said.contains("did you mean `deny_by_default`?"),
            "{args:?}: {said}"
        );
    }
    assert!(!cli.dir.path().join("cli.db").exists(), "nothing was created");
}

/// The first start says where, on what, and the exact command for the
/// binary that runs (not `cargo run`: this one wasn't started by Cargo).
fn the_first_start_names_the_command_that_makes_an_admin() {
    use std::io::{BufRead, BufReader};
    let cli = Cli::new();
    let mut child = cli
        .command(&["serve"], &[("ROCKET_PORT", "0")])
        .env_remove("CARGO_MANIFEST_DIR")
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines().take(20) {
            let line = line.unwrap_or_default();
            let done = line.contains("--admin");
            lines.push(line);
            if done {
                break;
            }
        }
        lines
    });
    let began = std::time::Instant::now();
    while !reader.is_finished() && began.elapsed() < std::time::Duration::from_secs(60) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    let lines = reader.join().unwrap();
    let text = lines.join("\n");
    // Rocket's warnings (a generated secret in debug) come first.
    let start = lines
        .iter()
        .position(|l| l.starts_with("Gatehouse is running at http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no summary: {text}"));
    assert!(text.contains("database: sqlite://"), "{text}");
    let command = format!(
        "{} user create --email you@example.com --name \"Your Name\" --admin",
        env!("CARGO_BIN_EXE_gatehouse")
    );
    assert_eq!(lines.last().map(|l| l.trim()), Some(command.as_str()), "{text}");
    assert!(lines.len() - start <= 5, "a few lines: {text}");
}

/// Left unset, `password_reset` turns itself off where mail can't carry
/// links (here: a release without `public_url`, or a build without the
/// `mail` feature), and the start says why.
fn a_release_without_public_url_says_password_reset_is_off() {
    use base64::Engine;
    use std::io::{BufRead, BufReader};
    let b64 = |n: usize| {
        let mut bytes = vec![0u8; n];
        rand::fill(&mut bytes[..]);
        base64::engine::general_purpose::STANDARD.encode(bytes)
    };
    let (jwt, rocket) = (b64(48), b64(32));
    let cli = Cli::new();
    let env = [
        ("ROCKET_PROFILE", "release"),
        ("ROCKET_PORT", "0"),
        ("ROCKET_ADDRESS", "127.0.0.1"),
        ("JWT_SECRET_KEY", jwt.as_str()),
        ("ROCKET_SECRET_KEY", rocket.as_str()),
    ];
    let mut child = cli.command(&["serve"], &env).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines().take(20) {
            let line = line.unwrap_or_default();
            let done = line.contains("forgotten-password");
            lines.push(line);
            if done {
                break;
            }
        }
        lines
    });
    let began = std::time::Instant::now();
    while !reader.is_finished() && began.elapsed() < std::time::Duration::from_secs(60) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    let text = reader.join().unwrap().join("\n");
    // Without the `mail` feature, that is the reason given first.
    let why = if cfg!(feature = "mail") {
        "`public_url` is not set"
    } else {
        "this Gatehouse was built without the `mail` feature"
    };
    assert!(
        text.contains(&format!("forgotten-password links are off: {why}")),
        "{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
