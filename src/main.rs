use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = rustok::cli::Cli::parse();
    let _log = rustok::logging::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(rustok::cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::info!(error = %e, "command failed");
            eprintln!("error: {}", rustok_domain::text::printable(&e.to_string()));
            ExitCode::from(e.exit_code())
        }
    }
}
