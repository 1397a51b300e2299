//! The differential mode: every step of a scenario on two backends, the model and a
//! real one, compared field by field after [normalisation](normalise).
//!
//! [`diff_scenario`] drives both backends in lockstep. Before each step the real
//! backend may refuse it ([`Backend::refuse`]): the scenario then stops there as
//! skipped. A step the model answers by parking its thread is never given to the real
//! backend (it would hang): the scenario stops there as skipped too. Each performed step
//! gives two outcomes; their normalised fields are compared in a fixed order. A step
//! whose every differing field matches a [known divergence](divergences) counts as
//! known and the run continues; the first step with a difference no entry explains is
//! the scenario's unexplained divergence and ends it (later steps start from different
//! states). [`Summary::stale`] lists the entries for this backend that matched nothing
//! although their scenario ran past their step.
//!
//! The library reads no clock: the caller passes one (`wsasim diff` passes the wall
//! clock) and [`Timings`] keeps, per code, the time of every call on each backend.

pub mod divergences;
pub mod normalise;

use std::collections::BTreeMap;

use crate::backend::{Backend, Outcome};
use crate::scenario::run::describe;
use crate::scenario::{Action, Scenario};
pub use divergences::{parse_divergences, Divergence};
use normalise::{fields, View};

/// Every field name the comparison uses, in comparison order.
pub const FIELDS: [&str; 18] = [
    "blocked",
    "problem",
    "result",
    "error",
    "bytes_returned",
    "out",
    "data",
    "arg",
    "events",
    "errors",
    "signaled",
    "apcs",
    "bytes",
    "key",
    "overlapped",
    "flags",
    "internal",
    "internal_high",
];

/// One field that differs between the backends.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Mismatch {
    /// The step number, from 1.
    pub step: usize,
    /// The step's line.
    pub line: u32,
    /// The call, with names.
    pub call: String,
    /// The field.
    pub field: &'static str,
    /// The model's value (normalised text).
    pub model: String,
    /// The real backend's value (normalised text).
    pub real: String,
}

/// How one scenario went.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ScenarioDiff {
    /// The file.
    pub file: String,
    /// Steps performed on both backends and compared.
    pub compared: usize,
    /// Compared steps whose fields all agree.
    pub agreed: usize,
    /// Differences explained by an entry (the entry's index in the list).
    pub known: Vec<(Mismatch, usize)>,
    /// The first difference no entry explains.
    pub unexplained: Option<Mismatch>,
    /// The other fields of the same step that no entry explains (reported on their own
    /// lines, so that one run shows every field a step differs in).
    pub also: Vec<Mismatch>,
    /// Where and why the scenario stopped without being compared to its end.
    pub skipped: Option<(usize, String)>,
}

impl ScenarioDiff {
    /// The scenario's line in the report.
    pub fn line(&self, backend: &str) -> String {
        let mut s = format!("{}: ", self.file);
        if let Some(m) = &self.unexplained {
            s.push_str(&format!(
                "step {} (line {}) {}: field `{}`: model {}, {backend} {}",
                m.step, m.line, m.call, m.field, m.model, m.real
            ));
            for a in &self.also {
                s.push_str(&format!(
                    "\n    and field `{}`: model {}, {backend} {}",
                    a.field, a.model, a.real
                ));
            }
            return s;
        }
        if self.known.is_empty() {
            s.push_str("agree");
        } else {
            s.push_str(&format!(
                "agree except {} known divergence{} (step{} {})",
                self.known.len(),
                if self.known.len() == 1 { "" } else { "s" },
                if self.known.len() == 1 { "" } else { "s" },
                self.known
                    .iter()
                    .map(|(m, _)| format!("{} {}", m.step, m.field))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        s.push_str(&format!(" ({} steps compared)", self.compared));
        if let Some((step, why)) = &self.skipped {
            s.push_str(&format!("; skipped from step {step}: {why}"));
        }
        s
    }
}

/// Per code, the nanoseconds of every call on each backend.
#[derive(Clone, Debug, Default)]
pub struct Timings {
    /// Code name → (model times, real times).
    pub calls: BTreeMap<String, (Vec<u64>, Vec<u64>)>,
}

/// One row of the timing table.
#[derive(Clone, PartialEq, Debug)]
pub struct TimingRow {
    /// The code (`FIONBIO`, `ioctlsocket FIONREAD`).
    pub code: String,
    /// Calls measured on each backend.
    pub calls: usize,
    /// Median nanoseconds per call on the model.
    pub model_ns: u64,
    /// Median nanoseconds per call on the real backend.
    pub real_ns: u64,
    /// real / model.
    pub ratio: f64,
}

/// The median of a list (the lower middle one for an even count); 0 when empty.
pub fn median(v: &[u64]) -> u64 {
    if v.is_empty() {
        return 0;
    }
    let mut s = v.to_vec();
    s.sort_unstable();
    s[(s.len() - 1) / 2]
}

impl Timings {
    /// The table, one row per code, in code-name order.
    pub fn rows(&self) -> Vec<TimingRow> {
        self.calls
            .iter()
            .filter(|(_, (m, r))| !m.is_empty() && !r.is_empty())
            .map(|(code, (m, r))| {
                let (model_ns, real_ns) = (median(m), median(r));
                TimingRow {
                    code: code.clone(),
                    calls: m.len().min(r.len()),
                    model_ns,
                    real_ns,
                    ratio: real_ns as f64 / (model_ns.max(1)) as f64,
                }
            })
            .collect()
    }
}

/// The timing key of a step: the control code of a WSAIoctl or ioctlsocket call.
fn timing_key(a: &Action) -> Option<String> {
    match a {
        Action::Ioctl(io) => Some(io.code.to_string()),
        Action::IoctlSocket { cmd, .. } => Some(format!("ioctlsocket {cmd}")),
        _ => None,
    }
}

/// The differences between two normalised field lists, in field order.
pub fn compare_fields(
    model: &[(&'static str, String)],
    real: &[(&'static str, String)],
) -> Vec<(&'static str, String, String)> {
    let absent = || "(not reported)".to_string();
    let mut out = Vec::new();
    for f in FIELDS {
        let a = model.iter().find(|(k, _)| *k == f).map(|(_, v)| v.clone());
        let b = real.iter().find(|(k, _)| *k == f).map(|(_, v)| v.clone());
        if a != b {
            out.push((f, a.unwrap_or_else(absent), b.unwrap_or_else(absent)));
        }
    }
    out
}

/// What one scenario run needs besides the backends.
pub struct DiffContext<'a> {
    /// The real backend's name (for matching entries).
    pub backend: &'a str,
    /// The known divergences.
    pub divergences: &'a [Divergence],
    /// Per entry: matched by a difference in this run.
    pub used: &'a mut [bool],
    /// Per entry: its scenario ran to (at least) its step.
    pub reached: &'a mut [bool],
    /// Nanoseconds since an arbitrary start (the caller's clock).
    pub clock: &'a mut dyn FnMut() -> u64,
    /// Call times per code.
    pub timings: &'a mut Timings,
}

/// Runs one scenario on both backends and compares every step.
pub fn diff_scenario(
    sc: &Scenario,
    model: &mut dyn Backend,
    real: &mut dyn Backend,
    cx: &mut DiffContext,
) -> ScenarioDiff {
    let mut d = ScenarioDiff {
        file: sc.file.clone(),
        compared: 0,
        agreed: 0,
        known: Vec::new(),
        unexplained: None,
        also: Vec::new(),
        skipped: None,
    };
    if let Some(r) = real.refuse_scenario(sc) {
        d.skipped = Some((1, r.reason));
        return d;
    }
    let entries: Vec<usize> = cx
        .divergences
        .iter()
        .enumerate()
        .filter(|(_, e)| e.covers_backend(cx.backend) && e.covers_file(&sc.file))
        .map(|(i, _)| i)
        .collect();
    for (i, step) in sc.steps.iter().enumerate() {
        let n = i + 1;
        if let Some(r) = real.refuse(sc, step) {
            d.skipped = Some((n, r.reason));
            break;
        }
        let t0 = (cx.clock)();
        let m = model.exec(step.thread, &step.action);
        let t1 = (cx.clock)();
        if m.blocked {
            d.skipped = Some((
                n,
                "model only: the call blocks its thread, which the real backend cannot do without hanging".into(),
            ));
            break;
        }
        let r = real.exec(step.thread, &step.action);
        let t2 = (cx.clock)();
        if let Some(k) = timing_key(&step.action) {
            let e = cx.timings.calls.entry(k).or_default();
            e.0.push(t1.saturating_sub(t0));
            e.1.push(t2.saturating_sub(t1));
        }
        d.compared += 1;
        for &e in &entries {
            if cx.divergences[e].step == n {
                cx.reached[e] = true;
            }
        }
        let unordered = matches!(&step.expect, crate::scenario::Expect::Check(c) if matches!(c.apcs, Some((_, false))));
        let diffs = compare_step(sc, &step.action, unordered, model, &m, real, &r);
        if diffs.is_empty() {
            d.agreed += 1;
            continue;
        }
        let call = describe(sc, &step.action);
        let mut unexplained = None;
        let mut known = Vec::new();
        for (field, mv, rv) in diffs {
            let mis = Mismatch {
                step: n,
                line: step.pos.line,
                call: call.clone(),
                field,
                model: mv,
                real: rv,
            };
            let hit = entries.iter().copied().find(|&e| {
                let x = &cx.divergences[e];
                x.step == n && x.field == field && x.model == mis.model && x.real == mis.real
            });
            match hit {
                Some(e) => {
                    cx.used[e] = true;
                    known.push((mis, e));
                }
                None => {
                    if unexplained.is_none() {
                        unexplained = Some(mis);
                    } else {
                        d.also.push(mis);
                    }
                }
            }
        }
        d.known.extend(known);
        if unexplained.is_some() {
            d.unexplained = unexplained;
            break;
        }
    }
    model.finish();
    real.finish();
    d
}

fn compare_step(
    sc: &Scenario,
    action: &Action,
    apcs_unordered: bool,
    model: &dyn Backend,
    m: &Outcome,
    real: &dyn Backend,
    r: &Outcome,
) -> Vec<(&'static str, String, String)> {
    let ms = model.socket_values();
    let rs = real.socket_values();
    let mv = View {
        sc,
        ptr: model.pointer_size(),
        sockets: &ms,
        apcs_unordered,
    };
    let rv = View {
        sc,
        ptr: real.pointer_size(),
        sockets: &rs,
        apcs_unordered,
    };
    compare_fields(&fields(m, action, &mv), &fields(r, action, &rv))
}

/// The totals of a run.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Summary {
    /// Scenarios given.
    pub scenarios: usize,
    /// Scenarios skipped before their first step.
    pub skipped_scenarios: usize,
    /// Steps compared.
    pub compared: usize,
    /// Steps that agree.
    pub agreed: usize,
    /// Steps whose differences are all known.
    pub known: usize,
    /// Unexplained divergences (at most one per scenario).
    pub unexplained: usize,
    /// Indexes of entries that matched nothing although their step ran.
    pub stale: Vec<usize>,
}

impl Summary {
    /// Adds one scenario's counts.
    pub fn add(&mut self, d: &ScenarioDiff) {
        self.scenarios += 1;
        if d.compared == 0 && d.skipped.is_some() {
            self.skipped_scenarios += 1;
        }
        self.compared += d.compared;
        self.agreed += d.agreed;
        let mut steps: Vec<usize> = d.known.iter().map(|(m, _)| m.step).collect();
        steps.dedup();
        // A step with an unexplained difference is not counted as known.
        let bad = d.unexplained.as_ref().map(|m| m.step);
        self.known += steps.iter().filter(|s| Some(**s) != bad).count();
        self.unexplained += usize::from(d.unexplained.is_some());
    }

    /// Fills `stale` from the per-entry flags.
    pub fn find_stale(&mut self, used: &[bool], reached: &[bool]) {
        self.stale = (0..used.len())
            .filter(|&i| reached[i] && !used[i])
            .collect();
    }

    /// True when the run must fail (exit 1).
    pub fn failed(&self) -> bool {
        self.unexplained > 0 || !self.stale.is_empty()
    }

    /// The summary line.
    pub fn line(&self, backend: &str) -> String {
        format!(
            "diff model vs {backend}: {} scenarios ({} skipped), {} steps compared, {} agree, {} known divergences, {} unexplained, {} stale entries",
            self.scenarios,
            self.skipped_scenarios,
            self.compared,
            self.agreed,
            self.known,
            self.unexplained,
            self.stale.len()
        )
    }
}

/// A fresh (model, real) pair of backends for one scenario.
pub type BackendPair = (Box<dyn Backend>, Box<dyn Backend>);

/// Runs every scenario on a fresh pair of backends from `make` (model, real), writes
/// the report to `out` (one line per scenario, stale entries, the timing table, the
/// summary line) and returns the totals.
pub fn run_all(
    scenarios: &[Scenario],
    divergences: &[Divergence],
    divergences_file: &str,
    backend: &str,
    make: &mut dyn FnMut(&Scenario) -> BackendPair,
    clock: &mut dyn FnMut() -> u64,
    out: &mut dyn std::io::Write,
) -> std::io::Result<(Summary, Timings)> {
    let mut used = vec![false; divergences.len()];
    let mut reached = vec![false; divergences.len()];
    let mut timings = Timings::default();
    let mut summary = Summary::default();
    for sc in scenarios {
        let (mut model, mut real) = make(sc);
        let mut cx = DiffContext {
            backend,
            divergences,
            used: &mut used,
            reached: &mut reached,
            clock: &mut *clock,
            timings: &mut timings,
        };
        let d = diff_scenario(sc, model.as_mut(), real.as_mut(), &mut cx);
        writeln!(out, "{}", d.line(backend))?;
        summary.add(&d);
    }
    summary.find_stale(&used, &reached);
    for &i in &summary.stale {
        let e = &divergences[i];
        writeln!(
            out,
            "STALE {divergences_file}:{}:{}: {} step {} field `{}` (model {}, {} {}) no longer diverges",
            e.pos.line, e.pos.col, e.scenario, e.step, e.field, e.model, e.backend, e.real
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{:<40} {:>6} {:>12} {:>12} {:>10}",
        "code",
        "calls",
        "model ns",
        format!("{backend} ns"),
        "ratio"
    )?;
    for r in timings.rows() {
        writeln!(
            out,
            "{:<40} {:>6} {:>12} {:>12} {:>10.1}",
            r.code, r.calls, r.model_ns, r.real_ns, r.ratio
        )?;
    }
    writeln!(out)?;
    writeln!(out, "{}", summary.line(backend))?;
    Ok((summary, timings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{ModelBackend, Refusal};
    use crate::outcome::BytesReturned;
    use crate::scenario::{parse_scenario, Step};
    use crate::wire::PointerSize;

    /// The model, with one step's outcome altered as another implementation might give it.
    struct Altered {
        inner: ModelBackend,
        step: usize,
        count: usize,
        alter: fn(&mut Outcome),
        refuse_at: Option<usize>,
    }

    impl Backend for Altered {
        fn name(&self) -> String {
            "fake-1.0".into()
        }
        fn refuse(&self, sc: &Scenario, step: &Step) -> Option<Refusal> {
            let n = sc.steps.iter().position(|s| std::ptr::eq(s, step))? + 1;
            (Some(n) == self.refuse_at).then(|| Refusal::new("not here"))
        }
        fn exec(&mut self, thread: usize, action: &Action) -> Outcome {
            self.count += 1;
            let mut o = self.inner.exec(thread, action);
            // Another implementation hands out other handle values.
            if let (Action::Ioctl(io), Some(out)) = (action, o.out.as_mut()) {
                if io.code == crate::codes::IoctlCode::SIO_BASE_HANDLE {
                    let v = u64::from_le_bytes(out[..8].try_into().expect("8 bytes"));
                    out[..8].copy_from_slice(&(v + 0x1000).to_le_bytes());
                }
            }
            if self.count == self.step {
                (self.alter)(&mut o);
            }
            o
        }
        fn is_blocked(&self, thread: usize) -> bool {
            self.inner.is_blocked(thread)
        }
        fn clock(&self) -> String {
            self.inner.clock()
        }
        fn pointer_size(&self) -> PointerSize {
            self.inner.pointer_size()
        }
        fn socket_value(&self, name: usize) -> Option<u64> {
            self.inner.socket_value(name).map(|h| h + 0x1000)
        }
        fn socket_values(&self) -> Vec<(usize, u64)> {
            self.inner
                .socket_values()
                .into_iter()
                .map(|(i, h)| (i, h + 0x1000))
                .collect()
        }
    }

    const SC: &str = "name: x\nsteps:\n  - socket: s\n  - ioctl: s\n    code: FIONREAD\n    out_len: 4\n    expect: any\n  - ioctl: s\n    code: SIO_BASE_HANDLE\n    out_len: 8\n    expect: any\n";

    fn entry(step: usize, field: &str, model: &str, real: &str) -> Divergence {
        Divergence {
            pos: Default::default(),
            backend: "fake-1.0".into(),
            scenario: "t.yaml".into(),
            step,
            field: field.into(),
            model: model.into(),
            real: real.into(),
            reason: "a reason with its evidence".into(),
        }
    }

    fn untouched(o: &mut Outcome) {
        o.bytes_returned = Some(BytesReturned::Untouched);
    }

    fn run(
        alter: fn(&mut Outcome),
        at: usize,
        refuse_at: Option<usize>,
        entries: &[Divergence],
    ) -> (ScenarioDiff, Summary) {
        let sc = parse_scenario("t.yaml", SC).unwrap();
        let mut model = ModelBackend::new(&sc, sc.config);
        let mut real = Altered {
            inner: ModelBackend::new(&sc, sc.config),
            step: at,
            count: 0,
            alter,
            refuse_at,
        };
        let mut used = vec![false; entries.len()];
        let mut reached = vec![false; entries.len()];
        let mut t = 0u64;
        let mut clock = || {
            t += 10;
            t
        };
        let mut timings = Timings::default();
        let mut cx = DiffContext {
            backend: "fake-1.0",
            divergences: entries,
            used: &mut used,
            reached: &mut reached,
            clock: &mut clock,
            timings: &mut timings,
        };
        let d = diff_scenario(&sc, &mut model, &mut real, &mut cx);
        let mut s = Summary::default();
        s.add(&d);
        s.find_stale(&used, &reached);
        (d, s)
    }

    #[test]
    fn identical_backends_agree_even_with_different_handle_values() {
        let (d, s) = run(|_| {}, 0, None, &[]);
        assert_eq!(d.unexplained, None);
        assert_eq!((d.compared, d.agreed), (3, 3));
        assert!(!s.failed());
        assert!(d.line("fake-1.0").ends_with("agree (3 steps compared)"));
    }

    #[test]
    fn the_first_differing_field_is_reported_with_both_values() {
        let (d, s) = run(untouched, 2, None, &[]);
        let m = d.unexplained.clone().expect("a divergence");
        assert_eq!((m.step, m.field), (2, "bytes_returned"));
        assert_eq!((m.model.as_str(), m.real.as_str()), ("4", "untouched"));
        assert_eq!(d.compared, 2, "the scenario stops at the divergence");
        assert!(s.failed());
        assert!(d.line("fake-1.0").contains("model 4, fake-1.0 untouched"));
    }

    #[test]
    fn a_matching_entry_makes_the_divergence_known_and_the_run_continues() {
        let e = [entry(2, "bytes_returned", "4", "untouched")];
        let (d, s) = run(untouched, 2, None, &e);
        assert_eq!(d.unexplained, None);
        assert_eq!(d.known.len(), 1);
        assert_eq!(d.compared, 3);
        assert_eq!((s.known, s.unexplained, s.stale.len()), (1, 0, 0));
        assert!(!s.failed());
    }

    #[test]
    fn an_entry_with_other_values_explains_nothing_and_is_stale() {
        let e = [entry(2, "bytes_returned", "4", "0")];
        let (d, s) = run(untouched, 2, None, &e);
        assert!(d.unexplained.is_some());
        assert_eq!(s.stale, vec![0]);
    }

    #[test]
    fn an_entry_for_a_divergence_that_is_gone_is_stale() {
        let e = [entry(2, "bytes_returned", "4", "untouched")];
        let (_, s) = run(|_| {}, 0, None, &e);
        assert_eq!(s.stale, vec![0]);
        assert!(s.failed());
    }

    #[test]
    fn an_entry_whose_step_never_ran_is_not_stale() {
        let e = [entry(3, "out", "x", "y")];
        let (d, s) = run(|_| {}, 0, Some(2), &e);
        assert_eq!(d.skipped, Some((2, "not here".into())));
        assert!(s.stale.is_empty());
    }

    #[test]
    fn entries_for_another_backend_are_ignored() {
        let mut e = entry(2, "bytes_returned", "4", "untouched");
        e.backend = "wine-9.0".into();
        let (d, s) = run(untouched, 2, None, &[e]);
        assert!(d.unexplained.is_some());
        assert!(s.stale.is_empty());
    }

    #[test]
    fn medians_and_ratios_per_code() {
        assert_eq!(median(&[5, 1, 3]), 3);
        assert_eq!(median(&[4, 1, 3, 2]), 2);
        assert_eq!(median(&[]), 0);
        let mut t = Timings::default();
        t.calls
            .insert("FIONBIO".into(), (vec![10, 30, 20], vec![200, 400, 600]));
        let rows = t.rows();
        assert_eq!(rows[0].model_ns, 20);
        assert_eq!(rows[0].real_ns, 400);
        assert!((rows[0].ratio - 20.0).abs() < 1e-9);
    }

    #[test]
    fn a_field_one_side_does_not_report_is_a_difference() {
        let a = vec![("result", "0".to_string())];
        let b = vec![("result", "0".to_string()), ("arg", "1".to_string())];
        assert_eq!(
            compare_fields(&a, &b),
            vec![("arg", "(not reported)".into(), "1".into())]
        );
    }

    #[test]
    fn the_report_lists_each_scenario_stale_entries_timings_and_the_summary() {
        let sc = parse_scenario("t.yaml", SC).unwrap();
        let e = [entry(2, "bytes_returned", "4", "untouched")];
        let mut make = |sc: &Scenario| -> (Box<dyn Backend>, Box<dyn Backend>) {
            (
                Box::new(ModelBackend::new(sc, sc.config)),
                Box::new(Altered {
                    inner: ModelBackend::new(sc, sc.config),
                    step: 0,
                    count: 0,
                    alter: |_| {},
                    refuse_at: None,
                }),
            )
        };
        let mut t = 0;
        let mut clock = || {
            t += 7;
            t
        };
        let mut out = Vec::new();
        let (s, timings) = run_all(
            &[sc],
            &e,
            "d.yaml",
            "fake-1.0",
            &mut make,
            &mut clock,
            &mut out,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("t.yaml: agree (3 steps compared)"), "{text}");
        assert!(text.contains("STALE d.yaml:"), "{text}");
        assert!(text.contains("FIONREAD"), "{text}");
        assert!(
            text.trim_end().ends_with("0 unexplained, 1 stale entries"),
            "{text}"
        );
        assert!(s.failed());
        assert_eq!(timings.rows().len(), 2);
    }
}
