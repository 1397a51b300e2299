//! Sockets: what a socket is (family, type, protocol), where it is in its life, how it
//! reports blocking, the options ioctls read or change, and the data waiting in it.

use std::collections::VecDeque;
use std::net::SocketAddr;

use super::{Event, Port, Socket};
use crate::wire::keepalive::TcpKeepalive;
use crate::wire::sockaddr::{AF_INET, AF_INET6};

/// `af` of `WSASocket`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AddressFamily {
    /// AF_INET (2).
    Inet,
    /// AF_INET6 (23 on Windows).
    Inet6,
}

impl AddressFamily {
    /// The Windows value of the constant.
    pub fn value(self) -> u16 {
        match self {
            AddressFamily::Inet => AF_INET,
            AddressFamily::Inet6 => AF_INET6,
        }
    }

    /// The family of an address.
    pub fn of(addr: &SocketAddr) -> AddressFamily {
        match addr {
            SocketAddr::V4(_) => AddressFamily::Inet,
            SocketAddr::V6(_) => AddressFamily::Inet6,
        }
    }
}

/// `type` of `WSASocket`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SocketType {
    /// SOCK_STREAM (1): reliable byte stream.
    Stream,
    /// SOCK_DGRAM (2): unreliable datagrams.
    Dgram,
    /// SOCK_RAW (3): raw IP.
    Raw,
}

/// Protocol numbers the model knows by name (`IPPROTO_*`); any other number is kept.
pub mod protocol {
    /// IPPROTO_IP (0): for raw sockets, "all IP".
    pub const IP: i32 = 0;
    /// IPPROTO_ICMP.
    pub const ICMP: i32 = 1;
    /// IPPROTO_IGMP.
    pub const IGMP: i32 = 2;
    /// IPPROTO_TCP.
    pub const TCP: i32 = 6;
    /// IPPROTO_UDP.
    pub const UDP: i32 = 17;
    /// IPPROTO_IPV6 (41): for AF_INET6 raw sockets, what SIO_RCVALL accepts.
    pub const IPV6: i32 = 41;
    /// IPPROTO_ICMPV6.
    pub const ICMPV6: i32 = 58;
}

/// Where the socket is in its life.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ConnState {
    /// Created, not bound.
    Fresh,
    /// Bound to a local address.
    Bound {
        /// The address it is bound to (port 0 is replaced by an ephemeral port).
        local: SocketAddr,
    },
    /// Listening for connections.
    Listening {
        /// The listening address.
        local: SocketAddr,
    },
    /// A connect is in progress (a non-blocking connect that has not completed).
    Connecting {
        /// The local address.
        local: SocketAddr,
        /// Where it is connecting to.
        remote: SocketAddr,
    },
    /// Connected to a peer inside the model (or, for datagram sockets, a default peer).
    Connected {
        /// The local address.
        local: SocketAddr,
        /// The peer's address.
        remote: SocketAddr,
        /// The peer socket inside the model, if it is still open.
        peer: Option<Socket>,
    },
}

impl ConnState {
    /// The local address, once bound.
    pub fn local(&self) -> Option<SocketAddr> {
        match *self {
            ConnState::Fresh => None,
            ConnState::Bound { local }
            | ConnState::Listening { local }
            | ConnState::Connecting { local, .. }
            | ConnState::Connected { local, .. } => Some(local),
        }
    }

    /// True once connected.
    pub fn is_connected(&self) -> bool {
        matches!(self, ConnState::Connected { .. })
    }
}

/// The `FD_*` network-event bits of `WSAEventSelect`/`WSAAsyncSelect`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct NetworkEvents(pub u32);

impl NetworkEvents {
    /// No events.
    pub const NONE: NetworkEvents = NetworkEvents(0);
    /// FD_READ.
    pub const READ: NetworkEvents = NetworkEvents(1 << 0);
    /// FD_WRITE.
    pub const WRITE: NetworkEvents = NetworkEvents(1 << 1);
    /// FD_OOB.
    pub const OOB: NetworkEvents = NetworkEvents(1 << 2);
    /// FD_ACCEPT.
    pub const ACCEPT: NetworkEvents = NetworkEvents(1 << 3);
    /// FD_CONNECT.
    pub const CONNECT: NetworkEvents = NetworkEvents(1 << 4);
    /// FD_CLOSE.
    pub const CLOSE: NetworkEvents = NetworkEvents(1 << 5);
    /// FD_QOS.
    pub const QOS: NetworkEvents = NetworkEvents(1 << 6);
    /// FD_GROUP_QOS.
    pub const GROUP_QOS: NetworkEvents = NetworkEvents(1 << 7);
    /// FD_ROUTING_INTERFACE_CHANGE.
    pub const ROUTING_INTERFACE_CHANGE: NetworkEvents = NetworkEvents(1 << 8);
    /// FD_ADDRESS_LIST_CHANGE.
    pub const ADDRESS_LIST_CHANGE: NetworkEvents = NetworkEvents(1 << 9);

    /// Every event with its scenario name, in bit order.
    pub const NAMED: [(&'static str, NetworkEvents); 10] = [
        ("read", NetworkEvents::READ),
        ("write", NetworkEvents::WRITE),
        ("oob", NetworkEvents::OOB),
        ("accept", NetworkEvents::ACCEPT),
        ("connect", NetworkEvents::CONNECT),
        ("close", NetworkEvents::CLOSE),
        ("qos", NetworkEvents::QOS),
        ("group_qos", NetworkEvents::GROUP_QOS),
        (
            "routing_interface_change",
            NetworkEvents::ROUTING_INTERFACE_CHANGE,
        ),
        ("address_list_change", NetworkEvents::ADDRESS_LIST_CHANGE),
    ];

    /// True when every bit of `other` is set here.
    pub fn contains(self, other: NetworkEvents) -> bool {
        self.0 & other.0 == other.0
    }

    /// These events with the bits of `other` cleared.
    pub fn without(self, other: NetworkEvents) -> NetworkEvents {
        NetworkEvents(self.0 & !other.0)
    }

    /// True when no bit is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The bit index of a single event (FD_READ_BIT and friends), used to index
    /// `iErrorCode` of WSANETWORKEVENTS.
    pub fn bit(self) -> Option<u32> {
        (self.0.count_ones() == 1).then(|| self.0.trailing_zeros())
    }

    /// Parses a scenario event name.
    pub fn from_name(name: &str) -> Option<NetworkEvents> {
        NetworkEvents::NAMED
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, e)| *e)
    }

    /// The names of the set bits, in bit order.
    pub fn names(self) -> Vec<&'static str> {
        NetworkEvents::NAMED
            .iter()
            .filter(|(_, e)| self.contains(*e))
            .map(|(n, _)| *n)
            .collect()
    }
}

impl std::ops::BitOr for NetworkEvents {
    type Output = NetworkEvents;
    fn bitor(self, rhs: NetworkEvents) -> NetworkEvents {
        NetworkEvents(self.0 | rhs.0)
    }
}

impl std::ops::BitAnd for NetworkEvents {
    type Output = NetworkEvents;
    fn bitand(self, rhs: NetworkEvents) -> NetworkEvents {
        NetworkEvents(self.0 & rhs.0)
    }
}

/// How the socket reports "would block": one enum, so that a socket cannot be both
/// event-selected and async-selected, and the selection always carries its data.
///
/// Reference, FIONBIO: a new socket is blocking; WSAEventSelect and WSAAsyncSelect make it
/// non-blocking. Clearing a selection (mask 0) leaves the socket non-blocking.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum IoMode {
    /// Calls that cannot complete wait.
    Blocking,
    /// Calls that cannot complete fail with WSAEWOULDBLOCK.
    NonBlocking,
    /// `WSAEventSelect` is active with a non-zero mask: non-blocking, events signal `event`.
    EventSelect {
        /// The event object network events signal.
        event: Event,
        /// The selected `FD_*` bits (never empty).
        mask: NetworkEvents,
    },
    /// `WSAAsyncSelect` is active with a non-zero mask: non-blocking, events post `message`.
    AsyncSelect {
        /// The window handle messages are posted to.
        window: u64,
        /// The message number.
        message: u32,
        /// The selected `FD_*` bits (never empty).
        mask: NetworkEvents,
    },
}

impl IoMode {
    /// True unless the socket is in plain blocking mode.
    pub fn is_nonblocking(self) -> bool {
        !matches!(self, IoMode::Blocking)
    }

    /// True while an event or async selection is active.
    pub fn is_selected(self) -> bool {
        matches!(
            self,
            IoMode::EventSelect { .. } | IoMode::AsyncSelect { .. }
        )
    }
}

/// Receive-all modes of `SIO_RCVALL`, `SIO_RCVALL_MCAST`, `SIO_RCVALL_IGMPMCAST`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RcvAll {
    /// Off (the default).
    Off,
    /// Set through SIO_RCVALL with this RCVALL_VALUE.
    All(u32),
    /// Set through SIO_RCVALL_MCAST with this RCVALL_VALUE.
    Multicast(u32),
    /// Set through SIO_RCVALL_IGMPMCAST with this RCVALL_VALUE.
    IgmpMulticast(u32),
}

/// Socket options that ioctls or `setsockopt` read or change. Rarely used, larger values
/// live behind `extra` so that an idle socket stays small.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SocketOptions {
    /// SO_OOBINLINE: urgent data stays in the normal stream.
    pub oob_inline: bool,
    /// SO_KEEPALIVE.
    pub so_keepalive: bool,
    /// SIO_KEEPALIVE_VALS, once set (times in milliseconds).
    pub keepalive_vals: Option<TcpKeepalive>,
    /// SIO_ENABLE_CIRCULAR_QUEUEING: drop the oldest datagram on overflow.
    pub circular_queueing: bool,
    /// SIO_MULTIPOINT_LOOPBACK (default TRUE, reference).
    pub multipoint_loopback: bool,
    /// SIO_MULTICAST_SCOPE (default 1, reference).
    pub multicast_scope: u32,
    /// SIO_UDP_CONNRESET (Windows' default: reporting on).
    pub udp_connreset: bool,
    /// SIO_LOOPBACK_FAST_PATH.
    pub loopback_fast_path: bool,
    /// SIO_RCVALL family.
    pub rcvall: RcvAll,
    /// SO_RCVBUF.
    pub rcvbuf: u32,
    /// SO_SNDBUF.
    pub sndbuf: u32,
    /// Larger, rarely set values.
    pub extra: Option<Box<ExtraOptions>>,
}

/// Values kept out of line because few sockets ever set them.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct ExtraOptions {
    /// Companion-interface handles set through SIO_ASSOCIATE_HANDLE, by interface id,
    /// in the order they were set.
    pub companions: Vec<(u32, u64)>,
}

impl Default for SocketOptions {
    fn default() -> Self {
        SocketOptions {
            oob_inline: false,
            so_keepalive: false,
            keepalive_vals: None,
            circular_queueing: false,
            multipoint_loopback: true,
            multicast_scope: 1,
            udp_connreset: true,
            loopback_fast_path: false,
            rcvall: RcvAll::Off,
            rcvbuf: 65536,
            sndbuf: 65536,
            extra: None,
        }
    }
}

impl SocketOptions {
    /// The out-of-line options, created on first use.
    pub fn extra_mut(&mut self) -> &mut ExtraOptions {
        self.extra.get_or_insert_with(Default::default)
    }
}

/// Data waiting to be received.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum RecvQueue {
    /// A stream socket's bytes.
    Stream {
        /// Normal bytes in order (urgent bytes too, when SO_OOBINLINE was set).
        bytes: VecDeque<u8>,
        /// The urgent byte waiting out of band (SO_OOBINLINE off): BSD semantics, where
        /// the last byte of a MSG_OOB send is the urgent one.
        urgent: Option<u8>,
        /// True when the peer shut down sending.
        eof: bool,
    },
    /// A datagram socket's messages, oldest first.
    Datagrams(VecDeque<Vec<u8>>),
}

impl RecvQueue {
    /// An empty queue for a socket type.
    pub fn for_type(kind: SocketType) -> RecvQueue {
        match kind {
            SocketType::Stream => RecvQueue::Stream {
                bytes: VecDeque::new(),
                urgent: None,
                eof: false,
            },
            SocketType::Dgram | SocketType::Raw => RecvQueue::Datagrams(VecDeque::new()),
        }
    }
}

/// Everything the model knows about one open socket.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SocketState {
    /// The address family.
    pub af: AddressFamily,
    /// The socket type.
    pub kind: SocketType,
    /// The protocol number.
    pub protocol: i32,
    /// Created with WSA_FLAG_OVERLAPPED: only then does WSAIoctl honour lpOverlapped
    /// (reference, parameter lpOverlapped: "ignored for nonoverlapped sockets").
    pub overlapped: bool,
    /// Where the socket is in its life.
    pub state: ConnState,
    /// Blocking, non-blocking or selected.
    pub mode: IoMode,
    /// Options.
    pub options: SocketOptions,
    /// Received data.
    pub rx: RecvQueue,
    /// The completion port and key the socket is associated with.
    pub port: Option<(Port, u64)>,
    /// Network events recorded and not yet read by WSAEnumNetworkEvents.
    pub recorded: NetworkEvents,
    /// Change events armed by a WSAEWOULDBLOCK change request (observations W105, W106).
    pub armed: NetworkEvents,
}

impl SocketState {
    /// A fresh socket: unbound, blocking, default options, nothing queued.
    pub fn new(af: AddressFamily, kind: SocketType, protocol: i32, overlapped: bool) -> Self {
        SocketState {
            af,
            kind,
            protocol,
            overlapped,
            state: ConnState::Fresh,
            mode: IoMode::Blocking,
            options: SocketOptions::default(),
            rx: RecvQueue::for_type(kind),
            port: None,
            recorded: NetworkEvents::NONE,
            armed: NetworkEvents::NONE,
        }
    }

    /// True for TCP stream sockets.
    pub fn is_tcp(&self) -> bool {
        self.kind == SocketType::Stream
    }

    /// True for UDP datagram sockets.
    pub fn is_udp(&self) -> bool {
        self.kind == SocketType::Dgram
    }

    /// Changes how the socket reports "would block". Every change of `mode` goes through
    /// here, so that one place sees each transition.
    pub fn set_mode(&mut self, mode: IoMode) {
        self.mode = mode;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_socket_is_fresh_and_blocking() {
        let s = SocketState::new(AddressFamily::Inet, SocketType::Stream, protocol::TCP, true);
        assert_eq!(s.state, ConnState::Fresh);
        assert_eq!(s.mode, IoMode::Blocking);
        assert!(s.options.multipoint_loopback);
        assert_eq!(s.options.multicast_scope, 1);
    }

    #[test]
    fn an_idle_socket_costs_under_256_bytes() {
        // An idle socket allocates nothing on the heap (empty VecDeque, no extra
        // options), so its inline size is its whole cost.
        assert!(
            std::mem::size_of::<SocketState>() < 256,
            "{}",
            std::mem::size_of::<SocketState>()
        );
    }

    #[test]
    fn event_names_round_trip() {
        for (name, e) in NetworkEvents::NAMED {
            assert_eq!(NetworkEvents::from_name(name), Some(e));
            assert_eq!(e.names(), vec![name]);
        }
    }
}
