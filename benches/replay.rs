//! Replay speed: 10,000 generated scenarios of 20 steps, parsed from YAML text and
//! replayed, single-threaded and on two threads (the CLI's way).

use criterion::{criterion_group, criterion_main, Criterion};
use wsasim::scenario::{parse_scenario, run_scenario, RunOptions};

fn scenario_text(i: usize) -> String {
    let mut s = format!(
        "name: generated {i}\nseed: {i}\nsteps:\n  - socket: s\n  - socket: u\n    type: dgram\n"
    );
    for k in 0..8 {
        s.push_str(&format!(
            "  - ioctl: s\n    code: 0x{:08X}\n    in: {{ u32: {k} }}\n    out_len: 16\n    expect: {{ result: -1, error: WSAEOPNOTSUPP, bytes_returned: 0, out_untouched: true }}\n",
            0xDEAD_0000u32 + k as u32
        ));
        s.push_str("  - ioctl: u\n    code: FIOASYNC\n    bytes_returned: null\n    expect: { result: SOCKET_ERROR, error: WSAEFAULT, bytes_returned: untouched }\n");
    }
    s.push_str("  - close: s\n  - close: u\n");
    s
}

fn replay_all(texts: &[String]) -> usize {
    texts
        .iter()
        .map(|t| {
            let sc = parse_scenario("gen.yaml", t).expect("generated scenarios parse");
            assert_eq!(sc.steps.len(), 20);
            usize::from(run_scenario(&sc, RunOptions::default()).passed())
        })
        .sum()
}

fn bench(c: &mut Criterion) {
    let texts: Vec<String> = (0..10_000).map(scenario_text).collect();
    assert_eq!(replay_all(&texts[..10]), 10, "generated scenarios pass");
    let mut g = c.benchmark_group("replay");
    g.sample_size(10);
    g.bench_function("10000 scenarios x 20 steps, 1 thread", |b| {
        b.iter(|| replay_all(&texts))
    });
    g.bench_function("10000 scenarios x 20 steps, 2 threads", |b| {
        b.iter(|| {
            let (a, z) = texts.split_at(texts.len() / 2);
            std::thread::scope(|s| {
                let h = s.spawn(|| replay_all(a));
                replay_all(z) + h.join().expect("worker")
            })
        })
    });
    // The corpus as `wsasim run` finds it; a file that does not parse stops the bench
    // rather than shrink it.
    let (files, errors) = wsasim::scenario::discover(&[std::path::PathBuf::from("scenarios")]);
    assert!(errors.is_empty(), "{errors:?}");
    let corpus: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).expect("a corpus file reads"))
        .collect();
    g.bench_function("the scenarios/ corpus", |b| {
        b.iter(|| replay_corpus(&corpus))
    });
    g.finish();
}

fn replay_corpus(texts: &[String]) -> usize {
    texts
        .iter()
        .map(|t| {
            let sc = parse_scenario("corpus.yaml", t).expect("corpus scenarios parse");
            usize::from(run_scenario(&sc, RunOptions::default()).passed())
        })
        .sum()
}

criterion_group!(benches, bench);
criterion_main!(benches);
