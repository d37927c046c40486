//! `loadgen gate`: the verdicts of the CI performance gate (`scripts/perf-gate.sh` makes
//! the measurements; this judges them). Two signals:
//!
//! - **exact**: instructions per request (callgrind) and system calls per request
//!   (`strace -c`), each the slope between runs at two request counts, so start-up and
//!   shutdown cancel. Counts do not vary from run to run, so the verdict is the threshold
//!   alone (default 1%, from the A/A′ calibration in `bench-results/`).
//! - **timing**: the target's CPU-us per request and rps over rounds that load both
//!   builds at once, a paired test on the logs of per-round ratios with Holm's correction
//!   across the run's tests; a regression must be significant, past the threshold (default 1.5%), and repeat in a
//!   confirmation re-run (`--confirm`).
//!
//! Exit codes: 0 no regression, 3 a regression, 1 the samples cannot be judged (a missing
//! or unreadable measurement, errors in a timed round), 2 usage error.

mod render;
pub mod samples;
pub mod stats;
pub mod verdict;

use std::path::PathBuf;

use clap::Parser;

use crate::cli::CliError;
use render::Labels;
pub use verdict::{Judgement, Thresholds, Verdict};

#[derive(Parser, Debug)]
#[command(
    name = "loadgen gate",
    bin_name = "loadgen gate",
    about = "Judge a performance gate's measurements (written by scripts/perf-gate.sh): exact counts \
             per request and timed rounds of a base and a head build",
    after_help = "Exit codes: 0 no regression, 3 a regression, 1 the measurements cannot be judged, 2 usage error."
)]
struct Args {
    /// The samples file: one JSON object a line, {"scenario", "side": base|head, "signal":
    /// instructions|syscalls, "requests", "file" [, "annotate"]} or {"scenario", "side",
    /// "signal": timing, "round", "report"} (a round pairs base's report with head's);
    /// paths relative to the file
    #[arg(long, value_name = "FILE")]
    samples: PathBuf,
    /// The confirmation re-run's samples (timing scenarios flagged by the first run)
    #[arg(long, value_name = "FILE")]
    confirm: Option<PathBuf>,
    /// Threshold for both signals, e.g. 1% (overrides --exact-threshold and --timing-threshold)
    #[arg(long, value_name = "PERCENT", value_parser = crate::compare::parse_band)]
    threshold: Option<f64>,
    /// Change in a counted signal that fails the gate
    #[arg(long, value_name = "PERCENT", default_value = "1%", value_parser = crate::compare::parse_band)]
    exact_threshold: f64,
    /// Estimated change in a timed signal that fails the gate (when significant and confirmed)
    #[arg(long, value_name = "PERCENT", default_value = "1.5%", value_parser = crate::compare::parse_band)]
    timing_threshold: f64,
    /// Write summary.md, summary.json, bmf.json and candidates.txt (the timing scenarios a
    /// confirmation must re-run, one a line) to DIR
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Name of the base build in the summary
    #[arg(long, default_value = "base")]
    base_label: String,
    /// Name of the head build in the summary
    #[arg(long, default_value = "head")]
    head_label: String,
    /// The rig, for the summary's header
    #[arg(long)]
    rig: Option<String>,
}

/// What `loadgen gate` concluded, rendered.
pub struct Gated {
    pub judgement: Judgement,
    pub markdown: String,
}

pub enum GateError {
    Usage(CliError),
    /// The measurements cannot be judged (exit 1).
    Unmeasured(String),
}

pub fn run<I, T>(args: I) -> Result<Gated, GateError>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args: Args = crate::cli::parse_subcommand(args).map_err(GateError::Usage)?;
    let percent = |p: f64| p / 100.0;
    let thresholds = Thresholds {
        exact: percent(args.threshold.unwrap_or(args.exact_threshold)),
        timing: percent(args.threshold.unwrap_or(args.timing_threshold)),
    };
    let first = samples::read(&args.samples).map_err(GateError::Unmeasured)?;
    let again = args
        .confirm
        .as_deref()
        .map(samples::read)
        .transpose()
        .map_err(GateError::Unmeasured)?;
    let judgement = verdict::judge(&first, again.as_ref(), thresholds).map_err(GateError::Unmeasured)?;
    let labels = Labels {
        base: &args.base_label,
        head: &args.head_label,
        rig: args.rig.as_deref(),
    };
    let markdown = render::markdown(&judgement, thresholds, &labels);
    if let Some(dir) = &args.out {
        write_outputs(dir, &judgement, thresholds, &labels, &markdown).map_err(GateError::Unmeasured)?;
    }
    append_step_summary(&markdown);
    Ok(Gated { judgement, markdown })
}

fn write_outputs(
    dir: &PathBuf,
    j: &Judgement,
    t: Thresholds,
    labels: &Labels,
    md: &str,
) -> Result<(), String> {
    let write = |name: &str, contents: String| {
        let path = dir.join(name);
        std::fs::write(&path, contents).map_err(|e| format!("cannot write '{}': {e}", path.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create '{}': {e}", dir.display()))?;
    write("summary.md", md.to_string())?;
    write("summary.json", pretty(&render::json(j, t, labels)))?;
    write("bmf.json", pretty(&render::bmf(j)))?;
    write(
        "candidates.txt",
        j.candidates.iter().map(|c| format!("{c}\n")).collect(),
    )
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default() + "\n"
}

/// GitHub Actions shows `$GITHUB_STEP_SUMMARY`'s markdown on the run's page.
fn append_step_summary(markdown: &str) {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return;
    };
    use std::io::Write;
    let appended = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(format!("{markdown}\n").as_bytes()));
    if let Err(e) = appended {
        eprintln!(
            "warning: cannot append to GITHUB_STEP_SUMMARY ({}): {e}",
            PathBuf::from(path).display()
        );
    }
}

#[cfg(test)]
mod tests;
