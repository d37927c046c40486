//! `loadgen plot`: latency curves from real --hlog files and a bar chart, as well-formed SVG.

mod common;

use std::process::Command;

#[test]
fn curves_from_two_runs_and_a_ratio_bar_chart() {
    let server = common::ok_server();
    let dir = common::scratch_dir("plot");
    let run = |name: &str| {
        let hlog = dir.join(format!("{name}.hlog"));
        let out = Command::new(env!("CARGO_BIN_EXE_loadgen"))
            .args(["-t", "1", "-c", "2", "-d", "1100ms", "--no-progress", "--hlog"])
            .arg(&hlog)
            .arg(&server.url)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        hlog
    };
    let (a, b) = (run("a"), run("b"));
    let curves = dir.join("curves.svg");
    let out = Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args(["plot", "--title", "two runs", "--out"])
        .arg(&curves)
        .arg(format!("first={},{}", a.display(), b.display()))
        .arg(format!("second={}", b.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let texts = common::svg_texts(&curves);
    for label in ["two runs", "first", "second", "99%"] {
        assert!(texts.iter().any(|t| t == label), "{label} missing from {texts:?}");
    }

    let bars = dir.join("bars.svg");
    let out = Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args([
            "plot",
            "--bars",
            "--reference",
            "1",
            "--y-label",
            "rps ratio",
            "--out",
        ])
        .arg(&bars)
        .args(["json=1.74:1.60:1.88", "plaintext=1.07"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let texts = common::svg_texts(&bars);
    for label in ["json", "plaintext", "rps ratio"] {
        assert!(texts.iter().any(|t| t == label), "{label} missing from {texts:?}");
    }
}

#[test]
fn bad_items_are_usage_errors() {
    let dir = common::scratch_dir("plot-bad");
    for args in [
        vec!["plot", "--bars", "--out", "x.svg", "a=not-a-number"],
        vec!["plot", "--out", "x.svg", "no-equals-sign"],
        vec!["plot", "--out", "x.svg", "a=/nonexistent.hlog"],
        vec!["plot", "--out", "x.svg"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_loadgen"))
            .current_dir(&dir)
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr).lines().count(),
            1,
            "{args:?}"
        );
    }
}
