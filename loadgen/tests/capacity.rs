//! `loadgen capacity` against targets whose capacity is known by construction. (The
//! generator-limited case is in capacity_generator.rs: it loads both cores, and test
//! binaries run one at a time, so it cannot disturb these.)

mod common;

use std::time::Duration;

use common::fixed_cost;
use loadgen::Config;
use loadgen::assert::Assertion;
use loadgen::capacity::search::{LimitedBy, Verdict};
use loadgen::capacity::{self, Settings};

fn settings(url: &str, slos: &[&str]) -> Settings {
    let mut config = Config::new(url);
    (config.threads, config.connections) = (1, 32);
    let slos = slos.iter().map(|s| Assertion::parse(s).unwrap()).collect();
    Settings {
        step_duration: Duration::from_millis(500),
        step_warmup: Duration::from_millis(200),
        ..Settings::new(config, slos)
    }
}

#[test]
fn finds_the_capacity_of_a_one_request_at_a_time_target() {
    // 2 ms per request on one worker: 500 req/s, and nothing queues below that. Past it
    // the queue grows by the excess: at 3% over, 20 ms of queue within the step's 0.7 s.
    // p90, not p99: the first steps have few samples, and one scheduling hiccup on a busy
    // machine must not fail a step. (scripts/capacity-truth.sh measures the accuracy.)
    let addr = fixed_cost::start("127.0.0.1:0", Duration::from_millis(2));
    let settings = settings(&format!("http://{addr}/"), &["p90<20ms", "errors==0"]);
    let outcome = capacity::run(&settings, |_| {}).unwrap();
    let found = outcome.max_rate().unwrap_or_else(|| panic!("{outcome:#?}"));
    assert!(
        (425.0..=520.0).contains(&found),
        "found {found} req/s: {:#?}",
        outcome.steps
    );
    assert_eq!(outcome.found.limited_by, LimitedBy::Slo, "{outcome:#?}");
    assert!(outcome.found.converged);
    let fail = outcome.found.fail.unwrap();
    assert!(fail / found - 1.0 <= 0.02, "{found}..{fail}");
    // The default start: a tenth of the closed-loop probe, which saturates the worker.
    let probe = outcome.probe_rps.unwrap();
    assert!((450.0..=550.0).contains(&probe), "probe {probe}");
    assert!(outcome.steps.len() <= 12, "{} steps", outcome.steps.len());
    for step in &outcome.steps {
        assert_eq!(step.pass, step.rate <= found, "{step:?}");
        // The target's queue is never loadgen's fault: a step is loadgen-limited only on
        // loadgen's own evidence (its timer late at the median, as when another process
        // takes the CPU on a shared machine, or a busy thread), never from a shortfall
        // while the target broke the SLO.
        let own_evidence = step.generator_lag_p50_us > 1_000.0 || step.busiest_thread_cpu_pct >= 50.0;
        assert!(step.verdict != Verdict::Generator || own_evidence, "{step:?}");
    }
}

#[test]
fn an_slo_that_fails_at_the_start_rate_exits_3_with_the_table() {
    let addr = fixed_cost::start("127.0.0.1:0", Duration::from_millis(1));
    let out = common::loadgen(&[
        "capacity",
        "-t1",
        "-c8",
        "--slo",
        "p99<4ms",
        "--start-rate",
        "2000",
        "--step-duration",
        "500ms",
        "--step-warmup",
        "100ms",
        &format!("http://{addr}/"),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("SLO: p99<4ms, error_rate<1% (default)"),
        "{stdout}"
    );
    let row = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("1 "))
        .unwrap_or_else(|| panic!("no step row: {stdout}"));
    assert!(row.contains("2000") && row.ends_with("FAIL"), "{row}");
    assert!(
        stdout.contains(
            "No capacity at p99<4ms, error_rate<1% (default): even the start rate 2000 req/s fails"
        ),
        "{stdout}"
    );
}

#[test]
fn bad_slo_and_search_flags_are_usage_errors_naming_the_flag() {
    for (args, flag) in [
        (&["--slo", "p99<4"][..], "--slo"),
        (&["--slo", "nonsense"], "--slo"),
        (&["--slo", "p99<4ms", "--precision", "200%"], "--precision"),
        (&["--slo", "p99<4ms", "--max-steps", "0"], "--max-steps"),
    ] {
        let mut all = vec!["capacity"];
        all.extend_from_slice(args);
        all.push("http://127.0.0.1:1/");
        let out = common::loadgen(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
    }
}

#[test]
fn json_svg_and_a_chart_of_two_searches() {
    let addr = fixed_cost::start("127.0.0.1:0", Duration::from_millis(2));
    let dir = common::scratch_dir("capacity");
    let (json, svg) = (dir.join("cap.json"), dir.join("cap.svg"));
    let out = common::loadgen(&[
        "capacity",
        "-t1",
        "-c8",
        "--slo",
        "p99<20ms",
        "--start-rate",
        "100",
        "--max-rate",
        "200",
        "--step-duration",
        "300ms",
        "--step-warmup",
        "100ms",
        "--json",
        json.to_str().unwrap(),
        "--svg",
        svg.to_str().unwrap(),
        &format!("http://{addr}/"),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(
            "Capacity at p99<20ms, error_rate<1% (default): at least 200 req/s (--max-rate reached)"
        ),
        "{stdout}"
    );
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["max_rate"], 200.0);
    assert_eq!(doc["limited_by"], "max_rate");
    assert_eq!(doc["precision"], 0.02);
    assert_eq!(doc["slo"], serde_json::json!(["p99<20ms", "error_rate<1%"]));
    let steps = doc["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    for (step, rate) in steps.iter().zip([100.0, 200.0]) {
        assert_eq!(step["rate"], rate);
        assert_eq!(step["pass"], true);
        assert_eq!(step["errors"], 0);
        let achieved = step["achieved_rps"].as_f64().unwrap();
        assert!((achieved - rate).abs() <= rate * 0.01 + 4.0, "{step}");
        for key in ["p50", "p90", "p99", "p99_9", "max"] {
            assert!(
                step["latency_us"][key].as_f64().unwrap() >= 2_000.0,
                "{key}: {step}"
            );
        }
    }
    let texts = common::svg_texts(&svg);
    assert!(texts.iter().any(|t| t == "capacity 200 req/s"), "{texts:?}");
    assert!(texts.iter().any(|t| t == "SLO p99<20ms"), "{texts:?}");
    // Two searches on one chart, each with its capacity.
    let both = dir.join("both.svg");
    let out = common::loadgen(&[
        "plot",
        "--capacity",
        "--out",
        both.to_str().unwrap(),
        &format!("ours={}", json.display()),
        &format!("theirs={}", json.display()),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let texts = common::svg_texts(&both);
    for label in [
        "ours p99",
        "theirs p99.9",
        "ours capacity 200 req/s",
        "SLO p99<20ms",
    ] {
        assert!(texts.iter().any(|t| t == label), "{label}: {texts:?}");
    }
    let bad = common::loadgen(&[
        "plot",
        "--capacity",
        "--out",
        both.to_str().unwrap(),
        &format!("x={}", svg.display()),
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not a loadgen capacity --json file"));
}
