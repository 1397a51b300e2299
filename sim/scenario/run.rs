//! Replays a [`Scenario`] on a [`Backend`] (the model's, [`ModelBackend`], by default):
//! the backend maps names to handles and makes each call; the runner compares the
//! outcome field by field and writes the canonical trace (names, never handles; virtual
//! time on the model; identical on every run).
//!
//! A step the backend cannot perform (a host change the model refuses, a step the real
//! backend skips) fails or stops with its reason, whatever the step expects.

use std::fmt::Write as _;

use super::encode::{check_out, hex, InSpec};
use super::{Action, Checks, Expect, OutSpec, ResultVal, Scenario, Target};
use crate::backend::{Backend, ModelBackend, Outcome as Actual};
use crate::errors::ErrorCode;
use crate::model::overlapped::Apc;
use crate::model::socket::NetworkEvents;
use crate::model::{OverlappedId, RoutineId};
use crate::outcome::BytesReturned;
use crate::time::Timeout;

/// How to run.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    /// Overrides the scenario's `seed:`.
    pub seed: Option<u64>,
    /// Collect the trace.
    pub trace: bool,
}

/// One compared field that differed.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct FieldDiff {
    /// The field (`result`, `error`, `bytes_returned`, `out`, ...).
    pub field: &'static str,
    /// What the scenario expected.
    pub expected: String,
    /// What the call gave.
    pub actual: String,
}

/// Why a scenario failed, at which step.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct StepFailure {
    /// The step number, from 1 (the number of steps + 1 for the end-of-run check).
    pub step: usize,
    /// The step's line in the file.
    pub line: u32,
    /// The thread it ran on.
    pub thread: String,
    /// The call as Winsock would see it.
    pub call: String,
    /// One sentence saying what went wrong.
    pub reason: String,
    /// The fields that differed.
    pub fields: Vec<FieldDiff>,
    /// The step's `note:`.
    pub note: Option<String>,
}

/// The result of replaying one scenario.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ScenarioResult {
    /// The file.
    pub file: String,
    /// `name:`.
    pub name: String,
    /// Number of steps in the scenario.
    pub steps: usize,
    /// The seed used.
    pub seed: u64,
    /// `None` when every step passed.
    pub failure: Option<StepFailure>,
    /// The trace lines (empty unless asked for).
    pub trace: Vec<String>,
}

impl ScenarioResult {
    /// True when every step passed.
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

fn result_eq(a: ResultVal, b: ResultVal) -> bool {
    let n = |r: ResultVal| match r {
        ResultVal::Int(n) => n,
        ResultVal::Bool(b) => i64::from(b),
    };
    n(a) == n(b)
}

pub(crate) fn err_text(e: ErrorCode) -> String {
    match e.name() {
        Some(n) if e.0 != 0 => format!("{n} ({})", e.0),
        _ => e.0.to_string(),
    }
}

pub(crate) fn br_text(b: BytesReturned) -> String {
    match b {
        BytesReturned::Written(n) => n.to_string(),
        BytesReturned::Untouched => "untouched".into(),
    }
}

fn timeout_text(t: Timeout) -> String {
    if t.is_infinite() {
        "INFINITE".into()
    } else {
        t.0.to_string()
    }
}

fn bool_text(b: bool) -> &'static str {
    if b {
        "TRUE"
    } else {
        "FALSE"
    }
}

struct Runner<'a, B: Backend + ?Sized> {
    sc: &'a Scenario,
    backend: &'a mut B,
    /// Per thread: was its last expectation `blocks: true`.
    last_blocks: Vec<bool>,
    trace: Option<Vec<String>>,
}

/// Replays a scenario on the model.
pub fn run_scenario(sc: &Scenario, opts: RunOptions) -> ScenarioResult {
    let mut config = sc.config;
    if let Some(seed) = opts.seed {
        config.seed = seed;
    }
    let mut model = ModelBackend::new(sc, config);
    run_on(sc, &mut model, opts.trace, config.seed)
}

/// Replays a scenario on any backend, checking its expectations. A step the backend
/// refuses stops the run with a failure whose reason starts with "skipped: ".
pub fn run_on<B: Backend + ?Sized>(
    sc: &Scenario,
    backend: &mut B,
    trace: bool,
    seed: u64,
) -> ScenarioResult {
    let mut r = Runner {
        sc,
        backend,
        last_blocks: vec![false; sc.names.threads.len()],
        trace: trace.then(Vec::new),
    };
    let failure = r.run();
    r.backend.finish();
    ScenarioResult {
        file: sc.file.clone(),
        name: sc.name.clone(),
        steps: sc.steps.len(),
        seed,
        failure,
        trace: r.trace.unwrap_or_default(),
    }
}

impl<B: Backend + ?Sized> Runner<'_, B> {
    fn ov_name(&self, ov: OverlappedId) -> String {
        self.sc
            .names
            .overlapped_name(ov)
            .map_or_else(|| ov.to_string(), str::to_string)
    }

    fn routine_name(&self, r: RoutineId) -> String {
        self.sc
            .names
            .routine_name(r)
            .map_or_else(|| r.to_string(), str::to_string)
    }

    fn run(&mut self) -> Option<StepFailure> {
        let sc = self.sc;
        for (i, step) in sc.steps.iter().enumerate() {
            let call = self.describe(&step.action);
            let thread_name = &sc.names.threads[step.thread];
            let fail = |reason: String, fields: Vec<FieldDiff>| StepFailure {
                step: i + 1,
                line: step.pos.line,
                thread: thread_name.clone(),
                call: call.clone(),
                reason,
                fields,
                note: step.note.clone(),
            };
            if let Some(r) = self.backend.refuse(sc, step) {
                return Some(fail(format!("skipped: {}", r.reason), Vec::new()));
            }
            if !matches!(step.action, Action::Join(_)) && self.backend.is_blocked(step.thread) {
                return Some(fail(
                    format!("thread `{thread_name}` is still blocked in an earlier call; `join: {thread_name}` first"),
                    Vec::new(),
                ));
            }
            let now = self.backend.clock();
            let actual = self.backend.exec(step.thread, &step.action);
            if let Some(t) = &mut self.trace {
                let mut line = format!(
                    "{now} step {} line {} {thread_name}: {call} ->",
                    i + 1,
                    step.pos.line
                );
                summary(&actual, &mut line, sc);
                t.push(line);
            }
            if let Some(p) = &actual.problem {
                return Some(fail(p.clone(), Vec::new()));
            }
            let blocks = matches!(&step.expect, Expect::Check(c) if c.blocks);
            self.last_blocks[step.thread] = blocks;
            match &step.expect {
                Expect::Any => {}
                Expect::Succeed => {
                    if actual.blocked {
                        return Some(fail(
                            "the call blocked; a step without `expect:` must succeed".into(),
                            Vec::new(),
                        ));
                    }
                    if !actual.ok {
                        let mut fields = Vec::new();
                        if let Some(r) = actual.result {
                            fields.push(FieldDiff {
                                field: "result",
                                expected: "success".into(),
                                actual: r.to_string(),
                            });
                        }
                        if let Some(e) = actual.error {
                            fields.push(FieldDiff {
                                field: "error",
                                expected: "0".into(),
                                actual: err_text(e),
                            });
                        }
                        return Some(fail(
                            "the call failed; a step without `expect:` must succeed".into(),
                            fields,
                        ));
                    }
                }
                Expect::Check(c) => {
                    if c.blocks != actual.blocked {
                        let reason = if c.blocks {
                            "expected the call to block, but it returned"
                        } else {
                            "the call blocked, but the step expects it to return"
                        };
                        return Some(fail(
                            reason.into(),
                            vec![FieldDiff {
                                field: "blocks",
                                expected: c.blocks.to_string(),
                                actual: actual.blocked.to_string(),
                            }],
                        ));
                    }
                    if !actual.blocked {
                        let diffs = self.compare(c, &actual, &step.action);
                        if !diffs.is_empty() {
                            return Some(fail(
                                "the call did not give what the step expects".into(),
                                diffs,
                            ));
                        }
                    }
                }
            }
        }
        // Threads still blocked at the end.
        for t in 0..sc.names.threads.len() {
            if self.backend.is_blocked(t) && !(sc.allow_blocked_at_end && self.last_blocks[t]) {
                let last = sc.steps.iter().rev().find(|s| s.thread == t);
                return Some(StepFailure {
                    step: sc.steps.len() + 1,
                    line: last.map_or(1, |s| s.pos.line),
                    thread: sc.names.threads[t].clone(),
                    call: "(end of scenario)".into(),
                    reason: format!(
                        "thread `{}` is still blocked at the end (join it, or set `allow_blocked_at_end: true` after a `blocks: true` expectation)",
                        sc.names.threads[t]
                    ),
                    fields: Vec::new(),
                    note: None,
                });
            }
        }
        None
    }

    fn compare(&self, c: &Checks, a: &Actual, action: &Action) -> Vec<FieldDiff> {
        let mut d = Vec::new();
        let mut push = |field: &'static str, expected: String, actual: String| {
            d.push(FieldDiff {
                field,
                expected,
                actual,
            });
        };
        let missing = || "(not reported by this call)".to_string();
        if let Some(r) = c.result {
            match a.result {
                Some(x) if result_eq(r, x) => {}
                Some(x) => push("result", r.to_string(), x.to_string()),
                None => push("result", r.to_string(), missing()),
            }
        }
        if let Some(e) = c.error {
            match a.error {
                Some(x) if x == e => {}
                Some(x) => push("error", err_text(e), err_text(x)),
                None => push("error", err_text(e), missing()),
            }
        }
        if let Some(b) = c.bytes_returned {
            match a.bytes_returned {
                Some(x) if x == b => {}
                Some(x) => push("bytes_returned", br_text(b), br_text(x)),
                None => push("bytes_returned", br_text(b), missing()),
            }
        }
        if let Some(form) = &c.out {
            match &a.out {
                Some(buf) => {
                    let ptr = self.backend.pointer_size();
                    if let Err((e, x)) = check_out(
                        form,
                        buf,
                        ptr,
                        |s| self.backend.socket_value(s),
                        |s| self.sc.names.sockets[s].clone(),
                    ) {
                        push("out", e, x);
                    }
                }
                None => push("out", format!("{form:?}"), "no output buffer".into()),
            }
        }
        if c.out_untouched {
            match &a.out {
                Some(buf) if buf.iter().all(|&b| b == 0xCC) => {}
                Some(buf) => push(
                    "out_untouched",
                    "every byte 0xCC".into(),
                    format!(
                        "{} bytes written: {}",
                        a.written,
                        hex(&buf[..a.written.min(buf.len())])
                    ),
                ),
                None => {}
            }
        }
        if let Some(data) = &c.data {
            let got = a.data.clone().unwrap_or_default();
            if &got != data {
                push("data", show_bytes(data), show_bytes(&got));
            }
        }
        if let Some(v) = c.arg {
            if a.arg != Some(v) {
                push(
                    "arg",
                    v.to_string(),
                    a.arg.map_or_else(missing, |x| x.to_string()),
                );
            }
        }
        if let Some(ev) = c.events {
            if a.events != Some(ev) {
                push(
                    "events",
                    events_text(ev),
                    a.events.map_or_else(missing, events_text),
                );
            }
        }
        for (bit, e) in &c.errors {
            let got = a.errors.map(|x| x[*bit]);
            if got != Some(*e) {
                push(
                    "errors",
                    format!("{}: {}", NetworkEvents::NAMED[*bit].0, err_text(*e)),
                    got.map_or_else(missing, err_text),
                );
            }
        }
        if let Some(ev) = c.signaled {
            let Action::Wait { events, .. } = action else {
                unreachable_action()
            };
            let name = |i: usize| self.sc.names.events[i].clone();
            let exp = name(ev);
            match a.signaled {
                Some(Some(idx)) if events.get(idx) == Some(&ev) => {}
                Some(Some(idx)) => push(
                    "signaled",
                    exp,
                    events.get(idx).map_or(format!("index {idx}"), |e| name(*e)),
                ),
                _ => push(
                    "signaled",
                    exp,
                    a.result
                        .map_or_else(missing, |r| format!("nothing (result {r})")),
                ),
            }
        }
        if let Some((list, ordered)) = &c.apcs {
            let got = a.apcs.clone().unwrap_or_default();
            let matches = |e: &super::ApcExp, g: &Apc| {
                g.routine == RoutineId(e.routine as u64 + 1)
                    && e.error.is_none_or(|x| x == g.error)
                    && e.bytes.is_none_or(|x| x == g.bytes)
                    && e.overlapped
                        .is_none_or(|x| OverlappedId(x as u64 + 1) == g.overlapped)
                    && e.flags.is_none_or(|x| x == g.flags)
            };
            let ok = got.len() == list.len()
                && if *ordered {
                    list.iter().zip(&got).all(|(e, g)| matches(e, g))
                } else {
                    let mut used = vec![false; got.len()];
                    list.iter().all(|e| {
                        match got
                            .iter()
                            .enumerate()
                            .position(|(k, g)| !used[k] && matches(e, g))
                        {
                            Some(k) => {
                                used[k] = true;
                                true
                            }
                            None => false,
                        }
                    })
                };
            if !ok {
                let exp = list
                    .iter()
                    .map(|e| {
                        format!(
                            "{{ routine: {}{}{}{}{} }}",
                            self.sc.names.routines[e.routine],
                            e.error
                                .map_or(String::new(), |x| format!(", error: {}", err_text(x))),
                            e.bytes.map_or(String::new(), |x| format!(", bytes: {x}")),
                            e.overlapped.map_or(String::new(), |x| format!(
                                ", overlapped: {}",
                                self.sc.names.overlapped[x]
                            )),
                            e.flags.map_or(String::new(), |x| format!(", flags: {x}")),
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                push(
                    if *ordered { "apcs" } else { "apcs_unordered" },
                    format!("[{exp}]"),
                    self.apcs_text(&got),
                );
            }
        }
        if let Some(b) = c.bytes {
            if a.bytes != Some(b) {
                push(
                    "bytes",
                    b.to_string(),
                    a.bytes.map_or_else(missing, |x| x.to_string()),
                );
            }
        }
        if let Some(k) = c.key {
            if a.key != Some(k) {
                push(
                    "key",
                    k.to_string(),
                    a.key.map_or_else(missing, |x| x.to_string()),
                );
            }
        }
        if let Some(ov) = c.overlapped {
            let want = ov.map(|x| OverlappedId(x as u64 + 1));
            match a.overlapped {
                Some(g) if g == want => {}
                g => push(
                    "overlapped",
                    want.map_or("null".into(), |x| self.ov_name(x)),
                    match g {
                        Some(Some(x)) => self.ov_name(x),
                        Some(None) => "null".into(),
                        None => missing(),
                    },
                ),
            }
        }
        if let Some(f) = c.flags {
            if a.flags != Some(f) {
                push(
                    "flags",
                    f.to_string(),
                    a.flags.map_or_else(missing, |x| x.to_string()),
                );
            }
        }
        if let Some(s) = c.internal {
            if a.internal != Some(s) {
                push(
                    "internal",
                    s.to_string(),
                    a.internal.map_or_else(missing, |x| x.to_string()),
                );
            }
        }
        if let Some(h) = c.internal_high {
            if a.internal_high != Some(h) {
                push(
                    "internal_high",
                    h.to_string(),
                    a.internal_high.map_or_else(missing, |x| x.to_string()),
                );
            }
        }
        d
    }

    fn apcs_text(&self, apcs: &[Apc]) -> String {
        let items: Vec<String> = apcs
            .iter()
            .map(|g| {
                format!(
                    "{{ routine: {}, error: {}, bytes: {}, overlapped: {}, flags: {} }}",
                    self.routine_name(g.routine),
                    err_text(g.error),
                    g.bytes,
                    self.ov_name(g.overlapped),
                    g.flags
                )
            })
            .collect();
        format!("[{}]", items.join(", "))
    }

    fn describe(&self, a: &Action) -> String {
        describe(self.sc, a)
    }
}

/// The call as Winsock would see it, with names for handles.
pub fn describe(sc: &Scenario, a: &Action) -> String {
    let n = &sc.names;
    let s = |i: &usize| n.sockets[*i].as_str();
    match a {
        Action::Socket {
            af,
            kind,
            protocol,
            overlapped,
            ..
        } => format!(
            "WSASocket({}, {}, {protocol}, NULL, 0, {})",
            match af {
                crate::model::AddressFamily::Inet => "AF_INET",
                crate::model::AddressFamily::Inet6 => "AF_INET6",
            },
            match kind {
                crate::model::SocketType::Stream => "SOCK_STREAM",
                crate::model::SocketType::Dgram => "SOCK_DGRAM",
                crate::model::SocketType::Raw => "SOCK_RAW",
            },
            if *overlapped {
                "WSA_FLAG_OVERLAPPED"
            } else {
                "0"
            }
        ),
        Action::Pair { a, b, .. } => format!("pair({}, {})", s(a), s(b)),
        Action::Bind { s: x, addr } => format!("bind({}, {addr})", s(x)),
        Action::Listen { s: x } => format!("listen({}, SOMAXCONN)", s(x)),
        Action::Connect { s: x, to } => format!(
            "connect({}, {})",
            s(x),
            match to {
                Target::Addr(a) => a.to_string(),
                Target::Socket(t) => format!("address of {}", s(t)),
            }
        ),
        Action::Accept { s: x, as_ } => format!("{} = accept({}, NULL, NULL)", s(as_), s(x)),
        Action::Send { s: x, data, flags } => format!(
            "send({}, buf[{}], {}, {})",
            s(x),
            data.len(),
            data.len(),
            flags_text(flags.oob, flags.peek, flags.dontroute)
        ),
        Action::Recv { s: x, len, flags } => format!(
            "recv({}, buf[{len}], {len}, {})",
            s(x),
            flags_text(flags.oob, flags.peek, flags.dontroute)
        ),
        Action::SetSockOpt {
            s: x,
            option,
            value,
        } => format!("setsockopt({}, SOL_SOCKET, {option}, &{value}, 4)", s(x)),
        Action::Close { s: x } => format!("closesocket({})", s(x)),
        Action::Ioctl(io) => {
            let (inp, inl) = match &io.input {
                InSpec::Null(l) => ("NULL".to_string(), *l),
                InSpec::Bytes(b) => (format!("in[{}]", b.len()), b.len() as u32),
            };
            let (outp, outl) = match io.output {
                OutSpec::None => ("NULL".to_string(), 0),
                OutSpec::Null(l) => ("NULL".to_string(), l),
                OutSpec::Capacity(l) => (format!("out[{l}]"), l),
            };
            format!(
                "WSAIoctl({}, {}, {inp}, {inl}, {outp}, {outl}, {}, {}, {})",
                s(&io.socket),
                io.code,
                if io.bytes_returned { "&n" } else { "NULL" },
                match (io.overlapped, io.event) {
                    (Some(o), Some(e)) => format!("&{} (hEvent {})", n.overlapped[o], n.events[e]),
                    (Some(o), None) => format!("&{}", n.overlapped[o]),
                    _ => "NULL".into(),
                },
                io.completion
                    .map_or("NULL".into(), |c| n.routines[c].clone())
            )
        }
        Action::IoctlSocket { s: x, cmd, arg } => format!(
            "ioctlsocket({}, {cmd}, {})",
            s(x),
            arg.map_or("<invalid pointer>".into(), |v| format!("&{v}"))
        ),
        Action::EventSelect { s: x, ev, events } => format!(
            "WSAEventSelect({}, {}, {})",
            s(x),
            n.events[*ev],
            fd_text(*events)
        ),
        Action::AsyncSelect {
            s: x,
            window,
            message,
            events,
        } => format!(
            "WSAAsyncSelect({}, {}, 0x{message:X}, {})",
            s(x),
            n.windows[*window],
            fd_text(*events)
        ),
        Action::EnumNetworkEvents { s: x, ev } => format!(
            "WSAEnumNetworkEvents({}, {}, &ne)",
            s(x),
            ev.map_or("NULL", |e| n.events[e].as_str())
        ),
        Action::ResetEvent(e) => format!("WSAResetEvent({})", n.events[*e]),
        Action::SetEvent(e) => format!("WSASetEvent({})", n.events[*e]),
        Action::Wait {
            events,
            all,
            timeout,
            alertable,
        } => format!(
            "WSAWaitForMultipleEvents({}, [{}], {}, {}, {})",
            events.len(),
            events
                .iter()
                .map(|e| n.events[*e].as_str())
                .collect::<Vec<_>>()
                .join(", "),
            bool_text(*all),
            timeout_text(*timeout),
            bool_text(*alertable)
        ),
        Action::SleepEx { timeout, alertable } => format!(
            "SleepEx({}, {})",
            timeout_text(*timeout),
            bool_text(*alertable)
        ),
        Action::Iocp(p) => format!(
            "{} = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 0)",
            n.ports[*p]
        ),
        Action::Associate { s: x, port, key } => format!(
            "CreateIoCompletionPort({}, {}, {key}, 0)",
            s(x),
            n.ports[*port]
        ),
        Action::GetQueued { port, timeout } => format!(
            "GetQueuedCompletionStatus({}, &bytes, &key, &ov, {})",
            n.ports[*port],
            timeout_text(*timeout)
        ),
        Action::GetOverlappedResult { s: x, ov, wait } => format!(
            "WSAGetOverlappedResult({}, &{}, &bytes, {}, &flags)",
            s(x),
            n.overlapped[*ov],
            bool_text(*wait)
        ),
        Action::OverlappedStatus(ov) => format!(
            "{}.Internal, {}.InternalHigh",
            n.overlapped[*ov], n.overlapped[*ov]
        ),
        Action::Join(t) => format!("join({})", n.threads[*t]),
        Action::Net(c) => format!("net {c:?}"),
        Action::Advance(ms) => format!("advance {ms}ms"),
    }
}

fn unreachable_action() -> ! {
    panic!("invariant: `signaled` is only parsed for wait steps")
}

fn flags_text(oob: bool, peek: bool, dontroute: bool) -> String {
    let mut v = Vec::new();
    if oob {
        v.push("MSG_OOB");
    }
    if peek {
        v.push("MSG_PEEK");
    }
    if dontroute {
        v.push("MSG_DONTROUTE");
    }
    if v.is_empty() {
        "0".into()
    } else {
        v.join("|")
    }
}

fn fd_text(e: NetworkEvents) -> String {
    if e.is_empty() {
        return "0".into();
    }
    e.names()
        .iter()
        .map(|n| format!("FD_{}", n.to_uppercase()))
        .collect::<Vec<_>>()
        .join("|")
}

pub(crate) fn events_text(e: NetworkEvents) -> String {
    format!("[{}]", e.names().join(", "))
}

fn show_bytes(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) if s.chars().all(|c| !c.is_control()) => format!("\"{s}\""),
        _ => format!("hex {}", hex(b)),
    }
}

/// Appends the canonical summary of an outcome to a trace line.
fn summary(a: &Actual, line: &mut String, sc: &Scenario) {
    if a.blocked {
        line.push_str(" blocked");
        return;
    }
    if let Some(p) = &a.problem {
        let _ = write!(line, " problem: {p}");
        return;
    }
    if let Some(r) = a.result {
        let _ = write!(line, " result={r}");
    }
    if let Some(e) = a.error {
        let _ = write!(line, " error={e}");
    }
    if let Some(b) = a.bytes_returned {
        let _ = write!(line, " bytes_returned={}", br_text(b));
    }
    if a.out.is_some() && a.written > 0 {
        let buf = a.out.as_deref().unwrap_or(&[]);
        let _ = write!(line, " out={}", hex(&buf[..a.written.min(buf.len())]));
    }
    if let Some(d) = &a.data {
        if !d.is_empty() {
            let _ = write!(line, " data={}", hex(d));
        }
    }
    if let Some(v) = a.arg {
        let _ = write!(line, " arg={v}");
    }
    if let Some(e) = a.events {
        let _ = write!(line, " events={}", events_text(e));
    }
    if let Some(apcs) = &a.apcs {
        for g in apcs {
            let _ = write!(
                line,
                " apc({}, {}, {}, {})",
                sc.names.routine_name(g.routine).unwrap_or("?"),
                g.error,
                g.bytes,
                sc.names.overlapped_name(g.overlapped).unwrap_or("?"),
            );
        }
    }
    if let Some(b) = a.bytes {
        let _ = write!(line, " bytes={b}");
    }
    if let Some(k) = a.key {
        let _ = write!(line, " key={k}");
    }
    if let Some(o) = a.overlapped {
        let name = o.map_or("null", |x| sc.names.overlapped_name(x).unwrap_or("?"));
        let _ = write!(line, " overlapped={name}");
    }
    if let Some(i) = a.internal {
        let _ = write!(line, " internal={i}");
    }
    if let Some(h) = a.internal_high {
        let _ = write!(line, " internal_high={h}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parse_scenario;

    fn run(src: &str) -> ScenarioResult {
        run_scenario(
            &parse_scenario("t.yaml", src).unwrap(),
            RunOptions {
                seed: None,
                trace: true,
            },
        )
    }

    #[test]
    fn the_unsupported_code_answer_is_compared_field_by_field() {
        let r = run("name: x\nsteps:\n  - socket: s\n  - ioctl: s\n    code: 0xDEADBEEF\n    expect: { result: 0, bytes_returned: 0 }\n");
        let f = r.failure.expect("result differs");
        assert_eq!(f.fields.len(), 1);
        assert_eq!(f.fields[0].field, "result");
        assert_eq!(
            (f.fields[0].expected.as_str(), f.fields[0].actual.as_str()),
            ("0", "-1")
        );
    }

    #[test]
    fn a_step_without_expect_must_succeed() {
        let r = run("name: x\nsteps:\n  - socket: s\n  - ioctl: s\n    code: 0xDEADBEEF\n");
        assert!(r
            .failure
            .expect("must fail")
            .reason
            .contains("must succeed"));
    }

    #[test]
    fn traces_name_sockets_and_never_print_handles() {
        let r = run("name: x\nsteps:\n  - socket: sock_a\n  - ioctl: sock_a\n    code: 0xDEADBEEF\n    expect: any\n");
        assert!(
            r.trace[1].contains("WSAIoctl(sock_a, 0xDEADBEEF"),
            "{}",
            r.trace[1]
        );
        assert!(!r.trace.iter().any(|l| l.contains("socket#")));
    }

    #[test]
    fn the_seed_option_overrides_the_file() {
        let sc = parse_scenario("t.yaml", "name: x\nseed: 3\nsteps: []\n").unwrap();
        assert_eq!(run_scenario(&sc, RunOptions::default()).seed, 3);
        assert_eq!(
            run_scenario(
                &sc,
                RunOptions {
                    seed: Some(9),
                    trace: false
                }
            )
            .seed,
            9
        );
    }
}
