//! `loadgen capacity` against targets whose capacity is known by construction.

mod common;

use std::time::Duration;

use common::fixed_cost;
use loadgen::Config;
use loadgen::assert::Assertion;
use loadgen::capacity::search::{LimitedBy, Verdict};
use loadgen::capacity::{self, Settings};

fn settings(url: &str, slos: &[&str]) -> Settings {
    let mut config = Config::new(url);
    (config.threads, config.connections) = (1, 16);
    Settings {
        config,
        slos: slos.iter().map(|s| Assertion::parse(s).unwrap()).collect(),
        default_slos: 0,
        start_rate: None,
        precision: 0.02,
        max_steps: 20,
        step_duration: Duration::from_millis(500),
        step_warmup: Duration::from_millis(200),
        max_rate: None,
    }
}

#[test]
fn finds_the_capacity_of_a_one_request_at_a_time_target() {
    // 2 ms per request on one worker: 500 req/s, and nothing queues below that. Past it
    // the queue grows by the excess: at 1.2% over, 10 ms of queue within the step's 0.7 s.
    let addr = fixed_cost::start("127.0.0.1:0", Duration::from_millis(2));
    let settings = settings(&format!("http://{addr}/"), &["p99<10ms", "errors==0"]);
    let outcome = capacity::run(&settings, |_| {}).unwrap();
    let found = outcome.max_rate().unwrap_or_else(|| panic!("{outcome:#?}"));
    assert!(
        (475.0..=510.0).contains(&found),
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
        assert_ne!(step.verdict, Verdict::Generator, "{step:?}");
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
fn a_target_faster_than_the_generator_is_limited_by_the_generator() {
    // Our own server with two workers against one loadgen thread asked for 2M req/s: the
    // thread is never idle and falls behind, so nothing may be said about the server.
    let server = server::start(server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        workers: 2,
        ..Default::default()
    })
    .expect("server starts");
    let mut settings = settings(&format!("http://{}/plaintext", server.addr()), &["p99<50ms"]);
    settings.start_rate = Some(2_000_000.0);
    settings.step_duration = Duration::from_millis(300);
    settings.step_warmup = Duration::from_millis(100);
    let outcome = capacity::run(&settings, |_| {}).unwrap();
    assert_eq!(outcome.found.limited_by, LimitedBy::Generator, "{outcome:#?}");
    assert_eq!((outcome.max_rate(), outcome.steps.len()), (None, 1));
    let step = &outcome.steps[0];
    assert_eq!(step.verdict, Verdict::Generator);
    assert!(step.achieved_rps < 1_000_000.0, "{step:?}");
    let headline = capacity::render::headline(&settings, &outcome);
    assert!(
        headline.starts_with(&format!(
            "loadgen saturated at {:.0} req/s on 1 thread; capacity is above that",
            step.achieved_rps
        )),
        "{headline}"
    );
}
