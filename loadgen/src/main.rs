//! `loadgen` binary: parse the command line, run, report, map the outcome to an exit code
//! (0 run completed, 1 target unreachable or report not written, 2 usage error).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use loadgen::cli::{self, CliError};
use loadgen::report::{output, text};
use loadgen::{RunError, RunOptions};

fn main() -> ExitCode {
    let cli = match cli::parse(std::env::args_os()) {
        Ok(cli) => cli,
        Err(CliError::Info(text)) => {
            let _ = std::io::stdout().write_all(text.as_bytes());
            return ExitCode::SUCCESS;
        }
        Err(CliError::Usage(message)) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    // Ctrl-C ends the run early but still prints the report.
    let _ = signal_hook::flag::register(signal_hook::consts::SIGINT, stop.clone());
    let options = RunOptions {
        progress: !cli.output.no_progress && std::io::stderr().is_terminal(),
        stop,
    };
    let prepared = match loadgen::prepare(&cli.config) {
        Ok(prepared) => prepared,
        Err(e) => return fail(&e),
    };
    output::say(&cli.output, &text::banner(&cli.config, prepared.threads()));
    let report = match prepared.run(&options) {
        Ok(report) => report,
        Err(e) => return fail(&e),
    };
    match output::emit(&report, &cli.output) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
    }
}

/// Usage errors exit 2; everything else (unreachable target, setup failure) exits 1.
fn fail(error: &RunError) -> ExitCode {
    eprintln!("error: {error}");
    match error {
        RunError::Usage(_) => ExitCode::from(2),
        _ => ExitCode::from(1),
    }
}
