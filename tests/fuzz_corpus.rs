//! Replays every cargo-fuzz corpus file through its target on stable Rust, so CI
//! exercises the corpora without nightly. Every corpus directory must belong to
//! a registered target, and every target must have a non-empty corpus.

use std::fs;
use std::path::Path;

#[test]
fn every_corpus_file_replays_without_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let mut replayed = 0usize;
    for (name, target) in oma_im::fuzzing::TARGETS {
        let dir = root.join(name);
        let mut files = 0usize;
        for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("corpus of {name}: {e}")) {
            let path = entry.expect("corpus entry").path();
            if path.is_file() {
                let data = fs::read(&path).expect("corpus file");
                target(&data);
                files += 1;
            }
        }
        assert!(files > 0, "fuzz target {name} has an empty corpus");
        replayed += files;
    }
    for entry in fs::read_dir(&root).expect("fuzz/corpus") {
        let name = entry.expect("entry").file_name();
        let name = name.to_string_lossy();
        assert!(
            oma_im::fuzzing::TARGETS.iter().any(|(n, _)| *n == name),
            "corpus directory {name} has no registered target"
        );
    }
    println!("replayed {replayed} corpus files");
}

#[test]
fn every_target_has_a_cargo_fuzz_binary() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let manifest = fs::read_to_string(root.join("Cargo.toml")).expect("fuzz/Cargo.toml");
    // The table as written: `("<name>", <module>::<function>),`.
    let table =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/fuzzing/mod.rs"))
            .expect("src/fuzzing/mod.rs");
    for (name, _) in oma_im::fuzzing::TARGETS {
        let entry = table
            .lines()
            .find_map(|line| line.trim().strip_prefix(&format!("(\"{name}\", ")))
            .and_then(|rest| rest.strip_suffix("),"))
            .unwrap_or_else(|| panic!("no TARGETS entry written for {name}"));
        let file = root.join("fuzz_targets").join(format!("{name}.rs"));
        let src = fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        // Called directly, not through `run`: the binary then links only
        // its own target's code, and libFuzzer scans only its counters.
        assert!(
            src.contains(&format!("oma_im::fuzzing::{entry}(data)")),
            "{} does not call its registered entry point {entry}",
            file.display()
        );
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "fuzz/Cargo.toml has no [[bin]] for {name}"
        );
    }
}
