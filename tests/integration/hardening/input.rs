//! Hostile input (issue 17): NUL and control characters refused at the
//! edge (422, never a 500) wherever text comes in; one email rule that
//! never folds non-ASCII into ASCII; audit rows bounded; one display name
//! for every way in.
//!
//! - [`routes`]: a table of every form, JSON body and query string that
//!   takes text, each sent a NUL;
//! - [`audit`]: the refused sign-in still audited, and bounded;
//! - [`google`]: a look-alike email is not linked, a long name is cut;
//! - here: the command line.

mod audit;
#[cfg(feature = "google")]
mod google;
#[cfg(feature = "mail")]
mod routes;

use std::io::Write;
use std::process::{Command, Stdio};

use crate::tests;

tests!(sync: the_command_line_refuses_control_characters_in_names);

/// `user create` with an escape sequence in the name: a one-line refusal
/// naming the field, and no account.
fn the_command_line_refuses_control_characters_in_names() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .args(args)
            .current_dir(dir.path())
            .env(
                "DATABASE_URL",
                format!("sqlite://{}", dir.path().join("cli.db").display()),
            )
            .env("GATEHOUSE_PASSWORD__BCRYPT_COST", "10")
            .env_remove("ROCKET_PROFILE")
            .env_remove("ROCKET_LOG_LEVEL")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = "correct horse battery staple\n";
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let base = ["user", "create", "--email", "ada@example.com", "--password-stdin"];
    let out = run(&[&base[..], &["--name", "Ada\u{1b}[2J"]].concat());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "refused: {stderr}");
    assert!(
        stderr.contains("--name") && stderr.contains("control"),
        "{stderr}"
    );
    let out = run(&[&base[..], &["--name", &"x".repeat(101)]].concat());
    assert!(!out.status.success(), "a 101-character name is refused");
    let out = run(&["user", "list"]);
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(!list.contains("ada@example.com"), "nothing written: {list}");
    let out = run(&[&base[..], &["--name", "Ada Lovelace"]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
