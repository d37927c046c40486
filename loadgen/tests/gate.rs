//! scripts/perf-gate.sh end to end in exact mode, on another project's server: a tiny C
//! server in a throwaway git repository, at two commits that differ only by a fixed extra
//! loop per request. The gate must fail the slower head (exit 3), pass the same build
//! against itself (exit 0), and call a build that fails "could not measure" (exit 1).
//! Needs git, cc, valgrind and strace: skipped without them, except under CI.

use std::path::{Path, PathBuf};
use std::process::Command;

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn git(repo: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args([
            "-c",
            "user.name=gate",
            "-c",
            "user.email=gate@localhost",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(repo)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
}

/// A repository with the tiny server at two commits: HEAD~1 plain, HEAD with 2000 extra
/// loop iterations per request.
fn tiny_repo() -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/gate_fixture/tiny_server.c");
    std::fs::copy(source, repo.path().join("tiny_server.c")).unwrap();
    git(repo.path(), &["init", "-q"]);
    for (cflags, message) in [("", "plain"), ("-DEXTRA_WORK=2000", "slower")] {
        std::fs::write(repo.path().join("cflags"), cflags).unwrap();
        git(repo.path(), &["add", "."]);
        git(repo.path(), &["commit", "-q", "-m", message]);
    }
    repo
}

struct Gate {
    code: Option<i32>,
    summary: String,
    stderr: String,
}

fn perf_gate(repo: &Path, base: &str, head: &str, build: &str) -> Gate {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/perf-gate.sh");
    let out = repo.join("gate-out");
    let output = Command::new("bash")
        .arg(script)
        .args([
            "--base",
            base,
            "--head",
            head,
            "--mode",
            "exact",
            "--requests",
            "200,1200",
        ])
        .args(["--build", build, "--server", "./tiny_server {port}"])
        .args([
            "--scenario",
            "root=http://127.0.0.1:{port}/",
            "--loadgen",
            env!("CARGO_BIN_EXE_loadgen"),
        ])
        .arg("--out")
        .arg(&out)
        .env_remove("GITHUB_STEP_SUMMARY")
        .current_dir(repo)
        .output()
        .unwrap();
    Gate {
        code: output.status.code(),
        summary: std::fs::read_to_string(out.join("summary.md")).unwrap_or_default(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

const BUILD: &str = "cc -O2 $(cat cflags) -o tiny_server tiny_server.c";

#[test]
fn exact_mode_fails_a_known_injected_cost_and_passes_none() {
    let missing: Vec<&str> = ["git", "cc", "valgrind", "strace", "callgrind_annotate"]
        .into_iter()
        .filter(|t| !have(t))
        .collect();
    if !missing.is_empty() {
        assert!(std::env::var_os("CI").is_none(), "CI must have {missing:?}");
        eprintln!("skipped: {missing:?} not installed");
        return;
    }
    let repo = tiny_repo();

    let slower = perf_gate(repo.path(), "HEAD~1", "HEAD", BUILD);
    assert_eq!(slower.code, Some(3), "{}\n{}", slower.summary, slower.stderr);
    let row = slower
        .summary
        .lines()
        .find(|l| l.starts_with("| root | instructions/req |"))
        .unwrap_or_else(|| panic!("{}", slower.summary));
    assert!(row.contains("**regression**"), "{row}");
    // The same commit on both sides: nothing to report.
    let same = perf_gate(repo.path(), "HEAD~1", "HEAD~1", BUILD);
    assert_eq!(same.code, Some(0), "{}\n{}", same.summary, same.stderr);
    assert!(
        same.summary.contains("## Performance gate: no regression"),
        "{}",
        same.summary
    );
    // A build that fails is a measurement that could not be made, never a pass.
    let broken = perf_gate(repo.path(), "HEAD~1", "HEAD", "cc -o tiny_server no_such_file.c");
    assert_eq!(broken.code, Some(1), "{}", broken.stderr);
    assert!(broken.stderr.contains("failed to build"), "{}", broken.stderr);
}
