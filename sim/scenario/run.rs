//! Replays a [`Scenario`] on a fresh `Host`: maps names to handles, makes each call
//! through the host's public methods, compares the outcome field by field and writes
//! the canonical trace (names, never handles; virtual time; identical on every run).
//!
//! A call the model does not model yet (the contract stubs answer with the sentinel
//! error 0xFFFFFFFF or an `Err("... not yet modelled")`) fails its step with "not yet
//! modelled", whatever the step expects.

use std::fmt::Write as _;

use super::encode::{check_out, hex, InSpec};
use super::{Action, Checks, Expect, IoctlStep, OutSpec, ResultVal, Scenario, Target};
use crate::errors::{ErrorCode, NtStatus};
use crate::ioctl::{InBuffer, IoctlCall, OutBuffer};
use crate::model::overlapped::Apc;
use crate::model::socket::NetworkEvents;
use crate::model::{Event, Host, OverlappedId, Port, RoutineId, Socket, ThreadId};
use crate::outcome::{BytesReturned, CallReturn, IoctlOutcome};
use crate::time::Timeout;
use crate::winsock::{
    GqcsOutcome, OverlappedResult, Released, SockResult, WaitOutcome, WaitResult,
};

/// The error the contract stubs return for calls not modelled yet.
pub const NOT_MODELLED: ErrorCode = ErrorCode(0xFFFF_FFFF);

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

/// What one call gave, field by field; `None` for fields the call does not report.
#[derive(Clone, Debug, Default)]
struct Actual {
    result: Option<ResultVal>,
    error: Option<ErrorCode>,
    bytes_returned: Option<BytesReturned>,
    /// The output buffer after the call: written bytes, then (a window of) the 0xCC fill.
    out: Option<Vec<u8>>,
    written: usize,
    blocked: bool,
    data: Option<Vec<u8>>,
    arg: Option<u32>,
    events: Option<NetworkEvents>,
    errors: Option<[ErrorCode; 10]>,
    signaled: Option<Option<usize>>,
    apcs: Option<Vec<Apc>>,
    bytes: Option<u32>,
    key: Option<u64>,
    overlapped: Option<Option<OverlappedId>>,
    flags: Option<u32>,
    internal: Option<NtStatus>,
    internal_high: Option<u64>,
    /// The call succeeded (for steps without `expect:`).
    ok: bool,
    /// A failure that is not a field mismatch (not modelled, host change refused).
    problem: Option<String>,
}

fn result_eq(a: ResultVal, b: ResultVal) -> bool {
    let n = |r: ResultVal| match r {
        ResultVal::Int(n) => n,
        ResultVal::Bool(b) => i64::from(b),
    };
    n(a) == n(b)
}

fn err_text(e: ErrorCode) -> String {
    match e.name() {
        Some(n) if e.0 != 0 => format!("{n} ({})", e.0),
        _ => e.0.to_string(),
    }
}

fn br_text(b: BytesReturned) -> String {
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

struct Runner<'a> {
    sc: &'a Scenario,
    host: Host,
    sockets: Vec<Option<Socket>>,
    events: Vec<Option<Event>>,
    ports: Vec<Option<Port>>,
    /// Per thread: was its last expectation `blocks: true`.
    last_blocks: Vec<bool>,
    trace: Option<Vec<String>>,
}

/// Replays a scenario.
pub fn run_scenario(sc: &Scenario, opts: RunOptions) -> ScenarioResult {
    let mut config = sc.config;
    if let Some(seed) = opts.seed {
        config.seed = seed;
    }
    let mut r = Runner {
        sc,
        host: Host::new(sc.network.clone(), config),
        sockets: vec![None; sc.names.sockets.len()],
        events: vec![None; sc.names.events.len()],
        ports: vec![None; sc.names.ports.len()],
        last_blocks: vec![false; sc.names.threads.len()],
        trace: opts.trace.then(Vec::new),
    };
    let failure = r.run();
    ScenarioResult {
        file: sc.file.clone(),
        name: sc.name.clone(),
        steps: sc.steps.len(),
        seed: config.seed,
        failure,
        trace: r.trace.unwrap_or_default(),
    }
}

impl Runner<'_> {
    fn sock(&self, i: usize) -> Socket {
        // A name whose creation failed maps to a handle no socket ever has, so the
        // model answers WSAENOTSOCK as Windows does for a bad handle.
        self.sockets[i].unwrap_or(Socket(u64::MAX))
    }

    fn event(&mut self, i: usize) -> Event {
        match self.events[i] {
            Some(e) => e,
            None => {
                let e = self.host.wsa_create_event();
                self.events[i] = Some(e);
                e
            }
        }
    }

    fn port(&self, i: usize) -> Port {
        self.ports[i].unwrap_or(Port(u64::MAX))
    }

    fn thread(i: usize) -> ThreadId {
        ThreadId(i as u64)
    }

    fn ov_name(&self, ov: OverlappedId) -> String {
        self.sc
            .names
            .overlapped
            .get((ov.0 as usize).wrapping_sub(1))
            .cloned()
            .unwrap_or_else(|| ov.to_string())
    }

    fn routine_name(&self, r: RoutineId) -> String {
        self.sc
            .names
            .routines
            .get((r.0 as usize).wrapping_sub(1))
            .cloned()
            .unwrap_or_else(|| r.to_string())
    }

    fn run(&mut self) -> Option<StepFailure> {
        let sc = self.sc;
        for (i, step) in sc.steps.iter().enumerate() {
            let tid = Self::thread(step.thread);
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
            if !matches!(step.action, Action::Join(_)) && self.host.is_blocked(tid) {
                return Some(fail(
                    format!("thread `{thread_name}` is still blocked in an earlier call; `join: {thread_name}` first"),
                    Vec::new(),
                ));
            }
            let now = self.host.now();
            let actual = self.exec(step.thread, &step.action);
            if let Some(t) = &mut self.trace {
                let mut line = format!(
                    "{now} step {} line {} {thread_name}: {call} ->",
                    i + 1,
                    step.pos.line
                );
                summary(&actual, &mut line, sc, self.sockets.as_slice());
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
            if self.host.is_blocked(Self::thread(t))
                && !(sc.allow_blocked_at_end && self.last_blocks[t])
            {
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

    fn sock_actual(r: SockResult) -> Actual {
        let mut a = Actual {
            result: Some(ResultVal::Int(i64::from(r.result))),
            error: Some(r.error),
            ok: r.result >= 0,
            ..Actual::default()
        };
        if r.error == NOT_MODELLED {
            a.problem =
                Some("not yet modelled: the model answered with its placeholder error".into());
        }
        a.data = Some(r.data);
        a
    }

    fn created(r: Result<(), ErrorCode>) -> Actual {
        let (result, error) = match r {
            Ok(()) => (0, ErrorCode::NO_ERROR),
            Err(e) => (-1, e),
        };
        let mut a = Actual {
            result: Some(ResultVal::Int(result)),
            error: Some(error),
            ok: result == 0,
            ..Actual::default()
        };
        if error == NOT_MODELLED {
            a.problem =
                Some("not yet modelled: the model answered with its placeholder error".into());
        }
        a
    }

    fn exec(&mut self, thread: usize, action: &Action) -> Actual {
        let tid = Self::thread(thread);
        match action {
            Action::Socket {
                s,
                af,
                kind,
                protocol,
                overlapped,
            } => {
                let r = self.host.wsa_socket(*af, *kind, *protocol, *overlapped);
                self.sockets[*s] = r.ok();
                Self::created(r.map(|_| ()))
            }
            Action::Pair { a, b, af, kind } => {
                let r = self.host.pair(*af, *kind);
                if let Ok((x, y)) = r {
                    self.sockets[*a] = Some(x);
                    self.sockets[*b] = Some(y);
                }
                Self::created(r.map(|_| ()))
            }
            Action::Bind { s, addr } => Self::sock_actual(self.host.bind(self.sock(*s), *addr)),
            Action::Listen { s } => Self::sock_actual(self.host.listen(self.sock(*s))),
            Action::Connect { s, to } => {
                let addr = match to {
                    Target::Addr(a) => Some(*a),
                    Target::Socket(t) => self
                        .host
                        .socket(self.sock(*t))
                        .and_then(|st| st.state.local()),
                };
                match addr {
                    Some(a) => Self::sock_actual(self.host.connect(self.sock(*s), a)),
                    None => Actual {
                        problem: Some("`to:` names a socket that is not bound, so there is no address to connect to".into()),
                        ..Actual::default()
                    },
                }
            }
            Action::Accept { s, as_ } => {
                let r = self.host.accept(self.sock(*s));
                if let Ok(c) = r {
                    self.sockets[*as_] = Some(c);
                }
                Self::created(r.map(|_| ()))
            }
            Action::Send { s, data, flags } => {
                Self::sock_actual(self.host.send(self.sock(*s), data, *flags))
            }
            Action::Recv { s, len, flags } => {
                Self::sock_actual(self.host.recv(self.sock(*s), *len, *flags))
            }
            Action::SetSockOpt { s, option, value } => {
                Self::sock_actual(self.host.setsockopt(self.sock(*s), option, *value))
            }
            Action::Close { s } => Self::sock_actual(self.host.closesocket(self.sock(*s))),
            Action::Ioctl(io) => self.ioctl(tid, io),
            Action::IoctlSocket { s, cmd, arg } => {
                let (result, after) = self.host.ioctlsocket(self.sock(*s), *cmd, *arg);
                let error = if result == 0 {
                    ErrorCode::NO_ERROR
                } else {
                    self.host.wsa_get_last_error()
                };
                let mut a = Actual {
                    result: Some(ResultVal::Int(i64::from(result))),
                    error: Some(error),
                    arg: Some(after),
                    ok: result == 0,
                    ..Actual::default()
                };
                if error == NOT_MODELLED {
                    a.problem = Some("not yet modelled".into());
                }
                a
            }
            Action::EventSelect { s, ev, events } => {
                let e = self.event(*ev);
                Self::sock_actual(self.host.wsa_event_select(self.sock(*s), e, *events))
            }
            Action::AsyncSelect {
                s,
                window,
                message,
                events,
            } => {
                let w = 0x1_0000 + *window as u64;
                Self::sock_actual(
                    self.host
                        .wsa_async_select(self.sock(*s), w, *message, *events),
                )
            }
            Action::EnumNetworkEvents { s, ev } => {
                let e = ev.map(|e| self.event(e));
                match self.host.wsa_enum_network_events(self.sock(*s), e) {
                    Ok(rep) => Actual {
                        result: Some(ResultVal::Int(0)),
                        error: Some(ErrorCode::NO_ERROR),
                        events: Some(rep.events),
                        errors: Some(rep.errors),
                        ok: true,
                        ..Actual::default()
                    },
                    Err(e) => {
                        let mut a = Self::created(Err(e));
                        a.events = Some(NetworkEvents::NONE);
                        a.errors = Some([ErrorCode::NO_ERROR; 10]);
                        a
                    }
                }
            }
            Action::ResetEvent(ev) => {
                let e = self.event(*ev);
                let r = self.host.wsa_reset_event(e);
                self.bool_actual(r)
            }
            Action::SetEvent(ev) => {
                let e = self.event(*ev);
                let r = self.host.wsa_set_event(e);
                self.bool_actual(r)
            }
            Action::Wait {
                events,
                all,
                timeout,
                alertable,
            } => {
                let evs: Vec<Event> = events.iter().map(|e| self.event(*e)).collect();
                let r = self
                    .host
                    .wsa_wait_for_multiple_events(tid, &evs, *all, *timeout, *alertable);
                match r {
                    CallReturn::Blocked(_) => Actual {
                        blocked: true,
                        ..Actual::default()
                    },
                    CallReturn::Returned(w) => wait_actual(w, Some(events), false),
                }
            }
            Action::SleepEx { timeout, alertable } => {
                match self.host.sleep_ex(tid, *timeout, *alertable) {
                    CallReturn::Blocked(_) => Actual {
                        blocked: true,
                        ..Actual::default()
                    },
                    CallReturn::Returned(w) => wait_actual(w, None, true),
                }
            }
            Action::Iocp(p) => {
                let port = self.host.create_io_completion_port();
                self.ports[*p] = Some(port);
                self.bool_actual(true)
            }
            Action::Associate { s, port, key } => {
                let r = self
                    .host
                    .associate_with_port(self.sock(*s), self.port(*port), *key);
                let mut a = self.bool_actual(r.is_ok());
                if let Err(e) = r {
                    a.error = Some(e);
                    if e == NOT_MODELLED {
                        a.problem = Some("not yet modelled".into());
                    }
                }
                a
            }
            Action::GetQueued { port, timeout } => {
                match self
                    .host
                    .get_queued_completion_status(tid, self.port(*port), *timeout)
                {
                    CallReturn::Blocked(_) => Actual {
                        blocked: true,
                        ..Actual::default()
                    },
                    CallReturn::Returned(g) => gqcs_actual(g),
                }
            }
            Action::GetOverlappedResult { s, ov, wait } => {
                let id = OverlappedId(*ov as u64 + 1);
                match self
                    .host
                    .wsa_get_overlapped_result(tid, self.sock(*s), id, *wait)
                {
                    CallReturn::Blocked(_) => Actual {
                        blocked: true,
                        ..Actual::default()
                    },
                    CallReturn::Returned(o) => gor_actual(o),
                }
            }
            Action::OverlappedStatus(ov) => {
                let rec = self.host.overlapped(OverlappedId(*ov as u64 + 1));
                Actual {
                    internal: Some(NtStatus(rec.internal as u32)),
                    internal_high: Some(rec.internal_high),
                    ok: true,
                    ..Actual::default()
                }
            }
            Action::Join(t) => {
                let t = Self::thread(*t);
                if self.host.is_blocked(t) {
                    return Actual {
                        problem: Some(format!(
                            "thread `{}` is still blocked: nothing has released its call",
                            self.sc.names.threads[t.0 as usize]
                        )),
                        ..Actual::default()
                    };
                }
                match self.host.poll_thread(t) {
                    None => Actual {
                        problem: Some(format!(
                            "thread `{}` has no released call to join (the model's poll_thread returned nothing; not yet modelled, or the thread never blocked)",
                            self.sc.names.threads[t.0 as usize]
                        )),
                        ..Actual::default()
                    },
                    Some(Released::Ioctl(o)) => ioctl_actual(&o, None),
                    Some(Released::Wait(w)) => wait_actual(w, None, false),
                    Some(Released::Gqcs(g)) => gqcs_actual(g),
                    Some(Released::OverlappedResult(o)) => gor_actual(o),
                }
            }
            Action::Net(change) => match self.host.handle_net_change(change.clone()) {
                Ok(()) => Actual {
                    result: Some(ResultVal::Int(0)),
                    error: Some(ErrorCode::NO_ERROR),
                    ok: true,
                    ..Actual::default()
                },
                Err(e) => Actual {
                    problem: Some(if e.contains("not yet modelled") {
                        format!("not yet modelled: {e}")
                    } else {
                        format!("the host change was refused: {e}")
                    }),
                    ..Actual::default()
                },
            },
            Action::Advance(ms) => {
                self.host.handle_advance(*ms);
                Actual {
                    ok: true,
                    ..Actual::default()
                }
            }
        }
    }

    fn bool_actual(&self, r: bool) -> Actual {
        Actual {
            result: Some(ResultVal::Bool(r)),
            error: Some(if r {
                ErrorCode::NO_ERROR
            } else {
                self.host.wsa_get_last_error()
            }),
            ok: r,
            ..Actual::default()
        }
    }

    fn ioctl(&mut self, tid: ThreadId, io: &IoctlStep) -> Actual {
        let input = match &io.input {
            InSpec::Null(len) => InBuffer::Null { len: *len },
            InSpec::Bytes(b) => InBuffer::Bytes(b),
        };
        let output = match io.output {
            OutSpec::None => OutBuffer::Null { len: 0 },
            OutSpec::Null(n) => OutBuffer::Null { len: n },
            OutSpec::Capacity(n) => OutBuffer::Capacity(n),
        };
        let overlapped = io.overlapped.map(|ov| {
            let event = io.event.map(|e| self.event(e));
            (
                OverlappedId(ov as u64 + 1),
                event,
                io.completion.map(|c| RoutineId(c as u64 + 1)),
            )
        });
        let mut call = IoctlCall::new(self.sock(io.socket), io.code).on_thread(tid);
        call.input = input;
        call.output = output;
        call.bytes_returned = io.bytes_returned;
        if let Some((ov, ev, r)) = overlapped {
            call = call.overlapped(ov, ev, r);
        }
        match self.host.wsa_ioctl(call) {
            CallReturn::Blocked(_) => Actual {
                blocked: true,
                ..Actual::default()
            },
            CallReturn::Returned(o) => ioctl_actual(&o, output.capacity()),
        }
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
                    let ptr = self.host.config().pointer_size;
                    if let Err((e, x)) = check_out(
                        form,
                        buf,
                        ptr,
                        |s| self.sockets.get(s).copied().flatten().map(|h| h.0),
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

    /// The call as Winsock would see it, with names for handles.
    fn describe(&self, a: &Action) -> String {
        let n = &self.sc.names;
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
                        (Some(o), Some(e)) =>
                            format!("&{} (hEvent {})", n.overlapped[o], n.events[e]),
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

fn events_text(e: NetworkEvents) -> String {
    format!("[{}]", e.names().join(", "))
}

fn show_bytes(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) if s.chars().all(|c| !c.is_control()) => format!("\"{s}\""),
        _ => format!("hex {}", hex(b)),
    }
}

fn ioctl_actual(o: &IoctlOutcome, capacity: Option<u32>) -> Actual {
    // The buffer as the caller sees it: the written bytes, then the 0xCC fill. Only a
    // window past the written bytes is materialised (every `out` form reads within it),
    // so a 4 GiB capacity costs what was written, as in the model.
    let out = capacity.map(|n| {
        let n = (n as usize).min(o.out.len() + 4096);
        let mut buf = Vec::with_capacity(n);
        buf.extend_from_slice(&o.out[..o.out.len().min(n)]);
        buf.resize(n, 0xCC);
        buf
    });
    let mut a = Actual {
        result: Some(ResultVal::Int(i64::from(o.result))),
        error: Some(o.error),
        bytes_returned: Some(o.bytes_returned),
        written: o.out.len(),
        out,
        ok: o.result == 0,
        ..Actual::default()
    };
    if o.error == NOT_MODELLED {
        a.problem = Some("not yet modelled".into());
    }
    a
}

fn wait_actual(w: WaitOutcome, events: Option<&Vec<usize>>, sleep: bool) -> Actual {
    let (result, error, signaled, ok) = match w.result {
        WaitResult::Signaled(i) => (i as i64, ErrorCode::NO_ERROR, Some(i), true),
        WaitResult::Timeout => (if sleep { 0 } else { 258 }, ErrorCode::NO_ERROR, None, true),
        WaitResult::IoCompletion => (0xC0, ErrorCode::NO_ERROR, None, true),
        WaitResult::Failed(e) => (0xFFFF_FFFF, e, None, false),
    };
    let mut a = Actual {
        result: Some(ResultVal::Int(result)),
        error: Some(error),
        signaled: events.map(|_| signaled),
        apcs: Some(w.apcs),
        ok,
        ..Actual::default()
    };
    if error == NOT_MODELLED {
        a.problem = Some("not yet modelled".into());
    }
    a
}

fn gqcs_actual(g: GqcsOutcome) -> Actual {
    let mut a = Actual {
        result: Some(ResultVal::Bool(g.result)),
        error: Some(g.error),
        bytes: Some(g.bytes),
        key: Some(g.key),
        overlapped: Some(g.overlapped),
        ok: g.result,
        ..Actual::default()
    };
    if g.error == NOT_MODELLED {
        a.problem = Some("not yet modelled".into());
    }
    a
}

fn gor_actual(o: OverlappedResult) -> Actual {
    let mut a = Actual {
        result: Some(ResultVal::Bool(o.result)),
        error: Some(o.error),
        bytes: Some(o.bytes),
        flags: Some(o.flags),
        ok: o.result,
        ..Actual::default()
    };
    if o.error == NOT_MODELLED {
        a.problem = Some("not yet modelled".into());
    } else if let Some(d) = o.diagnostic {
        a.problem = Some(format!("undefined behaviour on Windows: {d}"));
    }
    a
}

/// Appends the canonical summary of an outcome to a trace line.
fn summary(a: &Actual, line: &mut String, sc: &Scenario, sockets: &[Option<Socket>]) {
    let _ = sockets;
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
                sc.names
                    .routines
                    .get((g.routine.0 as usize).wrapping_sub(1))
                    .map_or("?", |s| s.as_str()),
                g.error,
                g.bytes,
                sc.names
                    .overlapped
                    .get((g.overlapped.0 as usize).wrapping_sub(1))
                    .map_or("?", |s| s.as_str()),
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
        let name = o.map_or("null", |x| {
            sc.names
                .overlapped
                .get((x.0 as usize).wrapping_sub(1))
                .map_or("?", |s| s.as_str())
        });
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
