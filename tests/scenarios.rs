//! The scenario corpus: every `scenarios/**/*.yaml` must parse and pass, and replay
//! must be deterministic.

use std::path::PathBuf;

use wsasim::scenario::{self, report, RunOptions};

#[test]
fn every_scenario_in_the_corpus_passes() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let (files, errors) = scenario::discover(&[root]);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(!files.is_empty(), "the corpus is empty");
    let mut failures = String::new();
    for f in &files {
        match scenario::load(f) {
            Err(e) => failures.push_str(&format!("{e}\n")),
            Ok(sc) => {
                let r = scenario::check_determinism(&sc, RunOptions::default());
                if !r.passed() {
                    failures.push_str(&format!("FAIL {}\n{}", r.name, report::human_failure(&r)));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures}");
}
