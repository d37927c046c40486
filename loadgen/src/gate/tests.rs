//! The gate's logic without timing anything: synthetic samples in, verdicts, tables and exit
//! conditions out.

use std::path::{Path, PathBuf};

use super::samples::{self, annotate_functions, callgrind_total, strace_total};
use super::stats::{holm, log_paired, t_quantile, two_sided_p};
use super::verdict::{self, Metric, Thresholds, Verdict, slope};
use super::{GateError, run};

const THRESHOLDS: Thresholds = Thresholds {
    exact: 0.01,
    timing: 0.02,
};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("loadgen-gate-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn callgrind(total: u64, functions: &[(&str, u64)]) -> (String, String) {
    let out =
        format!("version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nsummary: {total}\n\n\ntotals: {total}\n");
    let mut annotate = format!(
        "Ir  \n{} (100.0%)  PROGRAM TOTALS\n\nIr  file:function\n",
        group(total)
    );
    for (name, n) in functions {
        annotate.push_str(&format!(
            "{} (10.00%)  ???:{name} [/tmp/side/target/release/server]\n",
            group(*n)
        ));
    }
    (out, annotate)
}

fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `strace -c` output with `work` calls that count: reads (some failing with EAGAIN, which
/// count) and accepts that found a connection; waits and failed accepts do not count.
fn strace(work: u64) -> String {
    let reads = work - 10;
    format!(
        "% time     seconds  usecs/call     calls    errors syscall\n------ ----------- ----------- --------- --------- ----------------\n \
         60.00    0.000600           1 {reads:>9}        40 read\n 20.00    0.000400           1       300           epoll_wait\n \
         10.00    0.000400           1        70        12 futex\n 10.00    0.000100           1        25        15 accept4\n\
         ------ ----------- ----------- --------- --------- ----------------\n100.00    0.001000           1 {total:>9}        67 total\n",
        total = reads + 395
    )
}

/// Writes an exact measurement of one side: instructions = startup + per_req x n (plus a
/// function `extra` of extra_per_req x n), syscalls = 10 + syscalls_per_req x n.
fn exact_side(
    dir: &Path,
    lines: &mut String,
    side: &str,
    per_req: u64,
    extra_per_req: u64,
    syscalls_per_req: u64,
) {
    for n in [2000u64, 12000] {
        let (out, annotate) = callgrind(
            900_000 + (per_req + extra_per_req) * n,
            &[
                ("server::parse", per_req * n / 2),
                ("server::extra", extra_per_req * n),
                ("std::rt::lang_start", 900_000),
                // A frame on the stack when the counts were zeroed: it holds everything.
                ("start_thread", (per_req + extra_per_req) * n),
            ],
        );
        std::fs::write(dir.join(format!("{side}-{n}.cg")), out).unwrap();
        std::fs::write(dir.join(format!("{side}-{n}.ann")), annotate).unwrap();
        std::fs::write(
            dir.join(format!("{side}-{n}.strace")),
            strace(10 + syscalls_per_req * n),
        )
        .unwrap();
        lines.push_str(&format!(
            "{{\"scenario\":\"keepalive\",\"side\":\"{side}\",\"signal\":\"instructions\",\"requests\":{n},\"file\":\"{side}-{n}.cg\",\"annotate\":\"{side}-{n}.ann\"}}\n\
             {{\"scenario\":\"keepalive\",\"side\":\"{side}\",\"signal\":\"syscalls\",\"requests\":{n},\"file\":\"{side}-{n}.strace\"}}\n"
        ));
    }
}

fn report(dir: &Path, name: &str, cpu: f64, rps: f64, errors: u64) -> String {
    let json = format!(
        "{{\"rps\":{rps},\"requests\":1000,\"errors\":{{\"total\":{errors}}},\"target\":{{\"cpu_us_per_request\":{cpu}}},\"latency_us\":{{}}}}"
    );
    std::fs::write(dir.join(name), json).unwrap();
    name.to_string()
}

/// Timed rounds: base values around `cpu`, head's scaled by `factor`, each side with a
/// fixed wobble of ±`noise` (relative) out of step with the other's, so the per-round
/// ratios vary; over whole cycles of five rounds the wobbles cancel in the mean ratio.
fn timing(dir: &Path, lines: &mut String, scenario: &str, factor: f64, noise: f64, rounds: usize) {
    const WOBBLE: [f64; 5] = [1.0, -1.0, 0.5, -0.5, 0.0];
    for i in 0..rounds {
        for (side, f, phase) in [("base", 1.0, 0), ("head", factor, 2)] {
            let wobble = 1.0 + noise * WOBBLE[(i + phase) % 5];
            let cpu = 4.0 * f * wobble;
            let name = report(
                dir,
                &format!("{scenario}-{side}-{i}.json"),
                cpu,
                200_000.0 / (f * wobble),
                0,
            );
            lines.push_str(&format!(
                "{{\"scenario\":\"{scenario}\",\"side\":\"{side}\",\"signal\":\"timing\",\"round\":{i},\"report\":\"{name}\"}}\n"
            ));
        }
    }
}

fn judge_file(dir: &Path, lines: &str) -> verdict::Judgement {
    let path = dir.join("samples.jsonl");
    std::fs::write(&path, lines).unwrap();
    verdict::judge(&samples::read(&path).unwrap(), None, THRESHOLDS).unwrap()
}

fn row<'a>(j: &'a verdict::Judgement, scenario: &str, metric: Metric) -> &'a verdict::Row {
    j.rows
        .iter()
        .find(|r| r.scenario == scenario && r.metric == metric)
        .unwrap()
}

#[test]
fn parses_callgrind_strace_and_annotate_outputs() {
    let (out, annotate) = callgrind(14_757_455, &[("http_wire::request::parse", 4_188_000)]);
    assert_eq!(callgrind_total(&out), Some(14_757_455));
    assert_eq!(callgrind_total("totals: 77\n"), Some(77));
    assert_eq!(callgrind_total("no counts here"), None);
    assert_eq!(strace_total(&strace(31_234)), Some(31_234));
    // Only a total line: nothing that counts, but a measurement.
    assert_eq!(
        strace_total("100.00    0.001000           1      4567           total\n"),
        Some(0)
    );
    assert_eq!(strace_total("strace: exec failed"), None);
    let functions = annotate_functions(&annotate);
    assert_eq!(functions.len(), 1, "{functions:?}");
    assert_eq!(functions["???:http_wire::request::parse"], 4_188_000);
}

#[test]
fn slope_cancels_startup() {
    assert_eq!(slope(&[(2000, 6_407_884), (12000, 34_243_584)]), Some(2783.57));
    assert_eq!(slope(&[(1, 10), (2, 20), (3, 30)]), Some(10.0));
    assert_eq!(slope(&[(5, 10), (5, 11)]), None);
}

#[test]
fn exact_mode_flags_a_change_past_the_threshold_and_names_the_functions() {
    let d = dir("exact");
    let mut lines = String::new();
    exact_side(&d, &mut lines, "base", 2800, 0, 3);
    exact_side(&d, &mut lines, "head", 2800, 42, 3);
    let j = judge_file(&d, &lines);
    let ins = row(&j, "keepalive", Metric::Instructions);
    assert_eq!((ins.base, ins.head), (2800.0, 2842.0));
    assert_eq!(ins.verdict, Verdict::Regression, "+1.5% is past 1%");
    assert_eq!(row(&j, "keepalive", Metric::Syscalls).verdict, Verdict::Same);
    assert_eq!(row(&j, "keepalive", Metric::Syscalls).head, 3.0);
    let functions = &j.functions["keepalive"];
    assert_eq!(functions[0].name, "???:server::extra");
    assert_eq!((functions[0].base, functions[0].head), (0.0, 42.0));
    assert!(
        functions.iter().all(|f| f.name != "???:std::rt::lang_start"),
        "start-up cancels: {functions:?}"
    );
    assert!(
        functions.iter().all(|f| f.name != "???:start_thread"),
        "a frame holding the whole count is no clue: {functions:?}"
    );
    assert!(j.regressed());

    // Below the threshold (+0.5%) it passes; an extra syscall per request fails.
    let mut lines = String::new();
    exact_side(&d, &mut lines, "base", 2800, 0, 3);
    exact_side(&d, &mut lines, "head", 2800, 14, 4);
    let j = judge_file(&d, &lines);
    assert_eq!(row(&j, "keepalive", Metric::Instructions).verdict, Verdict::Same);
    assert_eq!(
        row(&j, "keepalive", Metric::Syscalls).verdict,
        Verdict::Regression
    );
    assert!(
        j.functions.is_empty(),
        "no instruction regression, no function table"
    );
}

#[test]
fn timing_no_change_passes_and_a_shift_is_caught() {
    let d = dir("timing");
    let mut lines = String::new();
    timing(&d, &mut lines, "same", 1.0, 0.02, 10);
    timing(&d, &mut lines, "slower", 1.05, 0.01, 10);
    timing(&d, &mut lines, "noisy", 1.05, 0.20, 10);
    timing(&d, &mut lines, "faster", 0.9, 0.01, 10);
    let j = judge_file(&d, &lines);
    assert_eq!(row(&j, "same", Metric::CpuUsPerReq).verdict, Verdict::Same);
    let slower = row(&j, "slower", Metric::CpuUsPerReq);
    assert_eq!(slower.verdict, Verdict::Regression);
    assert!((slower.change - 0.05).abs() < 1e-9, "{}", slower.change);
    let t = slower.test.unwrap();
    assert!(t.low > 0.0 && t.high > t.low, "{t:?}");
    // rps fell by the same factor: also a regression.
    assert_eq!(row(&j, "slower", Metric::Rps).verdict, Verdict::Regression);
    // 5% inside ±20% noise in 10 rounds is not significant.
    assert_eq!(row(&j, "noisy", Metric::CpuUsPerReq).verdict, Verdict::Same);
    assert_eq!(
        row(&j, "faster", Metric::CpuUsPerReq).verdict,
        Verdict::Improvement
    );
    assert_eq!(j.candidates, vec!["slower".to_string()]);
}

#[test]
fn a_significant_change_under_the_threshold_passes() {
    let d = dir("small");
    let mut lines = String::new();
    timing(&d, &mut lines, "tiny", 1.01, 0.001, 10);
    let j = judge_file(&d, &lines);
    let tiny = row(&j, "tiny", Metric::CpuUsPerReq);
    assert!(tiny.p_holm.unwrap() < 0.001, "significant");
    assert_eq!(tiny.verdict, Verdict::Same, "but +1% is under the 2% threshold");
}

#[test]
fn the_confirmation_must_agree() {
    let d = dir("confirm");
    let mut first = String::new();
    timing(&d, &mut first, "slower", 1.05, 0.01, 10);
    let first_path = d.join("first.jsonl");
    std::fs::write(&first_path, &first).unwrap();
    let first = samples::read(&first_path).unwrap();
    for (factor, expected) in [(1.0, Verdict::NotConfirmed), (1.05, Verdict::Regression)] {
        let again_dir = dir(&format!("again-{factor}"));
        let mut lines = String::new();
        timing(&again_dir, &mut lines, "slower", factor, 0.01, 10);
        let again_path = again_dir.join("again.jsonl");
        std::fs::write(&again_path, &lines).unwrap();
        let again = samples::read(&again_path).unwrap();
        let j = verdict::judge(&first, Some(&again), THRESHOLDS).unwrap();
        assert_eq!(
            row(&j, "slower", Metric::CpuUsPerReq).verdict,
            expected,
            "re-run at {factor}"
        );
        assert_eq!(j.regressed(), expected == Verdict::Regression);
    }
}

#[test]
fn holm_adjusts_in_step_down_order() {
    let adjusted = holm(&[0.01, 0.04, 0.03, 0.005]);
    // Sorted 0.005, 0.01, 0.03, 0.04 -> x4, x3, x2, x1 with running maximum.
    let expected = [0.03, 0.06, 0.06, 0.02];
    for (a, e) in adjusted.iter().zip(expected) {
        assert!((a - e).abs() < 1e-12, "{adjusted:?}");
    }
    assert_eq!(holm(&[0.9, 0.8]), vec![1.0, 1.0], "capped at 1");
    // Two tests at p=0.03: each alone would fail at 5%, together neither does.
    assert!(holm(&[0.03, 0.03]).iter().all(|p| *p >= 0.05));
}

#[test]
fn t_distribution_matches_tables() {
    // Known quantiles: t(0.975; 1) = 12.706, t(0.975; 9) = 2.262, t(0.975; 30) = 2.042.
    for (df, q) in [(1.0, 12.706), (9.0, 2.262), (30.0, 2.042)] {
        assert!(
            (t_quantile(0.975, df) - q).abs() < 0.001,
            "df {df}: {}",
            t_quantile(0.975, df)
        );
    }
    assert!((two_sided_p(2.262, 9.0) - 0.05).abs() < 0.0005);
    assert!((two_sided_p(0.0, 5.0) - 1.0).abs() < 1e-12);
}

#[test]
fn the_paired_test_judges_ratios_not_levels() {
    // Rounds swing by 4x together; the ratio is 1.25 every round: exact.
    let together = log_paired(&[(1.0, 1.25), (2.0, 2.5), (4.0, 5.0)]).unwrap();
    assert!(
        (together.change - 0.25).abs() < 1e-12 && together.p < 1e-12,
        "{together:?}"
    );
    // Ratios 1.02, 0.98, 1.00: mean log ratio ~0, t ~0.
    let same = log_paired(&[(1.0, 1.02), (2.0, 1.96), (1.5, 1.5)]).unwrap();
    assert!(same.change.abs() < 1e-3 && same.p > 0.9, "{same:?}");
    assert_eq!(same.df, 2.0);
    assert!(same.low < 0.0 && same.high > 0.0);
    // Ratios 1.05, 1.06, 1.04, 1.05: t = mean/se with se from their spread.
    let d: Vec<f64> = [1.05f64, 1.06, 1.04, 1.05].iter().map(|r| r.ln()).collect();
    let mean = d.iter().sum::<f64>() / 4.0;
    let sd = (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 3.0).sqrt();
    let t = log_paired(&[(1.0, 1.05), (1.0, 1.06), (1.0, 1.04), (2.0, 2.1)]).unwrap();
    assert!((t.p - two_sided_p(mean / (sd / 2.0), 3.0)).abs() < 1e-12, "{t:?}");
    assert!(log_paired(&[(1.0, 1.0)]).is_none(), "one round is no variance");
    assert!(
        log_paired(&[(0.0, 1.0), (1.0, 2.0)]).is_none(),
        "a zero has no logarithm"
    );
}

fn gate_args(d: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["loadgen", "gate", "--samples"]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
    args.push(d.join("samples.jsonl").display().to_string());
    args.extend(["--out".to_string(), d.join("out").display().to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

#[test]
fn the_summary_table_json_and_bmf_say_what_was_judged() {
    let d = dir("render");
    let mut lines = String::new();
    exact_side(&d, &mut lines, "base", 2800, 0, 3);
    exact_side(&d, &mut lines, "head", 2800, 56, 3);
    timing(&d, &mut lines, "keepalive", 1.0, 0.01, 10);
    std::fs::write(d.join("samples.jsonl"), lines).unwrap();
    let gated = run(gate_args(
        &d,
        &["--base-label", "abc123", "--head-label", "working tree"],
    ))
    .unwrap_or_else(|_| panic!("judged"));
    assert!(gated.judgement.regressed());
    let md = std::fs::read_to_string(d.join("out/summary.md")).unwrap();
    assert_eq!(md, gated.markdown);
    assert!(md.starts_with("## Performance gate: 1 regression\n"), "{md}");
    assert!(md.contains("base `abc123` → head `working tree`"), "{md}");
    assert!(md.contains("| scenario | metric | base | head | delta | 95% CI | verdict | samples |"));
    assert!(
        md.contains("| keepalive | instructions/req | 2800.0 | 2856.0 | +2.00% | exact | **regression** | counts at 2000, 12000 requests |"),
        "{md}"
    );
    assert!(md.contains("| keepalive | syscalls/req | 3.000 | 3.000 | +0.00% | exact | ~ | counts at 2000, 12000 requests |"), "{md}");
    assert!(
        md.contains("| keepalive | target CPU-us/req | 4.000 | 4.000 | +0.00% | [-"),
        "{md}"
    );
    assert!(
        md.contains("| `???:server::extra` | 0.0 | 56.0 | +56.0 |"),
        "{md}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out/summary.json")).unwrap()).unwrap();
    assert_eq!(json["verdict"], "regression");
    assert_eq!(json["rows"][0]["metric"], "instructions_per_request");
    assert_eq!(json["rows"][0]["verdict"], "regression");
    let bmf: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out/bmf.json")).unwrap()).unwrap();
    assert_eq!(bmf["keepalive"]["instructions_per_request"]["value"], 2856.0);
    assert!(
        bmf["keepalive"]["cpu_us_per_request"]["lower_value"]
            .as_f64()
            .unwrap()
            < 4.0
    );
    assert_eq!(std::fs::read_to_string(d.join("out/candidates.txt")).unwrap(), "");
}

#[test]
fn measurements_that_cannot_be_judged_are_errors_not_passes() {
    let d = dir("broken");
    let unmeasured = |lines: &str| {
        std::fs::write(d.join("samples.jsonl"), lines).unwrap();
        match run(gate_args(&d, &[])) {
            Err(GateError::Unmeasured(message)) => message,
            Err(GateError::Usage(e)) => panic!("usage error {e:?}"),
            Ok(_) => panic!("judged {lines}"),
        }
    };
    assert!(unmeasured("").contains("no measurement"));
    let missing = unmeasured(
        r#"{"scenario":"k","side":"base","signal":"instructions","requests":10,"file":"nope.cg"}"#,
    );
    assert!(missing.contains("nope.cg"), "{missing}");
    // Errors in a timed round.
    let name = report(&d, "bad.json", 4.0, 1000.0, 3);
    let errors = unmeasured(&format!(
        r#"{{"scenario":"k","side":"base","signal":"timing","round":1,"report":"{name}"}}"#
    ));
    assert!(errors.contains("3 errors"), "{errors}");
    // One side only.
    let mut lines = String::new();
    exact_side(&d, &mut lines, "base", 2800, 0, 3);
    assert!(unmeasured(&lines).contains("one side only"));
    // Too few rounds.
    let mut lines = String::new();
    timing(&d, &mut lines, "k", 1.0, 0.01, 2);
    assert!(unmeasured(&lines).contains("at least 3 rounds"));
    // Rounds that do not pair: a round missing on one side, a round listed twice, no number.
    let mut lines = String::new();
    timing(&d, &mut lines, "k", 1.0, 0.01, 4);
    let last_head = lines.lines().last().unwrap().to_string();
    let unpaired = lines.replace(&format!("{last_head}\n"), "");
    let lone = unmeasured(&unpaired);
    assert!(lone.contains("round 3 was timed on one side only"), "{lone}");
    let twice = unmeasured(&format!("{lines}{last_head}\n"));
    assert!(twice.contains("round 3 of k is listed twice"), "{twice}");
    let unnumbered = unmeasured(&last_head.replace("\"round\":3,", ""));
    assert!(unnumbered.contains("no \"round\""), "{unnumbered}");
    assert!(unmeasured("{\"scenario\":\"k\",\"side\":\"left\"}").contains("base or head"));
}
