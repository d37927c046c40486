//! The extra report files from one real open-loop run: the interval log reads back with
//! the hdrhistogram crate and adds up to the report exactly, the JSON's own histograms
//! decode to its percentiles, the BMF file has Bencher's
//! shape and the report's numbers, the SVG is well-formed XML with both series.

mod common;

use std::process::Command;

use base64::Engine;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use serde_json::Value;

#[test]
fn hlog_bmf_and_svg_from_one_open_loop_run() {
    let server = common::ok_server();
    let dir = common::scratch_dir("outputs");
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let (json, hlog, bmf, svg) = (path("r.json"), path("r.hlog"), path("r.bmf"), path("r.svg"));
    let out = Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args([
            "-t", "1", "-c", "4", "-d", "2100ms", "-R", "500", "--warmup", "300ms",
        ])
        .args(["--json", &json, "--hlog", &hlog, "--bmf", &bmf, "--svg", &svg])
        .arg(&server.url)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let requests = report["requests"].as_u64().unwrap();
    assert!(requests > 900, "{requests}");

    // Interval log: headers, one interval per second (3: 2 full seconds and the tail),
    // counts adding up to the report's requests exactly.
    let log = std::fs::read(&hlog).unwrap();
    let text = String::from_utf8_lossy(&log);
    assert!(
        text.contains("#[StartTime: ") && text.contains("#[BaseTime: "),
        "{text}"
    );
    let mut deserializer = Deserializer::new();
    let (mut total, mut starts) = (0, Vec::new());
    for entry in IntervalLogIterator::new(&log) {
        let Ok(LogEntry::Interval(interval)) = entry else {
            continue;
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(interval.encoded_histogram())
            .unwrap();
        let h: Histogram<u64> = deserializer.deserialize(&mut &bytes[..]).unwrap();
        total += h.len();
        starts.push(interval.start_timestamp().as_secs_f64());
        assert!(interval.duration().as_secs_f64() <= 1.0);
    }
    assert_eq!(total, requests);
    assert_eq!(starts, vec![0.0, 1.0, 2.0]);

    // The timeline: the same three seconds (without --hlog too), adding up to the report's
    // responses and sends exactly, with the schedule's rate offered in each.
    let timeline = report["timeline"].as_array().unwrap();
    let field = |key: &str| -> Vec<f64> { timeline.iter().map(|s| s[key].as_f64().unwrap()).collect() };
    assert_eq!(field("t"), vec![0.0, 1.0, 2.0]);
    assert_eq!(field("offered_rps"), vec![500.0; 3]);
    assert_eq!(field("errors"), vec![0.0; 3]);
    let total = |key: &str| -> u64 {
        timeline
            .iter()
            .map(|s| (s[key].as_f64().unwrap() * s["length_s"].as_f64().unwrap()).round() as u64)
            .sum()
    };
    assert_eq!(total("rps"), requests);
    assert_eq!(total("sent_rps"), report["sent"].as_u64().unwrap());
    let (first, p50s) = (&timeline[0], field("p50_us"));
    assert!(
        (480.0..=520.0).contains(&first["rps"].as_f64().unwrap()),
        "{first}"
    );
    assert!(
        p50s.iter()
            .all(|p| *p > 0.0 && *p < report["latency_us"]["max"].as_f64().unwrap() + 1.0)
    );

    // The report carries its histograms losslessly: decoded, they are the report's figures.
    let encoded = &report["histograms"];
    assert_eq!(encoded["encoding"], "hdrhistogram-v2-deflate-base64");
    let decode = |key: &str| loadgen::report::histograms::decode(encoded[key].as_str().unwrap()).unwrap();
    let (response, service, connect) = (decode("response"), decode("service"), decode("connect"));
    assert_eq!((response.len(), service.len()), (requests, requests));
    let us = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1_000.0;
    assert_eq!(us(&response, 0.99), report["latency_us"]["p99"].as_f64().unwrap());
    assert_eq!(
        us(&service, 0.5),
        report["service_time_us"]["p50"].as_f64().unwrap()
    );
    assert_eq!(connect.len(), report["connections_opened"].as_u64().unwrap());

    // BMF: Bencher's built-in measures, from the report's own figures.
    let bmf: Value = serde_json::from_str(&std::fs::read_to_string(&bmf).unwrap()).unwrap();
    let bench = &bmf["GET /test"];
    let latency = &report["latency_us"];
    let ns = |key: &str| (latency[key].as_f64().unwrap() * 1_000.0).round();
    assert_eq!(bmf.as_object().unwrap().len(), 1);
    assert_eq!(bench["latency"]["value"].as_f64(), Some(ns("p50")));
    assert_eq!(bench["latency"]["lower_value"].as_f64(), Some(ns("min")));
    assert_eq!(bench["latency"]["upper_value"].as_f64(), Some(ns("p99")));
    assert_eq!(bench["throughput"]["value"], report["rps"]);

    // SVG: well-formed, with a line and legend entry per series.
    let svg = std::fs::read_to_string(&svg).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let texts: Vec<String> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text().map(|t| t.trim().to_string()))
        .collect();
    for label in ["response time", "service time", "50%", "99.999%", "Latency (ms)"] {
        assert!(texts.iter().any(|t| t == label), "{label} in {texts:?}");
    }
    assert!(
        texts
            .iter()
            .any(|t| t.contains(&server.url) && t.contains("req/s"))
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bmf_name_overrides_the_default() {
    let server = common::ok_server();
    let dir = common::scratch_dir("bmf");
    let bmf = dir.join("b.json");
    let out = Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args([
            "-t",
            "1",
            "-c",
            "2",
            "-n",
            "50",
            "--bmf-name",
            "hello plaintext",
            "--bmf",
        ])
        .arg(&bmf)
        .arg(&server.url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&bmf).unwrap()).unwrap();
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["hello plaintext"]);
    assert!(json["hello plaintext"]["throughput"]["value"].as_f64().unwrap() > 0.0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_chart_takes_any_number_of_named_histograms() {
    let mut a = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
    let mut b = a.clone();
    for us in 1..=2_000u64 {
        a.record(us * 1_000).unwrap();
        b.record(us * 1_500).unwrap();
    }
    let empty = Histogram::<u64>::new(3).unwrap();
    let series = [("ours", &a), ("nginx", &b), ("empty", &empty)]
        .map(|(name, histogram)| loadgen::report::svg::Series { name, histogram });
    let svg = loadgen::report::svg::render("ours vs nginx", &series).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let texts: Vec<&str> = doc
        .descendants()
        .filter_map(|n| n.text())
        .map(str::trim)
        .collect();
    for label in ["ours vs nginx", "ours", "nginx", "empty"] {
        assert!(texts.contains(&label), "{label}");
    }
}
