use super::*;
use crate::significance::XorShift;
use serde_json::{Value, json};

/// A report of `seconds` full seconds at about `rps` (±2% per second, a fixed seed),
/// p50 100 us and p99 `p99` us, `errors` failed requests in its first second.
fn report(seed: u64, seconds: u64, rps: f64, p99: f64, errors: u64) -> Value {
    let mut rng = XorShift(seed);
    let timeline: Vec<Value> = (0..seconds)
        .map(|t| {
            let jitter = 1.0 + 0.04 * (rng.unit() - 0.5);
            json!({"t": t, "length_s": 1.0, "rps": rps * jitter, "sent_rps": rps * jitter,
                   "errors": if t == 0 { errors } else { 0 }, "p50_us": 100.0 * jitter, "p99_us": p99 * jitter})
        })
        .collect();
    json!({
        "url": "http://127.0.0.1:8080/plaintext", "method": "GET", "mode": "closed",
        "connections": 64, "pipeline": 1, "rps": rps, "requests": 1000,
        "errors": {"connect": 0, "read": errors, "write": 0, "timeout": 0, "parse": 0},
        "latency_us": {"p50": 100.0, "p99": p99, "p99_9": 900.0},
        "timeline": timeline,
    })
}

fn side(reports: Vec<Value>) -> Side {
    let files = (0..reports.len())
        .map(|i| PathBuf::from(format!("r{i}.json")))
        .collect();
    Side { files, reports }
}

fn runs(first_seed: u64, n: u64, rps: f64, p99: f64, errors: u64) -> Side {
    side(
        (0..n)
            .map(|i| report(first_seed + i, 5, rps, p99, errors))
            .collect(),
    )
}

fn band(band_pct: f64) -> How {
    How {
        band_pct,
        paired: false,
    }
}

fn verdicts(c: &Comparison) -> Vec<(&str, Verdict, bool)> {
    c.rows
        .iter()
        .map(|r| (r.name.as_str(), r.verdict, r.fails))
        .collect()
}

#[test]
fn identical_reports_show_no_significant_change() {
    let a = runs(1, 3, 100_000.0, 500.0, 0);
    let c = compare(&a, &a, &[], band(5.0)).unwrap();
    assert_eq!(
        verdicts(&c),
        vec![
            ("rps", Verdict::Same, false),
            ("p50", Verdict::Same, false),
            ("p99", Verdict::Same, false),
            ("errors", Verdict::Same, false),
        ]
    );
    assert!(!c.regressed());
    assert!(
        c.render()
            .contains("no metric significantly worse by more than 5%")
    );
}

#[test]
fn a_slower_build_is_worse_and_fails_only_past_the_band() {
    let base = runs(10, 3, 100_000.0, 500.0, 0);
    let new = runs(20, 3, 90_000.0, 600.0, 0);
    let c = compare(&base, &new, &[], band(5.0)).unwrap();
    assert_eq!(
        verdicts(&c),
        vec![
            ("rps", Verdict::Worse, true),
            ("p50", Verdict::Same, false),
            ("p99", Verdict::Worse, true),
            ("errors", Verdict::Same, false),
        ]
    );
    let rps = &c.rows[0];
    let Outcome::Estimate(e) = rps.outcome else {
        panic!()
    };
    assert!(e.low < -0.09 && e.high > -0.11 && e.high < 0.0, "{e:?}");
    assert_eq!(
        (rps.unit, rps.runs, rps.samples),
        (Unit::Seconds, (3, 3), (15, 15))
    );
    assert!(c.regressed());
    // Significant, but smaller than the band: reported, not failed.
    let c = compare(&base, &new, &["rps".into()], band(25.0)).unwrap();
    assert_eq!(verdicts(&c), vec![("rps", Verdict::Worse, false)]);
    assert!(!c.regressed());
    // The other way round it is better.
    let c = compare(&new, &base, &["rps".into(), "p99".into()], band(5.0)).unwrap();
    assert_eq!(
        verdicts(&c),
        vec![("rps", Verdict::Better, false), ("p99", Verdict::Better, false)]
    );
}

#[test]
fn errors_from_none_fail_whatever_the_band() {
    let base = side(vec![report(1, 6, 1_000.0, 500.0, 0)]);
    let new = side(vec![report(1, 6, 1_000.0, 500.0, 0)]);
    let mut bad = new.reports[0].clone();
    for second in bad["timeline"].as_array_mut().unwrap() {
        second["errors"] = json!(3);
    }
    let c = compare(&base, &side(vec![bad]), &["errors".into()], band(50.0)).unwrap();
    assert_eq!(verdicts(&c), vec![("errors", Verdict::Worse, true)]);
    assert!(c.render().contains("+3.00/s"), "{}", c.render());
}

#[test]
fn too_few_samples_get_an_explicit_verdict() {
    let short = |seed| side(vec![report(seed, 3, 1_000.0, 500.0, 0)]);
    let c = compare(&short(1), &short(2), &["rps".into(), "p99.9".into()], band(5.0)).unwrap();
    assert_eq!(
        verdicts(&c),
        vec![
            ("rps", Verdict::NotEnoughSamples, false),
            ("p99.9", Verdict::NotEnoughSamples, false)
        ]
    );
    let text = c.render();
    assert!(text.contains("not enough samples"), "{text}");
    assert!(
        text.contains("needs 3 runs or 5 s a side, has 1/1 runs, 3/3 s"),
        "{text}"
    );
    let json: Value = serde_json::from_str(&render::json(&c)).unwrap();
    assert_eq!(json["metrics"][0]["verdict"], "not enough samples");
    assert!(json["metrics"][0].get("ci_low").is_none());
}

#[test]
fn reports_of_different_targets_are_refused() {
    let base = runs(1, 1, 1_000.0, 500.0, 0);
    let mut other = base.reports[0].clone();
    other["url"] = json!("http://127.0.0.1:9090/json");
    let err = compare(&base, &side(vec![other]), &[], band(5.0)).unwrap_err();
    assert!(
        err.contains("different targets") && err.contains("/json"),
        "{err}"
    );
}

#[test]
fn json_output_names_the_test_and_the_counts() {
    let base = runs(1, 3, 1_000.0, 500.0, 0);
    let new = runs(7, 3, 1_000.0, 500.0, 0);
    let c = compare(&base, &new, &["rps".into()], band(5.0)).unwrap();
    let json: Value = serde_json::from_str(&render::json(&c)).unwrap();
    let rps = &json["metrics"][0];
    assert_eq!(rps["test"], "welch-t-run-means");
    assert_eq!(rps["change_unit"], "%");
    assert_eq!(
        (rps["samples"]["base"].as_u64(), rps["runs"]["new"].as_u64()),
        (Some(15), Some(3))
    );
    assert!(rps["ci_low"].as_f64().unwrap() < rps["change"].as_f64().unwrap());
    assert_eq!(
        (json["regressed"].as_bool(), json["confidence"].as_f64()),
        (Some(false), Some(0.95))
    );
}

#[test]
fn unknown_or_missing_metrics_and_bad_bands_are_refused() {
    let base = runs(1, 1, 1.0, 1.0, 0);
    assert!(
        compare(&base, &base, &["p42x".into()], band(5.0))
            .unwrap_err()
            .contains("--metric")
    );
    assert!(compare(&base, &base, &["service_p99".into()], band(5.0)).is_err());
    assert_eq!(parse_band("2.5%"), Ok(2.5));
    assert_eq!(parse_band("10"), Ok(10.0));
    assert!(parse_band("-1%").is_err() && parse_band("lots").is_err());
}
