//! `loadgen` binary: parse the command line, run, report, check assertions, map the
//! outcome to an exit code (0 run completed, 1 target unreachable or report not written,
//! 2 usage error, 3 an `--assert` failed). `loadgen compare`, `loadgen capacity`, `loadgen
//! merge`, `loadgen gate` and `loadgen plot` are dispatched before the main parser, which takes a URL as its positional argument.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use loadgen::assert::Assertion;
use loadgen::capacity;
use loadgen::cli::{self, CliError};
use loadgen::merge::MergeError;
use loadgen::report::{Report, output, text};
use loadgen::{RunError, RunOptions};

/// An `--assert` failed, `compare` found a significant regression past --max-regression,
/// `gate` found a regression, or `capacity` found no rate that passes.
const FAILED_CHECK: u8 = 3;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "compare") {
        return compare(args);
    }
    if args.get(1).is_some_and(|a| a == "capacity") {
        return capacity(args);
    }
    if args.get(1).is_some_and(|a| a == "merge") {
        return merge(args);
    }
    if args.get(1).is_some_and(|a| a == "gate") {
        return gate(args);
    }
    if args.get(1).is_some_and(|a| a == "plot") {
        return match loadgen::plot::run(args) {
            Ok(path) => {
                eprintln!("written: {}", path.display());
                ExitCode::SUCCESS
            }
            Err(error) => cli_error(error),
        };
    }
    let cli::Cli {
        config,
        plan,
        output,
        assertions,
    } = match cli::parse(args) {
        Ok(cli) => cli,
        Err(error) => return cli_error(error),
    };
    let stop = Arc::new(AtomicBool::new(false));
    // Ctrl-C ends the run early but still prints the report.
    let _ = signal_hook::flag::register(signal_hook::consts::SIGINT, stop.clone());
    let options = RunOptions {
        progress: !output.no_progress && std::io::stderr().is_terminal(),
        stop,
        intervals: output.hlog.is_some(),
    };
    let prepared = match loadgen::prepare_plan(&config, plan) {
        Ok(prepared) => prepared,
        Err(e) => return fail(&e),
    };
    output::say(&output, &text::banner(&config, prepared.threads()));
    let report = match prepared.run(&options) {
        Ok(report) => report,
        Err(e) => return fail(&e),
    };
    let written = output::emit(&report, &output);
    conclude(written, &assertions, &report)
}

/// Assertions checked and printed; a report not written (exit 1) outweighs a failed check (3).
fn conclude(written: Result<(), String>, assertions: &[Assertion], report: &Report) -> ExitCode {
    let mut all_passed = true;
    for assertion in assertions {
        let outcome = assertion.evaluate(report);
        eprintln!("{}", outcome.line);
        all_passed &= outcome.passed;
    }
    match written {
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
        Ok(()) if !all_passed => ExitCode::from(FAILED_CHECK),
        Ok(()) => ExitCode::SUCCESS,
    }
}

fn merge(args: Vec<OsString>) -> ExitCode {
    let merged = match loadgen::merge::run(args) {
        Ok(merged) => merged,
        Err(MergeError::Usage(error)) => return cli_error(error),
        Err(MergeError::Missing(message)) => {
            eprintln!("error: {message}");
            return ExitCode::from(1);
        }
    };
    output::say(&merged.output, &merged.banner);
    let written = output::emit(&merged.report, &merged.output);
    output::say(&merged.output, &merged.table);
    conclude(written, &merged.assertions, &merged.report)
}

fn capacity(args: Vec<OsString>) -> ExitCode {
    let (settings, output) = match capacity::cli::parse(args) {
        Ok(parsed) => parsed,
        Err(error) => return cli_error(error),
    };
    capacity::render::say(&output, &capacity::render::banner(&settings));
    let live = !output.no_progress && std::io::stderr().is_terminal();
    let mut n = 0;
    let outcome = capacity::run(&settings, |step| {
        n += 1;
        if live {
            eprintln!("{}", capacity::render::step_line(n, step));
        }
    });
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(e) => return fail(&e),
    };
    if let Err(message) = capacity::render::emit(&settings, &outcome, &output) {
        eprintln!("error: {message}");
        return ExitCode::from(1);
    }
    match (outcome.max_rate(), outcome.found.limited_by) {
        (Some(_), _) => ExitCode::SUCCESS,
        // Nothing was measured of the target: loadgen could not deliver even the start rate.
        (None, capacity::search::LimitedBy::Generator) => ExitCode::from(1),
        (None, _) => ExitCode::from(FAILED_CHECK),
    }
}

fn compare(args: Vec<OsString>) -> ExitCode {
    match loadgen::compare::run(args) {
        Ok((comparison, json)) => {
            // `--json -` puts the JSON on stdout instead of the table.
            if json.is_none_or(|path| path.as_os_str() != "-") {
                let _ = std::io::stdout().write_all(comparison.render().as_bytes());
            }
            if comparison.regressed() {
                ExitCode::from(FAILED_CHECK)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(error) => cli_error(error),
    }
}

fn gate(args: Vec<OsString>) -> ExitCode {
    match loadgen::gate::run(args) {
        Ok(gated) => {
            let _ = std::io::stdout().write_all(gated.markdown.as_bytes());
            if gated.judgement.regressed() {
                ExitCode::from(FAILED_CHECK)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(loadgen::gate::GateError::Usage(error)) => cli_error(error),
        Err(loadgen::gate::GateError::Unmeasured(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
    }
}

/// --help / --version go to stdout (exit 0); usage errors are one line (exit 2).
fn cli_error(error: CliError) -> ExitCode {
    match error {
        CliError::Info(text) => {
            let _ = std::io::stdout().write_all(text.as_bytes());
            ExitCode::SUCCESS
        }
        CliError::Usage(message) => {
            eprintln!("{message}");
            ExitCode::from(2)
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
