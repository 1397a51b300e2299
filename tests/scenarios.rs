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

/// Same seed, same trace: the whole corpus replayed twice under each of several seeds
/// gives byte-identical traces, and a seed-dependent scenario (completion routines run
/// in a seeded order) may differ only between seeds, never within one.
#[test]
fn the_same_seed_gives_the_same_trace_for_every_scenario() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let (files, _) = scenario::discover(&[root]);
    let scenarios: Vec<_> = files
        .iter()
        .filter_map(|f| scenario::load(f).ok())
        .collect();
    assert!(scenarios.len() >= 299, "only {} scenarios", scenarios.len());
    for seed in [0u64, 1, 7, 42, 0xDEAD_BEEF] {
        for sc in &scenarios {
            let opts = RunOptions {
                seed: Some(seed),
                trace: true,
            };
            let a = scenario::run_scenario(sc, opts);
            let b = scenario::run_scenario(sc, opts);
            assert_eq!(a.trace, b.trace, "{} differs under seed {seed}", a.file);
            assert!(!a.trace.is_empty(), "{} wrote no trace", a.file);
        }
    }
}
