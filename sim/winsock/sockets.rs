//! Socket life and data: WSASocket, bind, listen, connect, accept, send, recv,
//! setsockopt, closesocket, and a shortcut for a connected loopback pair.
//!
//! Data stays inside the model: a send on one end of a connected pair queues on the
//! other end at once (loopback has no latency worth modelling), which is what FIONREAD
//! and SIOCATMARK observe.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::errors::{ErrorCode, NtStatus};
use crate::model::overlapped::{OpState, Released};
use crate::model::socket::{
    protocol, AddressFamily, ConnState, NetworkEvents, RecvQueue, SocketState, SocketType,
};
use crate::model::{Host, Socket};
use crate::outcome::{BytesReturned, IoctlOutcome};

/// `send`/`recv` flags.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct MsgFlags {
    /// MSG_OOB: urgent data.
    pub oob: bool,
    /// MSG_PEEK: read without removing.
    pub peek: bool,
    /// MSG_DONTROUTE: accepted and ignored.
    pub dontroute: bool,
}

/// The result of a non-ioctl call: the return value and the last error after it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SockResult {
    /// The return value (0, a byte count, or SOCKET_ERROR).
    pub result: i32,
    /// `WSAGetLastError()` after the call (unchanged by most successes, 0 here).
    pub error: ErrorCode,
    /// Bytes received, for `recv`.
    pub data: Vec<u8>,
}

impl SockResult {
    pub(super) fn ok(result: i32) -> SockResult {
        SockResult {
            result,
            error: ErrorCode::NO_ERROR,
            data: Vec::new(),
        }
    }

    pub(super) fn err(error: ErrorCode) -> SockResult {
        SockResult {
            result: -1,
            error,
            data: Vec::new(),
        }
    }
}

fn loopback(af: AddressFamily) -> IpAddr {
    match af {
        AddressFamily::Inet => IpAddr::V4(Ipv4Addr::LOCALHOST),
        AddressFamily::Inet6 => IpAddr::V6(Ipv6Addr::LOCALHOST),
    }
}

impl Host {
    /// `WSASocket`: opens a socket. `protocol` 0 picks the type's default (TCP for
    /// stream, UDP for datagram, IPPROTO_IP for raw). Raw sockets need administrator
    /// rights on Windows: without `privileged` the call fails with WSAEACCES.
    pub fn wsa_socket(
        &mut self,
        af: AddressFamily,
        kind: SocketType,
        protocol_number: i32,
        overlapped: bool,
    ) -> Result<Socket, ErrorCode> {
        let proto = match (kind, protocol_number) {
            (SocketType::Stream, 0) => protocol::TCP,
            (SocketType::Dgram, 0) => protocol::UDP,
            (_, p) => p,
        };
        let fits = match kind {
            SocketType::Stream => proto == protocol::TCP,
            SocketType::Dgram => proto == protocol::UDP,
            SocketType::Raw => (0..=255).contains(&proto),
        };
        if !fits {
            self.last_error = ErrorCode::WSAEPROTONOSUPPORT;
            return Err(ErrorCode::WSAEPROTONOSUPPORT);
        }
        if kind == SocketType::Raw && !self.config.privileged {
            self.last_error = ErrorCode::WSAEACCES;
            return Err(ErrorCode::WSAEACCES);
        }
        let s = self
            .sockets
            .open(SocketState::new(af, kind, proto, overlapped));
        Ok(s)
    }

    /// `socket`: WSASocket with WSA_FLAG_OVERLAPPED, as Windows' `socket()` creates them.
    pub fn socket_default(
        &mut self,
        af: AddressFamily,
        kind: SocketType,
    ) -> Result<Socket, ErrorCode> {
        self.wsa_socket(af, kind, 0, true)
    }

    fn with_socket(&mut self, s: Socket) -> Result<&mut SocketState, SockResult> {
        match self.sockets.get_mut(&s) {
            Some(st) => Ok(st),
            None => Err(SockResult::err(ErrorCode::WSAENOTSOCK)),
        }
    }

    /// Sets the last error from a failed call's result, and passes the result on.
    pub(super) fn record(&mut self, r: SockResult) -> SockResult {
        if r.result == -1 {
            self.last_error = r.error;
        }
        r
    }

    /// `bind`: binds to a local address. The address must be the wildcard or an address
    /// of one of the host's interfaces (WSAEADDRNOTAVAIL otherwise), of the socket's
    /// family (WSAEFAULT for a mismatched sockaddr, as Windows reports a wrong-size
    /// name); port 0 takes an ephemeral port. Binding twice is WSAEINVAL.
    pub fn bind(&mut self, s: Socket, addr: SocketAddr) -> SockResult {
        let r = self.bind_inner(s, addr);
        self.record(r)
    }

    fn bind_inner(&mut self, s: Socket, mut addr: SocketAddr) -> SockResult {
        let local_ok = addr.ip().is_unspecified() || self.net.is_local_address(addr.ip());
        let port = if addr.port() == 0 {
            self.alloc_ephemeral_port()
        } else {
            addr.port()
        };
        let st = match self.with_socket(s) {
            Ok(st) => st,
            Err(e) => return e,
        };
        if AddressFamily::of(&addr) != st.af {
            return SockResult::err(ErrorCode::WSAEFAULT);
        }
        if st.state != ConnState::Fresh {
            return SockResult::err(ErrorCode::WSAEINVAL);
        }
        if !local_ok {
            return SockResult::err(ErrorCode::WSAEADDRNOTAVAIL);
        }
        addr.set_port(port);
        st.state = ConnState::Bound { local: addr };
        SockResult::ok(0)
    }

    /// `listen`: a bound stream socket starts listening (WSAEINVAL if unbound,
    /// WSAEOPNOTSUPP on a datagram socket).
    pub fn listen(&mut self, s: Socket) -> SockResult {
        let r = match self.with_socket(s) {
            Err(e) => e,
            Ok(st) if st.kind != SocketType::Stream => SockResult::err(ErrorCode::WSAEOPNOTSUPP),
            Ok(st) => match st.state {
                ConnState::Bound { local } | ConnState::Listening { local } => {
                    st.state = ConnState::Listening { local };
                    SockResult::ok(0)
                }
                _ => SockResult::err(ErrorCode::WSAEINVAL),
            },
        };
        self.record(r)
    }

    /// The socket listening on `addr` (wildcard listeners match any local address).
    fn listener_for(&self, addr: SocketAddr) -> Option<Socket> {
        self.sockets.iter().find_map(|(s, st)| match st.state {
            ConnState::Listening { local }
                if local.port() == addr.port()
                    && (local.ip() == addr.ip() || local.ip().is_unspecified()) =>
            {
                Some(s)
            }
            _ => None,
        })
    }

    /// `connect`: a stream socket connects to a listener inside the model; the accepted
    /// end is created at once and waits for `accept`. A datagram socket just records its
    /// default peer. No listener: WSAECONNREFUSED.
    pub fn connect(&mut self, s: Socket, to: SocketAddr) -> SockResult {
        let r = self.connect_inner(s, to);
        self.record(r)
    }

    fn connect_inner(&mut self, s: Socket, to: SocketAddr) -> SockResult {
        let Some(st) = self.sockets.get(&s) else {
            return SockResult::err(ErrorCode::WSAENOTSOCK);
        };
        if st.state.is_connected() && st.kind == SocketType::Stream {
            return SockResult::err(ErrorCode::WSAEISCONN);
        }
        if matches!(st.state, ConnState::Listening { .. }) {
            return SockResult::err(ErrorCode::WSAEINVAL);
        }
        if AddressFamily::of(&to) != st.af {
            return SockResult::err(ErrorCode::WSAEAFNOSUPPORT);
        }
        let (af, kind, proto, ov) = (st.af, st.kind, st.protocol, st.overlapped);
        let local = match st.state.local() {
            Some(l) => l,
            None => {
                let port = self.alloc_ephemeral_port();
                SocketAddr::new(loopback(af), port)
            }
        };
        if kind != SocketType::Stream {
            let peer = self
                .sockets
                .iter()
                .find_map(|(p, pst)| (pst.state.local() == Some(to) && p != s).then_some(p));
            let st = self.sockets.get_mut(&s).expect("checked above");
            st.state = ConnState::Connected {
                local,
                remote: to,
                peer,
            };
            return SockResult::ok(0);
        }
        let Some(listener) = self.listener_for(to) else {
            return SockResult::err(ErrorCode::WSAECONNREFUSED);
        };
        let mut acc = SocketState::new(af, kind, proto, ov);
        acc.state = ConnState::Connected {
            local: to,
            remote: local,
            peer: Some(s),
        };
        let accepted = self.sockets.open(acc);
        self.backlog.push((listener, accepted));
        let st = self.sockets.get_mut(&s).expect("checked above");
        st.state = ConnState::Connected {
            local,
            remote: to,
            peer: Some(accepted),
        };
        self.note_event(listener, NetworkEvents::ACCEPT);
        SockResult::ok(0)
    }

    /// `accept`: takes the oldest connection waiting on a listening socket. Nothing
    /// waiting: WSAEWOULDBLOCK (the model never blocks in accept).
    pub fn accept(&mut self, s: Socket) -> Result<Socket, ErrorCode> {
        let r = match self.sockets.get(&s) {
            None => Err(ErrorCode::WSAENOTSOCK),
            Some(st) if !matches!(st.state, ConnState::Listening { .. }) => {
                Err(ErrorCode::WSAEINVAL)
            }
            Some(_) => match self.backlog.iter().position(|(l, _)| *l == s) {
                Some(i) => Ok(self.backlog.remove(i).1),
                None => Err(ErrorCode::WSAEWOULDBLOCK),
            },
        };
        if let Err(e) = r {
            self.last_error = e;
        }
        r
    }

    /// A connected loopback pair: for stream sockets a listener, connect and accept
    /// (the listener is closed afterwards); for datagram sockets two bound sockets
    /// connected to each other. Returns (client, server).
    pub fn pair(
        &mut self,
        af: AddressFamily,
        kind: SocketType,
    ) -> Result<(Socket, Socket), ErrorCode> {
        let any = SocketAddr::new(loopback(af), 0);
        let server = self.wsa_socket(af, kind, 0, true)?;
        let client = self.wsa_socket(af, kind, 0, true)?;
        if kind == SocketType::Stream {
            let listener = self.wsa_socket(af, kind, 0, true)?;
            self.bind(listener, any);
            self.listen(listener);
            let to = self.sockets[&listener]
                .state
                .local()
                .expect("invariant: a listening socket is bound");
            self.closesocket(server);
            let r = self.connect(client, to);
            if r.result != 0 {
                return Err(r.error);
            }
            let accepted = self.accept(listener)?;
            self.closesocket(listener);
            Ok((client, accepted))
        } else {
            self.bind(server, any);
            self.bind(client, any);
            let sa = self.sockets[&server].state.local().expect("bound above");
            let ca = self.sockets[&client].state.local().expect("bound above");
            self.connect(client, sa);
            self.connect(server, ca);
            Ok((client, server))
        }
    }

    /// `send`: queues data on the connected peer. With MSG_OOB on a stream socket the
    /// last byte becomes urgent (BSD semantics, which Windows follows): held out of band
    /// unless the receiver has SO_OOBINLINE. A datagram is queued whole, or dropped when
    /// the receiver's queue would exceed SO_RCVBUF (SIO_ENABLE_CIRCULAR_QUEUEING drops
    /// the oldest instead).
    pub fn send(&mut self, s: Socket, data: &[u8], flags: MsgFlags) -> SockResult {
        let r = self.send_inner(s, data, flags);
        self.record(r)
    }

    fn send_inner(&mut self, s: Socket, data: &[u8], flags: MsgFlags) -> SockResult {
        let Some(st) = self.sockets.get(&s) else {
            return SockResult::err(ErrorCode::WSAENOTSOCK);
        };
        let ConnState::Connected { peer, .. } = st.state else {
            return SockResult::err(if st.kind == SocketType::Stream {
                ErrorCode::WSAENOTCONN
            } else {
                ErrorCode::WSAEDESTADDRREQ
            });
        };
        if flags.oob && st.kind != SocketType::Stream {
            return SockResult::err(ErrorCode::WSAEOPNOTSUPP);
        }
        let n = data.len() as i32;
        let Some(peer) = peer.filter(|p| self.sockets.contains_key(p)) else {
            // The peer is gone: a stream connection was reset, a datagram is dropped.
            return match st.kind {
                SocketType::Stream => SockResult::err(ErrorCode::WSAECONNRESET),
                _ => SockResult::ok(n),
            };
        };
        let pst = self.sockets.get_mut(&peer).expect("checked above");
        let inline = pst.options.oob_inline;
        let limit = pst.options.rcvbuf as usize;
        let circular = pst.options.circular_queueing;
        let mut event = NetworkEvents::READ;
        match &mut pst.rx {
            RecvQueue::Stream { bytes, urgent, .. } => {
                if flags.oob && !data.is_empty() {
                    let (normal, last) = data.split_at(data.len() - 1);
                    bytes.extend(normal);
                    if inline {
                        bytes.extend(last);
                    } else {
                        // A newer mark replaces the older one; the older urgent byte
                        // stays in the stream so that no data is lost.
                        if let Some(old) = urgent.replace(last[0]) {
                            bytes.push_back(old);
                        }
                        event = NetworkEvents::OOB;
                    }
                } else {
                    bytes.extend(data);
                }
            }
            RecvQueue::Datagrams(q) => {
                // The queue holds at most SO_RCVBUF bytes. An overflow drops the new
                // datagram, or with SIO_ENABLE_CIRCULAR_QUEUEING the oldest ones until
                // the new one fits (reference). The sender never sees the loss.
                let mut queued: usize = q.iter().map(Vec::len).sum();
                if circular {
                    while queued + data.len() > limit {
                        match q.pop_front() {
                            Some(old) => queued -= old.len(),
                            None => break,
                        }
                    }
                }
                if queued + data.len() > limit {
                    return SockResult::ok(n);
                }
                q.push_back(data.to_vec());
            }
        }
        self.note_event(peer, event);
        SockResult::ok(n)
    }

    /// `recv`: reads up to `len` bytes. MSG_OOB reads the urgent byte (WSAEINVAL when
    /// SO_OOBINLINE is set or none waits); MSG_PEEK leaves the data queued. A datagram
    /// larger than `len` is truncated with WSAEMSGSIZE. Nothing queued: WSAEWOULDBLOCK (the model does not block in recv). A
    /// stream socket that is not connected: WSAENOTCONN.
    pub fn recv(&mut self, s: Socket, len: usize, flags: MsgFlags) -> SockResult {
        let r = self.recv_inner(s, len, flags);
        self.record(r)
    }

    fn recv_inner(&mut self, s: Socket, len: usize, flags: MsgFlags) -> SockResult {
        let st = match self.with_socket(s) {
            Ok(st) => st,
            Err(e) => return e,
        };
        let inline = st.options.oob_inline;
        let connected = st.state.is_connected();
        match &mut st.rx {
            // A stream socket that never connected has nothing to read from (Microsoft's
            // recv page: WSAENOTCONN).
            RecvQueue::Stream { .. } if !connected => SockResult::err(ErrorCode::WSAENOTCONN),
            RecvQueue::Stream { bytes, urgent, eof } => {
                if flags.oob {
                    return match (inline, *urgent) {
                        (false, Some(b)) if len > 0 => {
                            if !flags.peek {
                                *urgent = None;
                            }
                            SockResult {
                                data: vec![b],
                                ..SockResult::ok(1)
                            }
                        }
                        _ => SockResult::err(ErrorCode::WSAEINVAL),
                    };
                }
                if bytes.is_empty() {
                    return if *eof {
                        SockResult::ok(0)
                    } else {
                        SockResult::err(ErrorCode::WSAEWOULDBLOCK)
                    };
                }
                let n = len.min(bytes.len());
                let data: Vec<u8> = if flags.peek {
                    bytes.iter().take(n).copied().collect()
                } else {
                    bytes.drain(..n).collect()
                };
                SockResult {
                    data,
                    ..SockResult::ok(n as i32)
                }
            }
            RecvQueue::Datagrams(q) => {
                let Some(front) = q.front() else {
                    return SockResult::err(ErrorCode::WSAEWOULDBLOCK);
                };
                let n = len.min(front.len());
                let data = front[..n].to_vec();
                let truncated = front.len() > len;
                if !flags.peek {
                    q.pop_front();
                }
                if truncated {
                    SockResult {
                        data,
                        ..SockResult::err(ErrorCode::WSAEMSGSIZE)
                    }
                } else {
                    SockResult {
                        data,
                        ..SockResult::ok(n as i32)
                    }
                }
            }
        }
    }

    /// `setsockopt` for the options the model keeps: SO_OOBINLINE, SO_KEEPALIVE,
    /// SO_RCVBUF, SO_SNDBUF (by name). Other names: WSAENOPROTOOPT.
    pub fn setsockopt(&mut self, s: Socket, option: &str, value: u32) -> SockResult {
        let r = match self.with_socket(s) {
            Err(e) => e,
            Ok(st) => {
                let o = &mut st.options;
                match option {
                    "SO_OOBINLINE" => {
                        o.oob_inline = value != 0;
                        // Turning inline on moves a waiting urgent byte into the stream.
                        if let RecvQueue::Stream { bytes, urgent, .. } = &mut st.rx {
                            if value != 0 {
                                if let Some(b) = urgent.take() {
                                    bytes.push_back(b);
                                }
                            }
                        }
                        SockResult::ok(0)
                    }
                    "SO_KEEPALIVE" => {
                        o.so_keepalive = value != 0;
                        SockResult::ok(0)
                    }
                    "SO_RCVBUF" => {
                        o.rcvbuf = value;
                        SockResult::ok(0)
                    }
                    "SO_SNDBUF" => {
                        o.sndbuf = value;
                        SockResult::ok(0)
                    }
                    _ => SockResult::err(ErrorCode::WSAENOPROTOOPT),
                }
            }
        };
        self.record(r)
    }

    /// `closesocket`: closes the handle. Every pending overlapped request on it
    /// completes with STATUS_CANCELLED through its own delivery path (observations W102,
    /// section 2 item 6); a thread blocked in a call on it returns SOCKET_ERROR with
    /// WSAEINTR (Microsoft's closesocket documentation: pending blocking calls are
    /// cancelled). The peer of a stream connection sees end of stream.
    pub fn closesocket(&mut self, s: Socket) -> SockResult {
        let Some(st) = self.sockets.remove(&s) else {
            return self.record(SockResult::err(ErrorCode::WSAENOTSOCK));
        };
        let pending: Vec<_> = self
            .asyncs
            .ops
            .iter()
            .filter(|(_, op)| op.socket == s && matches!(op.state, OpState::Pending(_)))
            .map(|(id, _)| *id)
            .collect();
        for id in pending {
            self.complete_op(id, NtStatus::STATUS_CANCELLED, 0, Vec::new());
        }
        let blocked: Vec<_> = self
            .asyncs
            .blocked
            .iter()
            .filter(|(_, b)| b.ioctl_socket() == Some(s))
            .map(|(t, _)| *t)
            .collect();
        for t in blocked {
            self.release(
                t,
                Released::Ioctl(IoctlOutcome {
                    result: IoctlOutcome::SOCKET_ERROR,
                    error: ErrorCode::WSAEINTR,
                    bytes_returned: BytesReturned::Untouched,
                    out: Vec::new(),
                    op: None,
                }),
            );
        }
        self.backlog.retain(|(l, a)| *l != s && *a != s);
        if let ConnState::Connected { peer: Some(p), .. } = st.state {
            if let Some(pst) = self.sockets.get_mut(&p) {
                if let RecvQueue::Stream { eof, .. } = &mut pst.rx {
                    *eof = true;
                }
                if st.kind == SocketType::Stream {
                    self.note_event(p, NetworkEvents::CLOSE);
                }
            }
        }
        SockResult::ok(0)
    }

    /// Records a network event on a socket and, if its selection asks for it, signals
    /// the selected event or posts one message per event bit (lParam carries a single
    /// FD_ bit, as WSAAsyncSelect's messages do).
    pub(crate) fn note_event(&mut self, s: Socket, ev: NetworkEvents) {
        let Some(st) = self.sockets.get_mut(&s) else {
            return;
        };
        st.recorded = st.recorded | ev;
        match st.mode {
            crate::model::IoMode::EventSelect { event, mask } if !(mask & ev).is_empty() => {
                self.signal_event(event);
            }
            crate::model::IoMode::AsyncSelect {
                window,
                message,
                mask,
            } if !(mask & ev).is_empty() => {
                self.post_messages(s, window, message, mask & ev);
            }
            _ => {}
        }
    }

    /// Posts one WSAAsyncSelect message per FD_ bit of `events`, lowest bit first.
    pub(crate) fn post_messages(
        &mut self,
        s: Socket,
        window: u64,
        message: u32,
        events: NetworkEvents,
    ) {
        for bit in 0..10 {
            if events.0 & (1 << bit) != 0 {
                self.asyncs
                    .messages
                    .push(crate::model::overlapped::PostedMessage {
                        window,
                        message,
                        socket: s,
                        event: 1 << bit,
                        error: 0,
                    });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> Host {
        Host::default_host()
    }

    #[test]
    fn recv_on_a_stream_socket_that_never_connected_is_enotconn() {
        let mut h = host();
        let s = h
            .socket_default(AddressFamily::Inet, SocketType::Stream)
            .unwrap();
        let r = h.recv(s, 16, MsgFlags::default());
        assert_eq!((r.result, r.error), (-1, ErrorCode::WSAENOTCONN));
    }

    #[test]
    fn recv_on_a_connected_pair_with_nothing_queued_would_block() {
        let mut h = host();
        let (c, _) = h.pair(AddressFamily::Inet, SocketType::Stream).unwrap();
        let r = h.recv(c, 16, MsgFlags::default());
        assert_eq!((r.result, r.error), (-1, ErrorCode::WSAEWOULDBLOCK));
    }

    #[test]
    fn the_last_byte_of_an_oob_send_waits_out_of_band() {
        let mut h = host();
        let (c, srv) = h.pair(AddressFamily::Inet, SocketType::Stream).unwrap();
        assert_eq!(
            h.send(
                c,
                b"abc",
                MsgFlags {
                    oob: true,
                    ..MsgFlags::default()
                }
            )
            .result,
            3
        );
        let normal = h.recv(srv, 16, MsgFlags::default());
        assert_eq!(normal.data, b"ab");
        let urgent = h.recv(
            srv,
            16,
            MsgFlags {
                oob: true,
                ..MsgFlags::default()
            },
        );
        assert_eq!(urgent.data, b"c");
    }

    #[test]
    fn closing_a_socket_gives_its_stream_peer_end_of_stream() {
        let mut h = host();
        let (c, srv) = h.pair(AddressFamily::Inet, SocketType::Stream).unwrap();
        h.closesocket(c);
        let r = h.recv(srv, 16, MsgFlags::default());
        assert_eq!((r.result, r.error), (0, ErrorCode::NO_ERROR));
    }
}
