//! The command line: the server, migrations and user administration, all in
//! one binary: Gatehouse's own, or an app's, which hands its Rocket over:
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     gatehouse::cli::run(|figment| gatehouse::build(figment) /* .mount(...) */)
//! }
//! ```
//!
//! and then has `myapp serve` (the default), `myapp migrate` and
//! `myapp user create --email ... --admin`.

use std::io::{self, BufRead, IsTerminal};
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use rocket::figment::Figment;
use rocket::{Build, Rocket};

use crate::auth::password::check_policy;
use crate::config::Config;
use crate::db::audit::{self, EventKind, NewEvent};
use crate::db::passkey::StoredPasskey;
use crate::db::two_factor::TotpSecret;
use crate::db::user::{NewUser, User};
use crate::domain::{DisplayName, Email, Role};
use crate::error::Error;
use crate::services::passkey;
use crate::state::Gatehouse;

#[derive(Debug, Parser)]
#[command(
    name = "gatehouse",
    version,
    about = "Sign people in to a Rocket app with JSON Web Tokens"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user (prompts for the password unless --password-stdin).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "")]
        name: String,
        /// Give the user the admin role.
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List,
    /// Set a user's role.
    SetRole { email: String, role: String },
    /// Disable a user: their sessions stop working on their next request.
    Disable { email: String },
    /// Enable a disabled user.
    Enable { email: String },
    /// Lift a sign-in lockout (after too many failed attempts).
    Unlock { email: String },
    /// Turn a user's two-factor sign-in off (they lost their app and their
    /// recovery codes); they can turn it on again from their account.
    #[command(name = "reset-2fa")]
    ResetTwoFactor { email: String },
    /// List a user's passkeys (id, name, added, last used, synced or not).
    Passkeys { email: String },
    /// Remove one of a user's passkeys (its id from `user passkeys`).
    #[command(name = "remove-passkey")]
    RemovePasskey { email: String, id: i32 },
}

/// The whole command line for an app: `app` makes its Rocket from
/// Gatehouse's figment (Rocket.toml, `ROCKET_*`, `GATEHOUSE_*`, see
/// [`crate::config::figment`]), as `main.rs` does with `gatehouse::build`.
/// `serve` launches it; the other commands read the same Rocket's settings
/// (and its [`AppKeys`](crate::config::AppKeys)) and work on its database.
pub fn run(app: impl FnOnce(Figment) -> Rocket<Build>) -> ExitCode {
    let invoked = std::env::args().next().unwrap_or_default();
    let bin: &'static str = std::path::Path::new(&invoked)
        .file_stem()
        .and_then(|n| n.to_str())
        .map_or("gatehouse", |n| Box::leak(n.into()));
    let matches = Cli::command().name(bin).bin_name(bin).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let rocket = app(crate::logging::init(crate::config::figment()));
    let result = match cli.command.unwrap_or(Command::Serve) {
        // Rocket's error logs its details (which route collides, which
        // setting is bad) when printed this way.
        Command::Serve => rocket::execute(rocket.launch())
            .map(|_| String::new())
            .map_err(|e| Error::Invalid(e.pretty_print().to_owned())),
        command => Config::from_rocket(&rocket)
            .map_err(|e| Error::Config(e.to_string()))
            .and_then(|config| execute(command, config)),
    };
    match result {
        Ok(out) => {
            // A reader that stops early (`| head`, `| grep -q`) is not an
            // error of ours: println! would panic on the broken pipe.
            use std::io::Write;
            if !out.is_empty() {
                let _ = writeln!(std::io::stdout(), "{out}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{bin}: {}", e.chain());
            ExitCode::FAILURE
        }
    }
}

/// Runs a command other than `serve` (blocking: bcrypt, Diesel); returns
/// what to print.
pub fn execute(command: Command, config: Config) -> Result<String, Error> {
    match command {
        Command::Serve => Ok(String::new()),
        Command::Migrate => {
            let db = crate::db::Db::connect(&config.database, 1)?;
            let applied = db.migrate()?;
            Ok(format!("{}: {applied} migration(s) applied", db.url()))
        }
        Command::User(cmd) => user(cmd, config),
    }
}

fn find(app: &Gatehouse, email: &str) -> Result<User, Error> {
    let email = Email::parse(email).map_err(Error::Invalid)?;
    app.db
        .run_blocking(|conn| User::find_by_email(conn, &email))?
        .ok_or_else(|| Error::Invalid(format!("no user with email {email}")))
}

fn user(cmd: UserCommand, config: Config) -> Result<String, Error> {
    match cmd {
        UserCommand::Create {
            email,
            name,
            admin,
            password_stdin,
        } => create_user(config, &email, name, admin, password_stdin),
        UserCommand::List => list_users(config),
        UserCommand::SetRole { email, role } => set_role(config, &email, &role),
        UserCommand::Disable { email } => set_disabled(config, &email, true),
        UserCommand::Enable { email } => set_disabled(config, &email, false),
        UserCommand::ResetTwoFactor { email } => reset_two_factor(config, &email),
        UserCommand::Unlock { email } => unlock(config, &email),
        UserCommand::Passkeys { email } => list_passkeys(config, &email),
        UserCommand::RemovePasskey { email, id } => remove_passkey(config, &email, id),
    }
}

fn create_user(
    config: Config,
    email: &str,
    name: String,
    admin: bool,
    password_stdin: bool,
) -> Result<String, Error> {
    // Check everything before prompting or writing anything.
    let email = Email::parse(email).map_err(Error::Invalid)?;
    let name = DisplayName::parse(&name).map_err(|m| Error::Invalid(format!("--name: {m}")))?;
    let min_length = config.password.min_length;
    let app = Gatehouse::open(config)?;
    if app
        .db
        .run_blocking(|conn| User::find_by_email(conn, &email))?
        .is_some()
    {
        return Err(Error::EmailTaken);
    }
    let password = read_password(password_stdin)?;
    check_policy(&password, min_length).map_err(Error::Invalid)?;
    let hash = app.passwords.hash_blocking(&password)?;
    let role = if admin { Role::Admin } else { Role::User };
    let user = app.db.write_blocking(|conn| {
        let user = User::create(
            conn,
            NewUser {
                email: email.clone(),
                name,
                password_hash: Some(hash),
                role,
            },
        )?;
        audit::record(
            conn,
            NewEvent {
                user_id: Some(user.id),
                detail: "created from the command line",
                ..NewEvent::new(EventKind::UserCreated)
            },
        )?;
        Ok(user)
    })?;
    Ok(format!("created {} {} (id {})", user.role, user.email, user.id))
}

fn list_users(config: Config) -> Result<String, Error> {
    let app = Gatehouse::open(config)?;
    let users = app.db.run_blocking(User::list)?;
    let mut out = format!(
        "{:<6} {:<32} {:<24} {:<6} {}\n",
        "ID", "EMAIL", "NAME", "ROLE", "STATUS"
    );
    for u in &users {
        out.push_str(&format!(
            "{:<6} {:<32} {:<24} {:<6} {}\n",
            u.id,
            u.email,
            u.name,
            u.role,
            if u.disabled { "disabled" } else { "active" }
        ));
    }
    out.push_str(&format!("{} user(s)", users.len()));
    Ok(out)
}

fn set_role(config: Config, email: &str, role: &str) -> Result<String, Error> {
    let role: Role = role.parse().map_err(Error::Invalid)?;
    let app = Gatehouse::open(config)?;
    let user = find(&app, email)?;
    let user = app.db.write_blocking(|conn| {
        let user = User::set_role(conn, user.id, role)?;
        audit::record(
            conn,
            NewEvent {
                user_id: Some(user.id),
                detail: &format!("role set to {role} from the command line"),
                ..NewEvent::new(EventKind::RoleChanged)
            },
        )?;
        Ok(user)
    })?;
    Ok(format!("{} is now {}", user.email, user.role))
}

fn unlock(config: Config, email: &str) -> Result<String, Error> {
    let app = Gatehouse::open(config)?;
    let user = find(&app, email)?;
    app.db.write_blocking(|conn| {
        User::unlock(conn, user.id)?;
        audit::record(
            conn,
            NewEvent {
                user_id: Some(user.id),
                detail: "from the command line",
                ..NewEvent::new(EventKind::AccountUnlocked)
            },
        )
    })?;
    Ok(format!("{} can sign in again", user.email))
}

fn reset_two_factor(config: Config, email: &str) -> Result<String, Error> {
    let app = Gatehouse::open(config)?;
    let user = find(&app, email)?;
    app.db.write_blocking(|conn| {
        if !TotpSecret::disable(conn, user.id)? {
            return Err(Error::Invalid(format!(
                "{} does not have two-factor sign-in on",
                user.email
            )));
        }
        audit::record(
            conn,
            NewEvent {
                user_id: Some(user.id),
                detail: "from the command line",
                ..NewEvent::new(EventKind::TwoFactorReset)
            },
        )
    })?;
    Ok(format!("two-factor sign-in is off for {}", user.email))
}

fn list_passkeys(config: Config, email: &str) -> Result<String, Error> {
    let app = Gatehouse::open(config)?;
    let user = find(&app, email)?;
    let passkeys = app.db.run_blocking(|conn| StoredPasskey::list(conn, user.id))?;
    if passkeys.is_empty() {
        return Ok(format!("{} has no passkeys", user.email));
    }
    let day = |t: i64| {
        time::OffsetDateTime::from_unix_timestamp(t)
            .ok()
            .and_then(|d| {
                d.format(time::macros::format_description!("[year]-[month]-[day]"))
                    .ok()
            })
            .unwrap_or_default()
    };
    let mut out = format!(
        "{:<6} {:<10} {:<10} {:<17} NAME",
        "ID", "ADDED", "LAST USED", "KIND"
    );
    for p in passkeys {
        let kind = if p.backed_up { "synced" } else { "this device only" };
        let used = p.last_used_at.map_or("never".to_owned(), day);
        out.push_str(&format!(
            "\n{:<6} {:<10} {:<10} {:<17} {}",
            p.id,
            day(p.created_at),
            used,
            kind,
            p.name
        ));
    }
    Ok(out)
}

fn remove_passkey(config: Config, email: &str, id: i32) -> Result<String, Error> {
    let app = Gatehouse::open(config)?;
    let user = find(&app, email)?;
    let removed = app
        .db
        .run_blocking(|conn| passkey::remove_now(conn, user.id, id, None, None, None))
        .map_err(|e| match e {
            Error::NotFound => Error::Invalid(format!("{} has no passkey {id}", user.email)),
            e => e,
        })?;
    Ok(format!(
        "passkey {} (“{}”) of {} removed",
        removed.id, removed.name, user.email
    ))
}

fn set_disabled(config: Config, email: &str, disabled: bool) -> Result<String, Error> {
    let app = Gatehouse::open(config)?;
    let user = find(&app, email)?;
    let user = app.db.write_blocking(|conn| {
        let user = User::set_disabled(conn, user.id, disabled)?;
        audit::record(
            conn,
            NewEvent {
                user_id: Some(user.id),
                detail: "from the command line",
                ..NewEvent::new(if disabled {
                    EventKind::UserDisabled
                } else {
                    EventKind::UserEnabled
                })
            },
        )?;
        Ok(user)
    })?;
    Ok(format!(
        "{} is {}",
        user.email,
        if user.disabled { "disabled" } else { "enabled" }
    ))
}

fn read_password(from_stdin: bool) -> Result<String, Error> {
    if from_stdin || !io::stdin().is_terminal() {
        let mut line = String::new();
        io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Error::Invalid(format!("could not read the password: {e}")))?;
        let password = line.trim_end_matches(['\n', '\r']).to_owned();
        if password.is_empty() {
            return Err(Error::Invalid("no password on standard input".into()));
        }
        return Ok(password);
    }
    let first = rpassword::prompt_password("Password: ")
        .map_err(|e| Error::Invalid(format!("could not read the password: {e}")))?;
    let second = rpassword::prompt_password("Again: ")
        .map_err(|e| Error::Invalid(format!("could not read the password: {e}")))?;
    if first != second {
        return Err(Error::Invalid("the passwords do not match".into()));
    }
    Ok(first)
}
