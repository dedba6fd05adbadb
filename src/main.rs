//! Gatehouse's own server and command line: the whole app, as an app built
//! on the library would have it (see `examples/myapp`).

fn main() -> std::process::ExitCode {
    gatehouse::cli::run(gatehouse::build)
}
