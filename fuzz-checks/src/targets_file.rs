//! loadgen's `--targets` parser: whatever it accepts, written back out, reads the same.

use loadgen::mix::{self, TargetSpec};
use std::path::Path;

/// `@FILE` bodies resolve here, so they fail: the check is about the text.
const NO_DIR: &str = "/nonexistent-fuzz-checks-dir";

pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(specs) = mix::parse(text, Path::new(NO_DIR)) else {
        return;
    };
    assert!(!specs.is_empty());
    let rendered = render(&specs);
    let again = mix::parse(&rendered, Path::new(NO_DIR))
        .unwrap_or_else(|e| panic!("rendered targets do not parse: {e}\n{rendered}"));
    let strip = |s: &[TargetSpec]| -> Vec<TargetSpec> {
        s.iter().map(|t| TargetSpec { line: 0, ..t.clone() }).collect()
    };
    assert_eq!(strip(&specs), strip(&again), "{rendered}");
}

fn render(specs: &[TargetSpec]) -> String {
    let mut out = String::new();
    for t in specs {
        out.push_str(&format!("{} {} weight={}", t.method, t.url, t.weight));
        // A name with a space is the default one (method and path); it is derived again.
        if !t.name.contains(char::is_whitespace) {
            out.push_str(&format!(" name={}", t.name));
        }
        out.push('\n');
        for (name, value) in &t.headers {
            out.push_str(&format!("{name}: {value}\n"));
        }
        if !t.body.is_empty() {
            for line in String::from_utf8_lossy(&t.body).split('\n') {
                out.push_str(&format!("< {line}\n"));
            }
        }
        out.push('\n');
    }
    out
}
