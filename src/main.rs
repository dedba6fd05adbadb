use std::process::ExitCode;

use clap::Parser;
use gatehouse::cli::{Cli, Command};
use gatehouse::config::{figment, Config};

#[rocket::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => match gatehouse::build(figment()).launch().await {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("gatehouse: {e}");
                ExitCode::FAILURE
            }
        },
        command => {
            let result = Config::from_figment(&figment())
                .map_err(|e| gatehouse::Error::Config(e.to_string()))
                .and_then(|config| {
                    // Blocking work (bcrypt, Diesel) in a plain thread, not on
                    // the runtime.
                    std::thread::spawn(move || gatehouse::cli::run(command, config))
                        .join()
                        .unwrap_or_else(|_| Err(gatehouse::Error::Invalid("the command panicked".into())))
                });
            match result {
                Ok(out) => {
                    if !out.is_empty() {
                        println!("{out}");
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("gatehouse: {}", e.chain());
                    ExitCode::FAILURE
                }
            }
        }
    }
}
