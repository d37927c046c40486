//! Writing the finished report where the command line asked: text on stdout (stderr when
//! stdout carries the JSON), JSON and .hgrm files, warnings on stderr.

use std::fs;
use std::io::{self, Write};

use super::{Report, hgrm, text};
use crate::cli::Output;

/// Whether the text report has to move to stderr because stdout carries the JSON.
pub fn json_on_stdout(output: &Output) -> bool {
    output.json.as_deref() == Some("-")
}

/// Human text: stdout, or stderr when stdout carries the JSON. A closed pipe (e.g.
/// `| head`) is not worth a panic, so write errors are ignored.
pub fn say(output: &Output, text: &str) {
    let _ = if json_on_stdout(output) {
        io::stderr().write_all(text.as_bytes())
    } else {
        io::stdout().write_all(text.as_bytes())
    };
}

pub fn emit(report: &Report, output: &Output) -> Result<(), String> {
    say(output, &text::render(report, output.latency));
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    if let Some(path) = &output.json {
        let json = serde_json::to_string_pretty(report).map_err(|e| e.to_string())? + "\n";
        if path == "-" {
            io::stdout()
                .write_all(json.as_bytes())
                .map_err(|e| format!("--json: cannot write to stdout: {e}"))?;
        } else {
            fs::write(path, json).map_err(|e| format!("--json: cannot write '{path}': {e}"))?;
        }
    }
    if let Some(path) = &output.hgrm {
        fs::write(path, hgrm::render(&report.latency))
            .map_err(|e| format!("--hgrm: cannot write '{}': {e}", path.display()))?;
    }
    Ok(())
}
