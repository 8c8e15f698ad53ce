use clap::Parser;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match rustok::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let (to_stdout, text, code) = rustok::cli::parse_error_output(&e);
            if to_stdout {
                let _ = write!(std::io::stdout(), "{text}");
            } else {
                report(&text);
            }
            return ExitCode::from(code);
        }
    };
    let _log = rustok::logging::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            report(&format!("error: cannot start the async runtime: {e}"));
            return ExitCode::from(1);
        }
    };
    let result = if cli.command.is_none() {
        if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
            report(
                "error: the console needs a terminal; for scripts use a subcommand (rustok --help)",
            );
            return ExitCode::from(2);
        }
        runtime.block_on(rustok::cli::run_console(&cli))
    } else {
        runtime.block_on(rustok::cli::run(cli))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::info!(error = %e, "command failed");
            report(&format!(
                "error: {}",
                rustok_domain::text::printable(&e.to_string())
            ));
            ExitCode::from(e.exit_code())
        }
    }
}

/// One line on stderr. Unlike eprintln!, never panics: after a hang-up stderr may be a
/// terminal that is gone.
fn report(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}
