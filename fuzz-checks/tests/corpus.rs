//! Replays the committed fuzz corpus (`fuzz/corpus/TARGET/`, seeds and what long runs
//! found worth keeping) through each target's checks, so `cargo test` holds every input
//! the fuzzer ever kept to the invariants.

use std::path::Path;

#[test]
fn every_corpus_input_holds_its_targets_invariants() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    for (name, check) in fuzz_checks::TARGETS {
        let dir = root.join(name);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let mut count = 0;
        for entry in entries {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let result = std::panic::catch_unwind(|| check(&data));
            assert!(result.is_ok(), "{name}: {} breaks an invariant", path.display());
            count += 1;
        }
        assert!(count > 0, "{name}: empty corpus");
    }
}
