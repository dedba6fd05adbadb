//! `myapp` serves the app (the default), `myapp migrate` migrates its
//! database and `myapp user create --email ... --admin` makes its first admin.

fn main() -> std::process::ExitCode {
    gatehouse::cli::run(myapp::app)
}
