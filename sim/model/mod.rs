//! The model's state: the simulated host, its sockets, its network configuration and
//! its asynchronous machinery. This layer holds data and the transitions every call
//! shares (handle allocation, completing an operation); the calls themselves live in
//! `ioctl` and `winsock`.

pub mod net;
pub mod overlapped;
pub mod socket;
pub mod table;

use std::fmt;

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::errors::{ErrorCode, NtStatus};
use crate::time::Instant;
use crate::wire::PointerSize;

pub use net::{Interface, InterfaceKind, Network};
pub use overlapped::{AsyncState, Delivery, OpState, Operation, OverlappedRecord};
pub use socket::{AddressFamily, IoMode, SocketState, SocketType};

macro_rules! handle {
    ($(#[doc = $doc:literal])* $name:ident, $prefix:literal) => {
        $(#[doc = $doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "#{}"), self.0)
            }
        }
    };
}

handle!(
    /// A SOCKET handle value. Handles come from one counter, in steps of 4 like kernel
    /// handles, and are never reused.
    Socket,
    "socket"
);
handle!(
    /// An event object handle (WSAEVENT).
    Event,
    "event"
);
handle!(
    /// A completion port handle.
    Port,
    "port"
);
handle!(
    /// A caller-owned WSAOVERLAPPED, named by the caller.
    OverlappedId,
    "overlapped"
);
handle!(
    /// A completion routine, named by the caller; its calls are recorded.
    RoutineId,
    "routine"
);
handle!(
    /// A simulated thread. Thread 0 is the main thread.
    ThreadId,
    "thread"
);
handle!(
    /// An overlapped operation in flight or completed.
    OpId,
    "op"
);

impl ThreadId {
    /// The thread that runs every call not given another.
    pub const MAIN: ThreadId = ThreadId(0);
}

/// SIO_ROUTING_INTERFACE_CHANGE's input handling: the reference lets a provider ignore
/// the destination and complete on any routing change.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum ChangeNotify {
    /// Complete only when the destination's interface changes (wildcard: any change).
    #[default]
    Exact,
    /// Complete on any routing change, whatever the input.
    Any,
}

/// Settings of the simulated host and its service provider.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct HostConfig {
    /// Whether the caller runs with administrator rights (SIO_RCVALL needs them).
    pub privileged: bool,
    /// The layout of pointer-bearing outputs (8 bytes on x64, 4 on x86).
    pub pointer_size: PointerSize,
    /// How SIO_ROUTING_INTERFACE_CHANGE treats its input.
    pub change_notify: ChangeNotify,
    /// The seed of every choice the model makes at random.
    pub seed: u64,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            privileged: false,
            pointer_size: PointerSize::Bits64,
            change_notify: ChangeNotify::Exact,
            seed: 0,
        }
    }
}

/// A simulated Windows host: the object every application call is made on.
///
/// Kinds of method, quinn-proto style:
/// - application calls named after the Winsock function they model (`wsa_socket`,
///   `wsa_ioctl`, `ioctlsocket`, `closesocket`, `wsa_event_select`, ...);
/// - environment inputs, `handle_*` (host changes, time passing);
/// - drains, `poll_*` (completed packets, APCs, posted messages);
/// - getters for inspection (`socket`, `network`, `overlapped`).
#[derive(Clone, Debug)]
pub struct Host {
    pub(crate) config: HostConfig,
    pub(crate) net: Network,
    pub(crate) sockets: table::SocketTable,
    pub(crate) asyncs: AsyncState,
    pub(crate) now: Instant,
    pub(crate) rng: ChaCha8Rng,
    pub(crate) next_handle: u64,
    pub(crate) next_op: u64,
    pub(crate) next_ephemeral_port: u16,
    pub(crate) last_error: ErrorCode,
    /// Connections made to listening sockets and not yet accepted: (listener, accepted).
    pub(crate) backlog: Vec<(Socket, Socket)>,
}

impl Host {
    /// A host with the given network and settings.
    pub fn new(mut net: Network, config: HostConfig) -> Host {
        net.ensure_index();
        Host {
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            config,
            net,
            sockets: table::SocketTable::default(),
            asyncs: AsyncState::default(),
            now: Instant(0),
            // Events and ports; sockets have their own counter in the socket table.
            next_handle: 0x1_0000,
            next_op: 1,
            next_ephemeral_port: 49152,
            last_error: ErrorCode::NO_ERROR,
            backlog: Vec::new(),
        }
    }

    /// The default host of the scenario format (see `Network::default_host`).
    pub fn default_host() -> Host {
        Host::new(Network::default_host(), HostConfig::default())
    }

    /// The host's settings.
    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    /// The network configuration.
    pub fn network(&self) -> &Network {
        &self.net
    }

    /// The current virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// What `WSAGetLastError` returns now.
    pub fn wsa_get_last_error(&self) -> ErrorCode {
        self.last_error
    }

    /// `WSASetLastError`.
    pub fn wsa_set_last_error(&mut self, error: ErrorCode) {
        self.last_error = error;
    }

    /// An open socket's state.
    pub fn socket(&self, s: Socket) -> Option<&SocketState> {
        self.sockets.get(&s)
    }

    /// Every open socket, in handle order.
    pub fn sockets(&self) -> impl Iterator<Item = (Socket, &SocketState)> {
        self.sockets.iter()
    }

    /// An OVERLAPPED record's current contents.
    pub fn overlapped(&self, ov: OverlappedId) -> OverlappedRecord {
        self.asyncs.overlapped.get(&ov).copied().unwrap_or_default()
    }

    /// An operation.
    pub fn operation(&self, op: OpId) -> Option<&Operation> {
        self.asyncs.ops.get(&op)
    }

    /// Diagnostics: misuse that Windows leaves undefined, reported instead of guessed.
    pub fn diagnostics(&self) -> &[String] {
        &self.asyncs.diagnostics
    }

    /// The seeded random source for choices the reference leaves open.
    pub(crate) fn rng(&mut self) -> &mut ChaCha8Rng {
        &mut self.rng
    }

    pub(crate) fn alloc_handle(&mut self) -> u64 {
        let h = self.next_handle;
        self.next_handle += 4;
        h
    }

    pub(crate) fn alloc_ephemeral_port(&mut self) -> u16 {
        let p = self.next_ephemeral_port;
        self.next_ephemeral_port = if p == u16::MAX { 49152 } else { p + 1 };
        p
    }

    /// Starts an overlapped operation: records it, marks the OVERLAPPED as pending
    /// (Internal = STATUS_PENDING, as the kernel does before returning STATUS_PENDING).
    pub(crate) fn start_op(&mut self, op: Operation) -> OpId {
        let id = OpId(self.next_op);
        self.next_op += 1;
        let rec = self.asyncs.overlapped.entry(op.overlapped).or_default();
        rec.internal = u64::from(NtStatus::STATUS_PENDING.0);
        rec.op = Some(id);
        if let OpState::Completed { .. } = op.state {
            panic!("invariant: an operation starts pending and completes through complete_op");
        }
        self.asyncs.ops.insert(id, op);
        id
    }

    /// Completes an operation exactly once: writes Internal/InternalHigh, signals the
    /// OVERLAPPED's event (unless a completion routine owns it), and queues the one
    /// delivery its path calls for.
    ///
    /// `info` is what InternalHigh and the delivered byte count receive: 0 for requests
    /// that completed synchronously (observations section 2 item 2).
    pub(crate) fn complete_op(&mut self, id: OpId, status: NtStatus, info: u32, out: Vec<u8>) {
        let op = self
            .asyncs
            .ops
            .get_mut(&id)
            .expect("invariant: complete_op is called with a started operation");
        if let OpState::Completed { .. } = op.state {
            panic!("invariant: an operation completes at most once ({id})");
        }
        op.state = OpState::Completed {
            status,
            bytes: info,
        };
        op.out = out;
        let (ov, delivery) = (op.overlapped, op.delivery);
        let rec = self.asyncs.overlapped.entry(ov).or_default();
        rec.internal = u64::from(status.0);
        rec.internal_high = u64::from(info);
        let event = rec.event;
        match delivery {
            Delivery::Apc { routine, thread } => {
                self.asyncs
                    .apcs
                    .entry(thread)
                    .or_default()
                    .push(overlapped::Apc {
                        routine,
                        error: status.to_winsock(),
                        bytes: info,
                        overlapped: ov,
                        flags: 0,
                    });
            }
            Delivery::Port { port, key } => {
                if let Some(q) = self.asyncs.ports.get_mut(&port) {
                    q.push_back(overlapped::Packet {
                        key,
                        bytes: info,
                        overlapped: ov,
                        status,
                    });
                }
                if let Some(ev) = event {
                    self.signal_event(ev);
                }
            }
            Delivery::Overlapped => {
                if let Some(ev) = event {
                    self.signal_event(ev);
                }
            }
        }
        // A parked GQCS, alertable wait or WSAGetOverlappedResult may now return.
        self.wake_blocked();
    }

    /// Sets an event object to signaled (creating its record if the caller named an
    /// event the model has not seen).
    pub(crate) fn signal_event(&mut self, ev: Event) {
        self.asyncs.events.entry(ev).or_default().signaled = true;
        self.wake_blocked();
    }
}
