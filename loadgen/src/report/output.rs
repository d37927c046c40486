//! Writing the finished report where the command line asked: text on stdout (stderr when
//! stdout carries the JSON), JSON, .hgrm, .hlog, BMF and SVG files, warnings on stderr.

use std::fs;
use std::io::{self, Write};
use std::path::PathBuf;

use super::{Report, bmf, hgrm, hlog, svg, text, timechart};

/// Where and how to report (what the command line asked for).
#[derive(Debug, Clone, Default)]
pub struct Output {
    pub latency: bool,
    pub json: Option<String>,
    pub hgrm: Option<PathBuf>,
    pub hlog: Option<PathBuf>,
    pub bmf: Option<PathBuf>,
    pub bmf_name: Option<String>,
    pub svg: Option<PathBuf>,
    pub no_progress: bool,
}

/// Whether the text report has to move to stderr because stdout carries the JSON.
fn json_on_stdout(output: &Output) -> bool {
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
    if let Some(path) = &output.bmf {
        let name = output
            .bmf_name
            .clone()
            .unwrap_or_else(|| bmf::default_name(report));
        let json = serde_json::to_string_pretty(&bmf::render(report, &name)).map_err(|e| e.to_string())?;
        fs::write(path, json + "\n").map_err(|e| format!("--bmf: cannot write '{}': {e}", path.display()))?;
    }
    if let (Some(path), Some(intervals)) = (&output.hlog, &report.intervals) {
        let cannot = |e: &dyn std::fmt::Display| format!("--hlog: cannot write '{}': {e}", path.display());
        let mut file = io::BufWriter::new(fs::File::create(path).map_err(|e| cannot(&e))?);
        hlog::write(&mut file, intervals, &report.url).map_err(|e| cannot(&e))?;
        file.flush().map_err(|e| cannot(&e))?;
    }
    if let Some(path) = &output.svg {
        fs::write(path, chart(report)?)
            .map_err(|e| format!("--svg: cannot write '{}': {e}", path.display()))?;
    }
    Ok(())
}

/// Response time, and in open loop service time, with the URL and rate in the title; with
/// `--stages`, rates and latency over time instead.
fn chart(report: &Report) -> Result<String, String> {
    if !report.stages.is_empty() {
        let title = format!("{} {}: stages over time", report.method, report.url);
        return timechart::render(&title, &report.timeline)
            .map_err(|e| format!("--svg: cannot draw the chart: {e}"));
    }
    let mut series = vec![svg::Series {
        name: "response time",
        histogram: &report.latency,
    }];
    if report.service_time_us.is_some() {
        series.push(svg::Series {
            name: "service time",
            histogram: &report.service,
        });
    }
    let title = format!("{} {} @ {:.0} req/s", report.method, report.url, report.rps);
    svg::render(&title, &series).map_err(|e| format!("--svg: cannot draw the chart: {e}"))
}
