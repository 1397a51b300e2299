//! `wsasim`: replay scenarios, print traces, decode control codes.
//!
//! ```text
//! wsasim run [PATH...] [--format human|json|junit] [--filter TEXT] [--trace FILE]
//!            [--check-determinism] [--seed N]
//! wsasim trace SCENARIO [--seed N]
//! wsasim diff [PATH...] [--divergences FILE]     (Windows, --features winsock)
//! wsasim decode <number|name>
//! wsasim codes
//! ```
//! Exit codes: 0 every scenario passed; 1 an expectation failed; 2 a file could not be
//! read or parsed (or the command line was wrong). For `diff`: 0 no unexplained
//! divergence and no stale entry; 1 otherwise; 2 as for `run`, or no real backend.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use wsasim::codes::{IoctlCode, CODES};
use wsasim::scenario::report::{self, Timed};
use wsasim::scenario::{self, RunOptions, Scenario, ScenarioError};

const USAGE: &str = "usage:
  wsasim run [PATH...] [--format human|json|junit] [--filter TEXT] [--trace FILE]
             [--check-determinism] [--seed N]
  wsasim trace SCENARIO [--seed N]
  wsasim diff [PATH...] [--divergences FILE]
  wsasim decode <number|name>
  wsasim codes";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Human,
    Json,
    Junit,
}

struct Args {
    paths: Vec<PathBuf>,
    format: Format,
    filter: Option<String>,
    trace: Option<PathBuf>,
    determinism: bool,
    seed: Option<u64>,
}

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("wsasim: {msg}\n{USAGE}");
    ExitCode::from(2)
}

fn parse_args(rest: &[String]) -> Result<Args, String> {
    let mut a = Args {
        paths: Vec::new(),
        format: Format::Human,
        filter: None,
        trace: None,
        determinism: false,
        seed: None,
    };
    let mut it = rest.iter();
    while let Some(x) = it.next() {
        let mut value = |name: &str| it.next().cloned().ok_or(format!("{name} needs a value"));
        match x.as_str() {
            "--format" => {
                a.format = match value("--format")?.as_str() {
                    "human" => Format::Human,
                    "json" => Format::Json,
                    "junit" => Format::Junit,
                    o => {
                        return Err(format!(
                            "unknown format `{o}` (expected human, json or junit)"
                        ))
                    }
                }
            }
            "--filter" => a.filter = Some(value("--filter")?),
            "--trace" => a.trace = Some(PathBuf::from(value("--trace")?)),
            "--seed" => {
                let v = value("--seed")?;
                a.seed = Some(
                    v.parse()
                        .map_err(|_| format!("--seed needs a number, got `{v}`"))?,
                )
            }
            "--check-determinism" => a.determinism = true,
            o if o.starts_with("--") => return Err(format!("unknown option `{o}`")),
            p => a.paths.push(PathBuf::from(p)),
        }
    }
    Ok(a)
}

/// Runs scenarios on all cores, keeping the input order.
fn run_all(list: &[Scenario], opts: RunOptions, determinism: bool, progress: bool) -> Vec<Timed> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(list.len().max(1));
    let chunk = list.len().div_ceil(workers.max(1)).max(1);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let total = list.len();
    let mut out: Vec<Timed> = Vec::with_capacity(total);
    std::thread::scope(|s| {
        let handles: Vec<_> = list
            .chunks(chunk)
            .map(|part| {
                let done = &done;
                s.spawn(move || {
                    part.iter()
                        .map(|sc| {
                            let t0 = wall_clock();
                            let result = if determinism {
                                scenario::check_determinism(sc, opts)
                            } else {
                                scenario::run_scenario(sc, opts)
                            };
                            let micros = t0.elapsed().as_micros() as u64;
                            let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                            if progress && (n % 16 == 0 || n == total) {
                                let width = 30;
                                let filled = n * width / total.max(1);
                                eprint!(
                                    "\r[{}{}] {n}/{total}",
                                    "#".repeat(filled),
                                    " ".repeat(width - filled)
                                );
                                if n == total {
                                    eprint!("\r{}\r", " ".repeat(width + 24));
                                }
                            }
                            Timed { result, micros }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            match h.join() {
                Ok(v) => out.extend(v),
                Err(p) => std::panic::resume_unwind(p),
            }
        }
    });
    out
}

fn cmd_run(args: Args) -> ExitCode {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from("scenarios")]
    } else {
        args.paths.clone()
    };
    let (mut list, errors): (_, Vec<ScenarioError>) = scenario::load_all(&paths);
    if let Some(t) = &args.filter {
        list.retain(|sc| sc.name.contains(t.as_str()) || sc.file.contains(t.as_str()));
    }
    let opts = RunOptions {
        seed: args.seed,
        trace: args.trace.is_some(),
    };
    let progress = args.format == Format::Human && std::io::stderr().is_terminal();
    let results = run_all(&list, opts, args.determinism, progress);
    let error_texts: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    let passed = results.iter().filter(|t| t.result.passed()).count();
    let failed = results.len() - passed + errors.len();
    let stdout = std::io::stdout();
    let mut o = stdout.lock();
    match args.format {
        Format::Human => {
            for e in &error_texts {
                let _ = writeln!(o, "ERROR {e}");
            }
            for t in &results {
                let _ = writeln!(o, "{}", report::human_line(t));
                if !t.result.passed() {
                    let _ = write!(o, "{}", report::human_failure(&t.result));
                }
            }
            let _ = writeln!(o, "{}", report::summary_line(passed, failed));
        }
        Format::Json => {
            let _ = write!(o, "{}", report::json(&results, &error_texts));
        }
        Format::Junit => {
            let _ = write!(o, "{}", report::junit(&results, &error_texts));
        }
    }
    if let Some(path) = &args.trace {
        let mut text = String::new();
        for t in &results {
            text.push_str(&format!("# {} ({})\n", t.result.name, t.result.file));
            for l in &t.result.trace {
                text.push_str(l);
                text.push('\n');
            }
        }
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("wsasim: cannot write the trace to {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if !errors.is_empty() {
        ExitCode::from(2)
    } else if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn cmd_trace(args: Args) -> ExitCode {
    let [path] = args.paths.as_slice() else {
        return usage_error("trace takes exactly one scenario file");
    };
    if args.format != Format::Human
        || args.filter.is_some()
        || args.trace.is_some()
        || args.determinism
    {
        return usage_error("trace takes only --seed");
    }
    let sc = match scenario::load(path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let r = scenario::run_scenario(
        &sc,
        RunOptions {
            seed: args.seed,
            trace: true,
        },
    );
    let mut o = std::io::stdout().lock();
    for l in &r.trace {
        let _ = writeln!(o, "{l}");
    }
    if r.passed() {
        ExitCode::SUCCESS
    } else {
        let _ = write!(o, "{}", report::human_failure(&r));
        ExitCode::from(1)
    }
}

fn cmd_decode(what: &str) -> ExitCode {
    let Some(code) = IoctlCode::parse(what) else {
        return usage_error(&format!("`{what}` is neither a code name nor a number"));
    };
    let f = code.fields();
    println!("code:   0x{:08X} ({})", code.0, code.0);
    println!("I:      {} (input buffer used)", u8::from(f.input));
    println!("O:      {} (output buffer used)", u8::from(f.output));
    println!("V:      {} (no parameters)", u8::from(f.void));
    println!("T:      {}", f.kind.describe());
    println!("family: {} (0x{:03X})", f.family, f.family);
    println!("number: {} (0x{:04X})", f.number, f.number);
    match code.info() {
        Some(i) => {
            println!("name:   {}", i.name);
            println!("doc:    {}", i.doc);
            println!("model:  {:?}", i.fidelity);
        }
        None => println!("name:   (not in the table: the model answers it as an unsupported code)"),
    }
    ExitCode::SUCCESS
}

fn cmd_codes() -> ExitCode {
    let mut o = std::io::stdout().lock();
    for c in CODES {
        let _ = writeln!(
            o,
            "0x{:08X}  {:<36} {:<12} {}",
            c.code.0,
            c.name,
            format!("{:?}", c.fidelity),
            c.doc
        );
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = argv.first() else {
        return usage_error("no command");
    };
    let rest = &argv[1..];
    match cmd.as_str() {
        "run" | "trace" => {
            let args = match parse_args(rest) {
                Ok(a) => a,
                Err(e) => return usage_error(&e),
            };
            if cmd == "run" {
                cmd_run(args)
            } else {
                cmd_trace(args)
            }
        }
        "diff" => cmd_diff(rest),
        "decode" => match rest {
            [x] => cmd_decode(x),
            _ => usage_error("decode takes one code name or number"),
        },
        "codes" => cmd_codes(),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        o => usage_error(&format!("unknown command `{o}`")),
    }
}

/// `wsasim diff`: the scenarios on the model and on the real Winsock API, compared.
fn cmd_diff(rest: &[String]) -> ExitCode {
    let mut paths = Vec::new();
    let mut divergences = None;
    let mut it = rest.iter();
    while let Some(x) = it.next() {
        match x.as_str() {
            "--divergences" => match it.next() {
                Some(v) => divergences = Some(PathBuf::from(v)),
                None => return usage_error("--divergences needs a value"),
            },
            o if o.starts_with("--") => return usage_error(&format!("unknown option `{o}`")),
            p => paths.push(PathBuf::from(p)),
        }
    }
    if paths.is_empty() {
        paths.push(PathBuf::from("scenarios"));
    }
    // The divergences file: as given, else divergences.yaml in the first folder given.
    let div_path = divergences.unwrap_or_else(|| {
        let base = paths.iter().find(|p| p.is_dir()).cloned();
        base.unwrap_or_else(|| PathBuf::from("scenarios"))
            .join(scenario::DIVERGENCES_FILE)
    });
    let entries = if div_path.exists() {
        let text = match std::fs::read_to_string(&div_path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{}:1:1: cannot read the file: {e}", div_path.display());
                return ExitCode::from(2);
            }
        };
        match wsasim::diff::parse_divergences(&div_path.display().to_string(), &text) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        }
    } else {
        Vec::new()
    };
    let (list, bad) = scenario::load_all(&paths);
    if !bad.is_empty() {
        for e in &bad {
            eprintln!("{e}");
        }
        return ExitCode::from(2);
    }
    real_diff(&list, &entries, &div_path.display().to_string())
}

#[cfg(all(windows, feature = "winsock"))]
fn real_diff(list: &[Scenario], entries: &[wsasim::diff::Divergence], div_file: &str) -> ExitCode {
    use wsasim::backend::winsock::{backend_name, real_network, startup, RealBackend};
    use wsasim::backend::{Backend, ModelBackend};
    if let Err(e) = startup() {
        eprintln!("wsasim: {e}");
        return ExitCode::from(2);
    }
    let name = backend_name();
    let network = match real_network() {
        Ok(n) => n,
        Err(e) => {
            eprintln!("wsasim: cannot read the real host's configuration: {e}");
            return ExitCode::from(2);
        }
    };
    println!(
        "real backend {name}: {} interfaces, {} routes; each scenario's host: is replaced by them",
        network.interfaces.len(),
        network.routes.len()
    );
    let mut make = |sc: &Scenario| -> (Box<dyn Backend>, Box<dyn Backend>) {
        (
            Box::new(ModelBackend::with_network(sc, network.clone(), sc.config)),
            Box::new(RealBackend::new(sc, &name)),
        )
    };
    let t0 = wall_clock();
    let mut clock = || t0.elapsed().as_nanos() as u64;
    let stdout = std::io::stdout();
    let mut o = stdout.lock();
    match wsasim::diff::run_all(
        list, entries, div_file, &name, &mut make, &mut clock, &mut o,
    ) {
        Ok((s, _)) if s.failed() => ExitCode::from(1),
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wsasim: cannot write the report: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(not(all(windows, feature = "winsock")))]
fn real_diff(list: &[Scenario], entries: &[wsasim::diff::Divergence], div_file: &str) -> ExitCode {
    let _ = (list, entries, div_file);
    eprintln!(
        "wsasim: diff needs the real Winsock backend: build for Windows with --features winsock \
         (or run tools/wine/run.sh); {} scenarios and {} divergence entries were read",
        list.len(),
        entries.len()
    );
    ExitCode::from(2)
}

/// The wall clock, for the durations the report prints and nothing else: the model and
/// the traces run on virtual time (clippy.toml bans the clock everywhere but here).
#[allow(clippy::disallowed_methods)]
fn wall_clock() -> Instant {
    Instant::now()
}
