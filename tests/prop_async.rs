//! Property tests of the asynchronous model.
//!
//! 1. A state machine: random interleavings of ioctls (with and without an OVERLAPPED,
//!    an event, a completion routine, a completion port), selections, event changes,
//!    waits, GQCS, WSAGetOverlappedResult, host changes, time and closes, on three
//!    threads. After every step the invariants hold:
//!    - every pending operation's OVERLAPPED reads STATUS_PENDING, every completed one
//!      its final status;
//!    - every operation is delivered at most once, and only through its own path
//!      (a packet only for a port delivery, a routine call only for an APC delivery);
//!    - an operation of a closed socket is never pending;
//!    - no thread stays parked whose wait is already satisfied (a signaled event, a
//!      queued routine for an alertable wait, a packet on its port, a completed
//!      request), and none stays parked in a call on a closed socket.
//!
//!    At the end every socket is closed and every queue drained: each operation was
//!    delivered exactly once through its own path.
//!    A failure prints the shrunk sequence as a scenario (docs: scenario-format.md).
//! 2. The reference's routing recipe: one outstanding wildcard SIO_ROUTING_INTERFACE_CHANGE,
//!    re-armed after each completion and followed by SIO_ROUTING_INTERFACE_QUERY, always
//!    gives the current route.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};

use proptest::prelude::*;
use wsasim::codes::IoctlCode;
use wsasim::errors::{ErrorCode, NtStatus};
use wsasim::ioctl::IoctlCall;
use wsasim::model::net::{IfAddress, Prefix};
use wsasim::model::overlapped::BlockedCall;
use wsasim::model::socket::NetworkEvents;
use wsasim::model::{
    AddressFamily, Delivery, Event, Host, OpState, OverlappedId, Port, RoutineId, Socket,
    SocketType, ThreadId,
};
use wsasim::outcome::CallReturn;
use wsasim::time::Timeout;
use wsasim::winsock::{GqcsOutcome, NetChange, Released, WaitOutcome};

const THREADS: u8 = 3;
const SOCKETS: u8 = 3;
const EVENTS: u8 = 3;

#[derive(Clone, Copy, Debug)]
enum Code {
    Fionread,
    Unknown,
    AddressListChange,
    RoutingWildcard,
    RoutingDest,
}

#[derive(Clone, Debug)]
enum Action {
    Ioctl {
        thread: u8,
        socket: u8,
        code: Code,
        ov: bool,
        event: Option<u8>,
        routine: bool,
    },
    Select {
        socket: u8,
        event: u8,
        mask: u8,
    },
    SetEvent(u8),
    ResetEvent(u8),
    Wait {
        thread: u8,
        events: u8,
        all: bool,
        infinite: bool,
        alertable: bool,
    },
    Sleep {
        thread: u8,
        infinite: bool,
    },
    Gqcs {
        thread: u8,
        infinite: bool,
    },
    Result {
        thread: u8,
        pick: u8,
        wait: bool,
    },
    Net(u8),
    Advance(u16),
    Close(u8),
}

fn action() -> impl Strategy<Value = Action> {
    let t = 0..THREADS;
    prop_oneof![
        4 => (t.clone(), 0..SOCKETS, prop_oneof![
                Just(Code::Fionread), Just(Code::Unknown), Just(Code::AddressListChange),
                Just(Code::RoutingWildcard), Just(Code::RoutingDest)],
             any::<bool>(), proptest::option::of(0..EVENTS), any::<bool>())
            .prop_map(|(thread, socket, code, ov, event, routine)| Action::Ioctl {
                thread, socket, code, ov, event, routine }),
        1 => (0..SOCKETS, 0..EVENTS, 0u8..4).prop_map(|(socket, event, mask)| Action::Select {
                socket, event, mask }),
        1 => (0..EVENTS).prop_map(Action::SetEvent),
        1 => (0..EVENTS).prop_map(Action::ResetEvent),
        2 => (t.clone(), 1u8..8, any::<bool>(), any::<bool>(), any::<bool>())
            .prop_map(|(thread, events, all, infinite, alertable)| Action::Wait {
                thread, events, all, infinite, alertable }),
        2 => (t.clone(), any::<bool>()).prop_map(|(thread, infinite)| Action::Sleep { thread, infinite }),
        2 => (t.clone(), any::<bool>()).prop_map(|(thread, infinite)| Action::Gqcs { thread, infinite }),
        1 => (t, any::<u8>(), any::<bool>()).prop_map(|(thread, pick, wait)| Action::Result {
                thread, pick, wait }),
        2 => (0u8..8).prop_map(Action::Net),
        1 => (0u16..500).prop_map(Action::Advance),
        1 => (0..SOCKETS).prop_map(Action::Close),
    ]
}

fn thread_name(t: u8) -> String {
    if t == 0 {
        "main".into()
    } else {
        format!("t{t}")
    }
}

fn mask_of(m: u8) -> (NetworkEvents, &'static str) {
    match m {
        0 => (NetworkEvents::NONE, "[]"),
        1 => (NetworkEvents::ADDRESS_LIST_CHANGE, "[address_list_change]"),
        2 => (
            NetworkEvents::ROUTING_INTERFACE_CHANGE,
            "[routing_interface_change]",
        ),
        _ => (
            NetworkEvents::READ | NetworkEvents::ADDRESS_LIST_CHANGE,
            "[read, address_list_change]",
        ),
    }
}

fn net_change(n: u8) -> (NetChange, String) {
    let addr = |a: &str| IfAddress::parse(a).unwrap();
    let pfx = |p: &str| Prefix::parse(p).unwrap();
    match n {
        0 => (
            NetChange::AddAddress {
                interface: "eth0".into(),
                address: addr("10.1.2.3/8"),
            },
            r#"{ add_address: { interface: eth0, address: "10.1.2.3/8" } }"#.into(),
        ),
        1 => (
            NetChange::RemoveAddress {
                interface: "eth0".into(),
                address: addr("10.1.2.3/8"),
            },
            r#"{ remove_address: { interface: eth0, address: "10.1.2.3/8" } }"#.into(),
        ),
        2 => (
            NetChange::SetInterface {
                name: "eth0".into(),
                up: false,
            },
            "{ set_interface: { name: eth0, up: false } }".into(),
        ),
        3 => (
            NetChange::SetInterface {
                name: "eth0".into(),
                up: true,
            },
            "{ set_interface: { name: eth0, up: true } }".into(),
        ),
        4 => (
            NetChange::AddRoute {
                prefix: pfx("8.8.0.0/16"),
                interface: "eth0".into(),
                gateway: Some("192.168.1.2".parse().unwrap()),
                metric: 5,
            },
            r#"{ add_route: { prefix: "8.8.0.0/16", interface: eth0, gateway: "192.168.1.2", metric: 5 } }"#.into(),
        ),
        5 => (
            NetChange::RemoveRoute {
                prefix: pfx("8.8.0.0/16"),
                interface: "eth0".into(),
            },
            r#"{ remove_route: { prefix: "8.8.0.0/16", interface: eth0 } }"#.into(),
        ),
        6 => (
            NetChange::AddAddress {
                interface: "eth0".into(),
                address: addr("2001:db8::5/64"),
            },
            r#"{ add_address: { interface: eth0, address: "2001:db8::5/64" } }"#.into(),
        ),
        _ => (
            NetChange::RemoveAddress {
                interface: "eth0".into(),
                address: addr("2001:db8::5/64"),
            },
            r#"{ remove_address: { interface: eth0, address: "2001:db8::5/64" } }"#.into(),
        ),
    }
}

/// What the test knows about each operation it started.
#[derive(Default)]
struct Tracker {
    /// OVERLAPPED → operation id, for every operation started.
    ops: BTreeMap<OverlappedId, wsasim::model::OpId>,
    /// OVERLAPPED → packets seen.
    packets: BTreeMap<OverlappedId, u32>,
    /// OVERLAPPED → routine calls seen.
    apcs: BTreeMap<OverlappedId, u32>,
    /// Every OVERLAPPED used, in order (WSAGetOverlappedResult picks among them).
    used: Vec<(u8, OverlappedId)>,
}

impl Tracker {
    fn gqcs(&mut self, r: &GqcsOutcome) {
        if let Some(ov) = r.overlapped {
            *self.packets.entry(ov).or_default() += 1;
        }
    }
    fn wait(&mut self, w: &WaitOutcome) {
        for a in &w.apcs {
            *self.apcs.entry(a.overlapped).or_default() += 1;
        }
    }
    fn released(&mut self, r: &Released) {
        match r {
            Released::Gqcs(g) => self.gqcs(g),
            Released::Wait(w) => self.wait(w),
            Released::Ioctl(_) | Released::OverlappedResult(_) => {}
        }
    }
}

struct World {
    host: Host,
    sockets: Vec<Socket>,
    events: Vec<Event>,
    port: Port,
    tracker: Tracker,
    yaml: Vec<String>,
    next_ov: u64,
}

impl World {
    fn new() -> World {
        let mut host = Host::default_host();
        let mut yaml = Vec::new();
        let mut sockets = Vec::new();
        for i in 0..SOCKETS {
            let af = if i == 2 {
                AddressFamily::Inet6
            } else {
                AddressFamily::Inet
            };
            sockets.push(host.socket_default(af, SocketType::Stream).unwrap());
            yaml.push(format!(
                "- socket: s{i}\n  af: {}",
                if i == 2 { "inet6" } else { "inet" }
            ));
        }
        let port = host.create_io_completion_port();
        yaml.push("- iocp: port".into());
        for i in [0u8, 2] {
            host.associate_with_port(sockets[i as usize], port, u64::from(i))
                .unwrap();
            yaml.push(format!("- associate: s{i}\n  port: port\n  key: {i}"));
        }
        let events = (0..EVENTS).map(|_| host.wsa_create_event()).collect();
        World {
            host,
            sockets,
            events,
            port,
            tracker: Tracker::default(),
            yaml,
            next_ov: 1,
        }
    }

    fn blocked(&self, t: u8) -> bool {
        self.host.is_blocked(ThreadId(u64::from(t)))
    }

    fn note_blocked<T>(r: &CallReturn<T>) -> &'static str {
        if r.is_blocked() {
            "{ blocks: true }"
        } else {
            "any"
        }
    }

    fn step(&mut self, a: &Action) {
        let mut y = String::new();
        match *a {
            Action::Ioctl {
                thread,
                socket,
                code,
                ov,
                event,
                routine,
            } => {
                if self.blocked(thread) {
                    return;
                }
                let s = self.sockets[socket as usize];
                let v6 = socket == 2;
                let (c, input, input_yaml): (IoctlCode, Vec<u8>, Option<String>) = match code {
                    Code::Fionread => (IoctlCode::FIONREAD, vec![], None),
                    Code::Unknown => (IoctlCode(0xDEAD_BEEF), vec![], None),
                    Code::AddressListChange => (IoctlCode::SIO_ADDRESS_LIST_CHANGE, vec![], None),
                    Code::RoutingWildcard | Code::RoutingDest => {
                        let text = match (code, v6) {
                            (Code::RoutingWildcard, false) => "0.0.0.0:0",
                            (Code::RoutingWildcard, true) => "[::]:0",
                            (_, false) => "8.8.8.8:0",
                            (_, true) => "[2001:db8::9]:0",
                        };
                        let sa: std::net::SocketAddr = text.parse().unwrap();
                        (
                            IoctlCode::SIO_ROUTING_INTERFACE_CHANGE,
                            sockaddr_bytes(sa),
                            Some(format!("{{ sockaddr: \"{text}\" }}")),
                        )
                    }
                };
                let out_len = if matches!(code, Code::Fionread) { 4 } else { 0 };
                let mut call = IoctlCall::new(s, c)
                    .on_thread(ThreadId(u64::from(thread)))
                    .input(&input);
                if out_len > 0 {
                    call = call.out_len(out_len);
                }
                let _ = write!(
                    y,
                    "- ioctl: s{socket}\n  thread: {}\n  code: {}",
                    thread_name(thread),
                    c.name().map_or(format!("0x{:08X}", c.0), str::to_string)
                );
                if let Some(i) = &input_yaml {
                    let _ = write!(y, "\n  in: {i}");
                }
                if out_len > 0 {
                    let _ = write!(y, "\n  out_len: {out_len}");
                }
                if ov {
                    let id = OverlappedId(self.next_ov);
                    self.next_ov += 1;
                    let ev = event.map(|e| self.events[e as usize]);
                    let r = routine.then_some(RoutineId(id.0));
                    call = call.overlapped(id, ev, r);
                    let _ = write!(y, "\n  overlapped: ov{}", id.0);
                    if let Some(e) = event {
                        let _ = write!(y, "\n  event: e{e}");
                    }
                    if routine {
                        let _ = write!(y, "\n  completion: cr{}", id.0);
                    }
                    self.tracker.used.push((socket, id));
                    let ret = self.host.wsa_ioctl(call);
                    if let CallReturn::Returned(o) = &ret {
                        if let Some(op) = o.op {
                            self.tracker.ops.insert(id, op);
                        }
                    }
                    let _ = write!(y, "\n  expect: {}", Self::note_blocked(&ret));
                } else {
                    let ret = self.host.wsa_ioctl(call);
                    let _ = write!(y, "\n  expect: {}", Self::note_blocked(&ret));
                }
            }
            Action::Select {
                socket,
                event,
                mask,
            } => {
                let (m, names) = mask_of(mask);
                self.host.wsa_event_select(
                    self.sockets[socket as usize],
                    self.events[event as usize],
                    m,
                );
                let _ = write!(
                    y,
                    "- event_select: s{socket}\n  event: e{event}\n  events: {names}\n  expect: any"
                );
            }
            Action::SetEvent(e) => {
                self.host.wsa_set_event(self.events[e as usize]);
                let _ = write!(y, "- set_event: e{e}");
            }
            Action::ResetEvent(e) => {
                self.host.wsa_reset_event(self.events[e as usize]);
                let _ = write!(y, "- reset_event: e{e}");
            }
            Action::Wait {
                thread,
                events,
                all,
                infinite,
                alertable,
            } => {
                if self.blocked(thread) {
                    return;
                }
                let picked: Vec<u8> = (0..EVENTS).filter(|i| events & (1 << i) != 0).collect();
                let evs: Vec<Event> = picked.iter().map(|i| self.events[*i as usize]).collect();
                let timeout = if infinite {
                    Timeout::INFINITE
                } else {
                    Timeout(10)
                };
                let r = self.host.wsa_wait_for_multiple_events(
                    ThreadId(u64::from(thread)),
                    &evs,
                    all,
                    timeout,
                    alertable,
                );
                if let CallReturn::Returned(w) = &r {
                    self.tracker.wait(w);
                }
                let names: Vec<String> = picked.iter().map(|i| format!("e{i}")).collect();
                let _ = write!(
                    y,
                    "- wait: [{}]\n  thread: {}\n  all: {all}\n  timeout: {}\n  alertable: {alertable}\n  expect: {}",
                    names.join(", "),
                    thread_name(thread),
                    if infinite { "infinite".into() } else { "10".to_string() },
                    Self::note_blocked(&r)
                );
            }
            Action::Sleep { thread, infinite } => {
                if self.blocked(thread) {
                    return;
                }
                let timeout = if infinite {
                    Timeout::INFINITE
                } else {
                    Timeout(0)
                };
                let r = self
                    .host
                    .sleep_ex(ThreadId(u64::from(thread)), timeout, true);
                if let CallReturn::Returned(w) = &r {
                    self.tracker.wait(w);
                }
                let _ = write!(
                    y,
                    "- sleep_ex: {}\n  thread: {}\n  alertable: true\n  expect: {}",
                    if infinite { "infinite" } else { "0" },
                    thread_name(thread),
                    Self::note_blocked(&r)
                );
            }
            Action::Gqcs { thread, infinite } => {
                if self.blocked(thread) {
                    return;
                }
                let timeout = if infinite {
                    Timeout::INFINITE
                } else {
                    Timeout(0)
                };
                let r = self.host.get_queued_completion_status(
                    ThreadId(u64::from(thread)),
                    self.port,
                    timeout,
                );
                if let CallReturn::Returned(g) = &r {
                    self.tracker.gqcs(g);
                }
                let _ = write!(
                    y,
                    "- get_queued: port\n  thread: {}\n  timeout: {}\n  expect: {}",
                    thread_name(thread),
                    if infinite { "infinite" } else { "0" },
                    Self::note_blocked(&r)
                );
            }
            Action::Result { thread, pick, wait } => {
                if self.blocked(thread) || self.tracker.used.is_empty() {
                    return;
                }
                let (socket, ov) = self.tracker.used[pick as usize % self.tracker.used.len()];
                let r = self.host.wsa_get_overlapped_result(
                    ThreadId(u64::from(thread)),
                    self.sockets[socket as usize],
                    ov,
                    wait,
                );
                let _ = write!(
                    y,
                    "- get_overlapped_result: s{socket}\n  thread: {}\n  overlapped: ov{}\n  wait: {wait}\n  expect: {}",
                    thread_name(thread),
                    ov.0,
                    Self::note_blocked(&r)
                );
            }
            Action::Net(n) => {
                let (c, text) = net_change(n);
                if self.host.handle_net_change(c).is_err() {
                    return;
                }
                let _ = write!(y, "- net: {text}");
            }
            Action::Advance(ms) => {
                self.host.handle_advance(u64::from(ms));
                let _ = write!(y, "- advance: {ms}");
            }
            Action::Close(s) => {
                self.host.closesocket(self.sockets[s as usize]);
                let _ = write!(y, "- close: s{s}\n  expect: any");
            }
        }
        self.yaml.push(y);
        self.collect_released();
    }

    fn collect_released(&mut self) {
        for t in 0..THREADS {
            if let Some(r) = self.host.poll_thread(ThreadId(u64::from(t))) {
                self.tracker.released(&r);
                self.yaml
                    .push(format!("- join: {}\n  expect: any", thread_name(t)));
            }
        }
    }

    fn check(&self) -> Result<(), String> {
        let h = &self.host;
        for (ov, op) in &self.tracker.ops {
            let o = h.operation(*op).ok_or_else(|| format!("{op} vanished"))?;
            let rec = h.overlapped(*ov);
            match &o.state {
                OpState::Pending(_) => {
                    if rec.internal != u64::from(NtStatus::STATUS_PENDING.0) {
                        return Err(format!(
                            "pending {op} but {ov}.Internal = {:#x}",
                            rec.internal
                        ));
                    }
                    if h.socket(o.socket).is_none() {
                        return Err(format!("{op} is pending on closed {}", o.socket));
                    }
                }
                OpState::Completed { status, bytes } => {
                    if rec.internal != u64::from(status.0) || rec.internal_high != u64::from(*bytes)
                    {
                        return Err(format!("completed {op} but {ov} reads {rec:?}"));
                    }
                }
            }
            let packets = self.tracker.packets.get(ov).copied().unwrap_or(0);
            let apcs = self.tracker.apcs.get(ov).copied().unwrap_or(0);
            let (max_packets, max_apcs) = match o.delivery {
                Delivery::Port { .. } => (1, 0),
                Delivery::Apc { .. } => (0, 1),
                Delivery::Overlapped => (0, 0),
            };
            if packets > max_packets || apcs > max_apcs {
                return Err(format!(
                    "{op} ({:?}) delivered {packets} packets and {apcs} routine calls",
                    o.delivery
                ));
            }
            if matches!(o.state, OpState::Pending(_)) && packets + apcs > 0 {
                return Err(format!("{op} delivered while pending"));
            }
        }
        for t in 0..THREADS {
            let thread = ThreadId(u64::from(t));
            let Some(call) = h.blocked_call(thread) else {
                continue;
            };
            let stuck = match call {
                BlockedCall::Ioctl { socket, .. } => h.socket(*socket).is_none(),
                BlockedCall::Wait {
                    events,
                    all,
                    alertable,
                } => {
                    let sig = |e: &Event| h.event_signaled(*e);
                    let satisfied = if *all {
                        events.iter().all(sig)
                    } else {
                        events.iter().any(sig)
                    };
                    satisfied || (*alertable && !h.queued_apcs(thread).is_empty())
                }
                BlockedCall::Sleep { alertable } => *alertable && !h.queued_apcs(thread).is_empty(),
                BlockedCall::Gqcs { port } => h.port_len(*port) > 0,
                BlockedCall::OverlappedResult { overlapped, .. } => {
                    h.overlapped(*overlapped).internal != u64::from(NtStatus::STATUS_PENDING.0)
                }
            };
            if stuck {
                return Err(format!(
                    "{} stays parked in {call:?} though it should have returned",
                    thread_name(t)
                ));
            }
        }
        Ok(())
    }

    /// Closes everything, releases the waits, drains every queue, and checks that each
    /// operation was delivered exactly once through its own path.
    fn finish(&mut self) -> Result<(), String> {
        for i in 0..SOCKETS {
            self.host.closesocket(self.sockets[i as usize]);
        }
        for e in 0..EVENTS {
            self.host.wsa_set_event(self.events[e as usize]);
        }
        self.collect_released();
        self.check()?;
        for t in 0..THREADS {
            let thread = ThreadId(u64::from(t));
            if let Some(BlockedCall::Ioctl { .. } | BlockedCall::OverlappedResult { .. }) =
                self.host.blocked_call(thread)
            {
                return Err(format!(
                    "{} is still parked after every socket closed",
                    thread_name(t)
                ));
            }
            if !self.host.is_blocked(thread) {
                if let CallReturn::Returned(w) = self.host.sleep_ex(thread, Timeout(0), true) {
                    self.tracker.wait(&w);
                }
            }
        }
        // A spare thread drains the port, whatever the others are parked in.
        while let CallReturn::Returned(g) =
            self.host
                .get_queued_completion_status(ThreadId(99), self.port, Timeout(0))
        {
            if g.overlapped.is_none() {
                break;
            }
            self.tracker.gqcs(&g);
        }
        for (ov, op) in &self.tracker.ops {
            let o = self.host.operation(*op).expect("checked");
            if matches!(o.state, OpState::Pending(_)) {
                return Err(format!("{op} still pending after its socket closed"));
            }
            let packets = self.tracker.packets.get(ov).copied().unwrap_or(0);
            let apcs = self.tracker.apcs.get(ov).copied().unwrap_or(0);
            let apc_thread_parked = match o.delivery {
                Delivery::Apc { thread, .. } => self.host.is_blocked(thread),
                _ => false,
            };
            let want = match o.delivery {
                Delivery::Port { .. } => (1, 0),
                Delivery::Apc { .. } if apc_thread_parked => (0, apcs),
                Delivery::Apc { .. } => (0, 1),
                Delivery::Overlapped => (0, 0),
            };
            if (packets, apcs) != want {
                return Err(format!(
                    "{op} ({:?}) delivered {packets} packets and {apcs} routine calls; want {want:?}",
                    o.delivery
                ));
            }
        }
        Ok(())
    }

    fn scenario(&self, why: &str) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "name: prop_async counterexample");
        let _ = writeln!(s, "about: {why:?}");
        let _ = writeln!(s, "backends: [model]");
        let _ = writeln!(s, "allow_blocked_at_end: true");
        let _ = writeln!(s, "steps:");
        for step in &self.yaml {
            for line in step.lines() {
                let _ = writeln!(s, "  {line}");
            }
        }
        s
    }
}

/// The SOCKADDR_IN/IN6 bytes of an address, from the library's own layout.
fn sockaddr_bytes(sa: std::net::SocketAddr) -> Vec<u8> {
    let mut b = Vec::new();
    wsasim::wire::sockaddr::emit_sockaddr(&sa, &mut b);
    b
}

fn run(actions: &[Action]) -> Result<(), String> {
    let mut world = World::new();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        for a in actions {
            world.step(a);
            world.check()?;
        }
        world.finish()
    }));
    let why = match outcome {
        Ok(Ok(())) => return Ok(()),
        Ok(Err(e)) => e,
        Err(p) => p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "the model panicked".into()),
    };
    Err(format!(
        "{why}\n--- save as a scenario to replay:\n{}",
        world.scenario(&why)
    ))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_interleaving_keeps_the_async_invariants(actions in proptest::collection::vec(action(), 0..40)) {
        let r = run(&actions);
        prop_assert!(r.is_ok(), "{}", r.unwrap_err());
    }
}

#[test]
fn the_counterexample_printer_writes_a_scenario() {
    let mut w = World::new();
    w.step(&Action::Close(1));
    let s = w.scenario("example");
    assert!(s.starts_with("name: "));
    assert!(s.contains("  - close: s1\n"));
    assert!(s.contains("  - associate: s0\n    port: port\n    key: 0\n"));
}

/// The oracle of the routing property: the interface the documented lookup rule picks
/// (longest prefix, lowest metric, lowest index; on-link routes for every address
/// prefix; interfaces that are down skipped).
fn oracle(h: &Host, dest: IpAddr) -> Option<u32> {
    let net = h.network();
    let up = |i: u32| net.interfaces.get(&i).is_some_and(|f| f.up);
    let mut best: Option<(u8, u32, u32)> = None;
    let on_link = net
        .interfaces
        .values()
        .flat_map(|i| i.addresses.iter().map(move |a| (a.network(), 0, i.index)));
    let explicit = net.routes.iter().map(|r| (r.prefix, r.metric, r.interface));
    for (p, metric, i) in on_link.chain(explicit) {
        if p.contains(dest) && up(i) {
            let better = match best {
                None => true,
                Some((len, m, idx)) => {
                    (std::cmp::Reverse(p.len), metric, i) < (std::cmp::Reverse(len), m, idx)
                }
            };
            if better {
                best = Some((p.len, metric, i));
            }
        }
    }
    best.map(|b| b.2)
}

fn route_change() -> impl Strategy<Value = NetChange> {
    let pfx = prop_oneof![Just("8.8.0.0/16"), Just("8.0.0.0/8"), Just("0.0.0.0/0")];
    let iface = prop_oneof![Just("eth0"), Just("eth1")];
    prop_oneof![
        (pfx.clone(), iface.clone(), 0u32..50).prop_map(|(p, i, metric)| NetChange::AddRoute {
            prefix: Prefix::parse(p).unwrap(),
            interface: i.into(),
            gateway: None,
            metric,
        }),
        (pfx.clone(), iface.clone()).prop_map(|(p, i)| NetChange::RemoveRoute {
            prefix: Prefix::parse(p).unwrap(),
            interface: i.into(),
        }),
        (pfx, iface.clone(), 0u32..50).prop_map(|(p, i, metric)| NetChange::SetRouteMetric {
            prefix: Prefix::parse(p).unwrap(),
            interface: i.into(),
            metric,
        }),
        (iface, any::<bool>()).prop_map(|(i, up)| NetChange::SetInterface { name: i.into(), up }),
    ]
}

fn routing_host() -> Host {
    let mut h = Host::default_host();
    h.handle_net_change(NetChange::AddInterface(wsasim::model::Interface {
        index: 3,
        name: "eth1".into(),
        kind: wsasim::model::InterfaceKind::Ethernet,
        up: true,
        addresses: vec![IfAddress::parse("10.0.0.2/24").unwrap()],
    }))
    .unwrap();
    h
}

fn arm_wildcard(h: &mut Host, s: Socket, ov: u64, ev: Event) -> bool {
    let any = sockaddr_bytes("0.0.0.0:0".parse().unwrap());
    let call = IoctlCall::new(s, IoctlCode::SIO_ROUTING_INTERFACE_CHANGE)
        .input(&any)
        .overlapped(OverlappedId(ov), Some(ev), None);
    let o = h.wsa_ioctl(call).returned().unwrap();
    o.error == ErrorCode::WSA_IO_PENDING
        && h.overlapped(OverlappedId(ov)).internal == u64::from(NtStatus::STATUS_PENDING.0)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// The reference's recipe for SIO_ROUTING_INTERFACE_CHANGE/QUERY.
    #[test]
    fn a_rearmed_wildcard_change_request_keeps_the_route_query_current(
        changes in proptest::collection::vec(route_change(), 1..20)
    ) {
        let mut h = routing_host();
        let s = h.socket_default(AddressFamily::Inet, SocketType::Dgram).unwrap();
        let ev = h.wsa_create_event();
        let mut ov = 1;
        prop_assert!(arm_wildcard(&mut h, s, ov, ev));
        for c in changes {
            if h.handle_net_change(c).is_err() {
                continue;
            }
            // Every change that applies completes the wildcard request.
            prop_assert!(h.event_signaled(ev), "the wildcard request did not complete");
            h.wsa_reset_event(ev);
            ov += 1;
            prop_assert!(arm_wildcard(&mut h, s, ov, ev));
            for dest in ["8.8.8.8", "8.8.1.1", "10.0.0.7", "127.0.0.1"] {
                let d: IpAddr = dest.parse().unwrap();
                let input = sockaddr_bytes(std::net::SocketAddr::new(d, 0));
                let call = IoctlCall::new(s, IoctlCode::SIO_ROUTING_INTERFACE_QUERY)
                    .input(&input)
                    .out_len(16);
                let o = h.wsa_ioctl(call).returned().unwrap();
                match oracle(&h, d) {
                    Some(index) => {
                        prop_assert_eq!(o.result, 0, "query {} failed with {}", dest, o.error);
                        let ip = IpAddr::V4(std::net::Ipv4Addr::new(o.out[4], o.out[5], o.out[6], o.out[7]));
                        let iface = &h.network().interfaces[&index];
                        prop_assert!(iface.addresses.iter().any(|a| a.addr == ip),
                            "{} answered {} which is not on interface {}", dest, ip, index);
                    }
                    None => {
                        prop_assert!(o.error == ErrorCode::WSAENETUNREACH || o.error == ErrorCode::WSAENETDOWN,
                            "{} is unreachable but the query gave {}", dest, o.error);
                    }
                }
            }
        }
    }
}
