//! The model backend: a thin adapter that performs each step on a [`Host`].

use crate::errors::{ErrorCode, NtStatus};
use crate::ioctl::{InBuffer, IoctlCall, OutBuffer};
use crate::model::socket::NetworkEvents;
use crate::model::{Event, Host, HostConfig, Port, Socket, ThreadId};
use crate::outcome::{CallReturn, IoctlOutcome};
use crate::scenario::{Action, InSpec, IoctlStep, Names, OutSpec, ResultVal, Scenario, Target};
use crate::winsock::{GqcsOutcome, OverlappedResult, Released, SockResult};
use crate::wire::PointerSize;

use super::{Backend, Outcome as Actual};

/// The model as a [`Backend`]: one fresh [`Host`] per scenario, names mapped to the
/// handles it hands out.
pub struct ModelBackend {
    host: Host,
    thread_names: Vec<String>,
    sockets: Vec<Option<Socket>>,
    /// Every handle each socket name has had (a name can be reused after close).
    history: Vec<(usize, u64)>,
    events: Vec<Option<Event>>,
    ports: Vec<Option<Port>>,
}

impl ModelBackend {
    /// A backend for one scenario, on the scenario's host and settings.
    pub fn new(sc: &Scenario, config: HostConfig) -> ModelBackend {
        ModelBackend::with_network(sc, sc.network.clone(), config)
    }

    /// A backend for one scenario on another network (the differential mode builds it
    /// from the real host's interfaces and routes).
    pub fn with_network(
        sc: &Scenario,
        network: crate::model::Network,
        config: HostConfig,
    ) -> ModelBackend {
        ModelBackend {
            host: Host::new(network, config),
            thread_names: sc.names.threads.clone(),
            sockets: vec![None; sc.names.sockets.len()],
            history: Vec::new(),
            events: vec![None; sc.names.events.len()],
            ports: vec![None; sc.names.ports.len()],
        }
    }

    /// The host, for inspection.
    pub fn host(&self) -> &Host {
        &self.host
    }

    fn set_socket(&mut self, i: usize, s: Socket) {
        self.sockets[i] = Some(s);
        self.history.push((i, s.0));
    }

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

    fn sock_actual(r: SockResult) -> Actual {
        Actual {
            data: Some(r.data),
            ..Actual::int(r.result, r.error)
        }
    }

    fn created(r: Result<(), ErrorCode>) -> Actual {
        match r {
            Ok(()) => Actual::int(0, ErrorCode::NO_ERROR),
            Err(e) => Actual::int(-1, e),
        }
    }

    fn perform(&mut self, thread: usize, action: &Action) -> Actual {
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
                if let Ok(h) = r {
                    self.set_socket(*s, h);
                }
                Self::created(r.map(|_| ()))
            }
            Action::Pair { a, b, af, kind } => {
                let r = self.host.pair(*af, *kind);
                if let Ok((x, y)) = r {
                    self.set_socket(*a, x);
                    self.set_socket(*b, y);
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
                    self.set_socket(*as_, c);
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

                Actual {
                    result: Some(ResultVal::Int(i64::from(result))),
                    error: Some(error),
                    arg: Some(after),
                    ok: result == 0,
                    ..Actual::default()
                }
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
                    CallReturn::Returned(w) => super::wait_outcome(w, true, false),
                }
            }
            Action::SleepEx { timeout, alertable } => {
                match self.host.sleep_ex(tid, *timeout, *alertable) {
                    CallReturn::Blocked(_) => Actual {
                        blocked: true,
                        ..Actual::default()
                    },
                    CallReturn::Returned(w) => super::wait_outcome(w, false, true),
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
                Actual::boolean(r.is_ok(), r.err().unwrap_or(ErrorCode::NO_ERROR))
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
                let id = Names::overlapped_id(*ov);
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
                let rec = self.host.overlapped(Names::overlapped_id(*ov));
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
                            self.thread_names[t.0 as usize]
                        )),
                        ..Actual::default()
                    };
                }
                match self.host.poll_thread(t) {
                    None => Actual {
                        problem: Some(format!(
                            "thread `{}` has no released call to join (the thread never blocked, or its call was already joined)",
                            self.thread_names[t.0 as usize]
                        )),
                        ..Actual::default()
                    },
                    Some(Released::Ioctl(o)) => ioctl_actual(&o, None),
                    Some(Released::Wait(w)) => super::wait_outcome(w, false, false),
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
                    problem: Some(format!("the host change was refused: {e}")),
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
        Actual::boolean(r, self.host.wsa_get_last_error())
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
                Names::overlapped_id(ov),
                event,
                io.completion.map(Names::routine_id),
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
}

impl Backend for ModelBackend {
    fn name(&self) -> String {
        "model".into()
    }

    fn exec(&mut self, thread: usize, action: &Action) -> Actual {
        self.perform(thread, action)
    }

    fn is_blocked(&self, thread: usize) -> bool {
        self.host.is_blocked(Self::thread(thread))
    }

    fn clock(&self) -> String {
        self.host.now().to_string()
    }

    fn pointer_size(&self) -> PointerSize {
        self.host.config().pointer_size
    }

    fn socket_value(&self, name: usize) -> Option<u64> {
        self.sockets.get(name).copied().flatten().map(|h| h.0)
    }

    fn socket_values(&self) -> Vec<(usize, u64)> {
        self.history.clone()
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

    Actual {
        result: Some(ResultVal::Int(i64::from(o.result))),
        error: Some(o.error),
        bytes_returned: Some(o.bytes_returned),
        written: o.out.len(),
        out,
        ok: o.result == 0,
        ..Actual::default()
    }
}

fn gqcs_actual(g: GqcsOutcome) -> Actual {
    Actual {
        result: Some(ResultVal::Bool(g.result)),
        error: Some(g.error),
        bytes: Some(g.bytes),
        key: Some(g.key),
        overlapped: Some(g.overlapped),
        ok: g.result,
        ..Actual::default()
    }
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
    if let Some(d) = o.diagnostic {
        a.problem = Some(format!("undefined behaviour on Windows: {d}"));
    }
    a
}
