//! `WSAIoctl` and `ioctlsocket`: the checks every code shares, in Windows' order, and the
//! dispatch to one module per ioctl family.
//!
//! Order of checks (observations section 2, item 1): the socket handle, then a NULL
//! `lpcbBytesReturned` (WSAEFAULT, with or without an OVERLAPPED: W003, W028, W052), then
//! unknown or unsupported codes (W053–W056), then the family's own input checks before
//! its output checks. A family answers with a `Reply`; this module turns the reply
//! into the caller's outcome and, for overlapped calls, into an operation whose
//! completion is delivered by event, APC or completion port.

mod address_list;
mod backlog;
mod broadcast;
mod extension;
mod fion;
mod handles;
mod interface_list;
mod keepalive;
mod multicast;
mod qos;
mod queueing;
mod rcvall;
mod routing;
mod tcp;
mod udp;

use crate::codes::IoctlCode;
use crate::errors::{ErrorCode, NtStatus};
use crate::model::overlapped::{Awaiting, BlockedCall, Delivery, OpState, Operation};
use crate::model::socket::NetworkEvents;
use crate::model::{Event, Host, OverlappedId, RoutineId, Socket, SocketState, ThreadId};
use crate::outcome::{BytesReturned, CallReturn, IoctlOutcome};
use crate::wire::read_u32;

/// The virtual address at which the model places the caller's output buffer. Outputs
/// that hold pointers into themselves (SOCKET_ADDRESS_LIST of SIO_ADDRESS_LIST_QUERY and
/// SIO_ADDRESS_LIST_SORT) are emitted as if the buffer started here, so a reader parses
/// them back with this base. Below 4 GiB, so it is the same for 32-bit callers.
pub const OUT_BUFFER_BASE: u64 = 0x0050_0000;

/// The virtual address at which the model places the caller's input buffer: pointers
/// inside an input (SIO_ADDRESS_LIST_SORT's SOCKET_ADDRESS_LIST) are resolved against it.
pub const IN_BUFFER_BASE: u64 = 0x0040_0000;

/// The input buffer argument (`lpvInBuffer`, `cbInBuffer`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum InBuffer<'a> {
    /// A NULL pointer passed with this length.
    Null {
        /// `cbInBuffer`.
        len: u32,
    },
    /// A pointer outside the caller's address space, with this length: any read faults.
    Invalid {
        /// `cbInBuffer`.
        len: u32,
    },
    /// A valid buffer; its length is `cbInBuffer`.
    Bytes(&'a [u8]),
}

impl InBuffer<'_> {
    /// `cbInBuffer`.
    pub fn len(&self) -> u32 {
        match self {
            InBuffer::Null { len } | InBuffer::Invalid { len } => *len,
            InBuffer::Bytes(b) => b.len().min(u32::MAX as usize) as u32,
        }
    }

    /// True when `cbInBuffer` is 0.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The output buffer argument (`lpvOutBuffer`, `cbOutBuffer`). A valid buffer is only a
/// capacity: the model allocates what it writes, never `cbOutBuffer` bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OutBuffer {
    /// A NULL pointer passed with this length.
    Null {
        /// `cbOutBuffer`.
        len: u32,
    },
    /// A pointer outside the caller's address space (or to a no-access page).
    Invalid {
        /// `cbOutBuffer`.
        len: u32,
    },
    /// A valid, writable buffer of this many bytes.
    Capacity(u32),
}

impl OutBuffer {
    /// `cbOutBuffer`.
    pub fn len(&self) -> u32 {
        match *self {
            OutBuffer::Null { len } | OutBuffer::Invalid { len } | OutBuffer::Capacity(len) => len,
        }
    }

    /// True when `cbOutBuffer` is 0.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The capacity when the buffer is valid.
    pub fn capacity(&self) -> Option<u32> {
        match *self {
            OutBuffer::Capacity(n) => Some(n),
            _ => None,
        }
    }
}

/// The `lpOverlapped` / `lpCompletionRoutine` pair.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct OverlappedArg {
    /// The caller's WSAOVERLAPPED.
    pub overlapped: OverlappedId,
    /// Its `hEvent`.
    pub event: Option<Event>,
    /// The completion routine, if any.
    pub routine: Option<RoutineId>,
}

/// One `WSAIoctl` call, argument by argument.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct IoctlCall<'a> {
    /// `s`.
    pub socket: Socket,
    /// `dwIoControlCode`.
    pub code: IoctlCode,
    /// `lpvInBuffer`, `cbInBuffer`.
    pub input: InBuffer<'a>,
    /// `lpvOutBuffer`, `cbOutBuffer`.
    pub output: OutBuffer,
    /// False when `lpcbBytesReturned` is NULL.
    pub bytes_returned: bool,
    /// `lpOverlapped` and `lpCompletionRoutine`.
    pub overlapped: Option<OverlappedArg>,
    /// The calling thread.
    pub thread: ThreadId,
}

impl<'a> IoctlCall<'a> {
    /// A call with no buffers, a valid `lpcbBytesReturned`, no OVERLAPPED, on the main
    /// thread; adjust with the builder methods.
    pub fn new(socket: Socket, code: IoctlCode) -> Self {
        IoctlCall {
            socket,
            code,
            input: InBuffer::Null { len: 0 },
            output: OutBuffer::Null { len: 0 },
            bytes_returned: true,
            overlapped: None,
            thread: ThreadId::MAIN,
        }
    }

    /// Passes these input bytes.
    pub fn input(mut self, bytes: &'a [u8]) -> Self {
        self.input = InBuffer::Bytes(bytes);
        self
    }

    /// Passes a valid output buffer of `len` bytes.
    pub fn out_len(mut self, len: u32) -> Self {
        self.output = OutBuffer::Capacity(len);
        self
    }

    /// Passes NULL as `lpcbBytesReturned`.
    pub fn null_bytes_returned(mut self) -> Self {
        self.bytes_returned = false;
        self
    }

    /// Passes an OVERLAPPED (and optionally an event and a completion routine).
    pub fn overlapped(
        mut self,
        ov: OverlappedId,
        event: Option<Event>,
        routine: Option<RoutineId>,
    ) -> Self {
        self.overlapped = Some(OverlappedArg {
            overlapped: ov,
            event,
            routine,
        });
        self
    }

    /// Makes the call on another thread.
    pub fn on_thread(mut self, thread: ThreadId) -> Self {
        self.thread = thread;
        self
    }
}

/// A family's answer to a call, before the shared code turns it into an outcome.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) enum Reply {
    /// Completed at once: these output bytes, and this effect on `lpcbBytesReturned`.
    Done {
        out: Vec<u8>,
        bytes_returned: BytesReturned,
    },
    /// Failed at once with this error; nothing is queued (observations section 2 item 4).
    Fail {
        error: ErrorCode,
        bytes_returned: BytesReturned,
    },
    /// Goes through the kernel asynchronously even though the answer is known: with an
    /// OVERLAPPED the call pends and completes right after it returns with this status
    /// (observations section 2 item 5). Without one, the answer is returned directly.
    Async {
        status: NtStatus,
        info: u32,
        out: Vec<u8>,
    },
    /// Completes only when the host changes (change notifications).
    Await(Awaiting),
}

impl Reply {
    pub(crate) fn fail(error: ErrorCode, bytes_returned: BytesReturned) -> Reply {
        Reply::Fail {
            error,
            bytes_returned,
        }
    }

    pub(crate) fn done(out: Vec<u8>) -> Reply {
        let n = out.len() as u32;
        Reply::Done {
            out,
            bytes_returned: BytesReturned::Written(n),
        }
    }

    /// A success with no output: `*lpcbBytesReturned` = 0 (W030, W044).
    pub(crate) fn done_empty() -> Reply {
        Reply::Done {
            out: Vec::new(),
            bytes_returned: BytesReturned::Written(0),
        }
    }

    /// A failure of a buffer check: `*lpcbBytesReturned` stays as the caller left it.
    pub(crate) fn untouched(error: ErrorCode) -> Reply {
        Reply::fail(error, BytesReturned::Untouched)
    }

    /// A failure the provider reports after taking the request (socket kind or state):
    /// `*lpcbBytesReturned` is written with 0, as for W036, W053 and W123.
    pub(crate) fn refused(error: ErrorCode) -> Reply {
        Reply::fail(error, BytesReturned::Written(0))
    }
}

/// What a family handler sees: the host and the call. The socket is known to be open.
pub(crate) struct Ctx<'h, 'a> {
    pub host: &'h mut Host,
    pub call: IoctlCall<'a>,
}

impl Ctx<'_, '_> {
    /// The socket's state.
    pub fn sock(&self) -> &SocketState {
        self.host
            .sockets
            .get(&self.call.socket)
            .expect("invariant: dispatch checked the socket is open")
    }

    /// The socket's state, mutably.
    pub fn sock_mut(&mut self) -> &mut SocketState {
        self.host
            .sockets
            .get_mut(&self.call.socket)
            .expect("invariant: dispatch checked the socket is open")
    }

    /// True when the call is overlapped (an OVERLAPPED on a WSA_FLAG_OVERLAPPED socket).
    pub fn is_overlapped(&self) -> bool {
        self.call.overlapped.is_some() && self.sock().overlapped
    }

    /// The input bytes, or the error reading them gives: a NULL or invalid pointer with a
    /// non-zero length faults (WSAEFAULT); a NULL pointer with length 0 reads as empty.
    pub fn read_input(&self) -> Result<&[u8], ErrorCode> {
        match self.call.input {
            InBuffer::Bytes(b) => Ok(b),
            InBuffer::Null { len: 0 } => Ok(&[]),
            InBuffer::Null { .. } | InBuffer::Invalid { .. } => Err(ErrorCode::WSAEFAULT),
        }
    }

    /// Reads the 4-byte integer input of a BOOL/int/u_long code. Shorter than 4 bytes,
    /// NULL or invalid: WSAEFAULT. Longer inputs are accepted and only the first 4 bytes
    /// count.
    pub fn input_u32(&self) -> Result<u32, ErrorCode> {
        let bytes = self.read_input()?;
        read_u32(bytes).ok_or(ErrorCode::WSAEFAULT)
    }

    /// Checks that the output buffer can take `needed` bytes: WSAEFAULT when it is too
    /// small, NULL or invalid.
    pub fn check_output(&self, needed: u32) -> Result<(), ErrorCode> {
        match self.call.output {
            OutBuffer::Capacity(n) if n >= needed => Ok(()),
            _ => Err(ErrorCode::WSAEFAULT),
        }
    }
}

/// The defined answer to a code Windows does not support: WSAEOPNOTSUPP with
/// `*lpcbBytesReturned` = 0, or, overlapped, a pending request that completes with
/// STATUS_NOT_SUPPORTED (observations W053–W056, section 2 item 3).
pub(crate) fn unsupported() -> Reply {
    Reply::Async {
        status: NtStatus::STATUS_NOT_SUPPORTED,
        info: 0,
        out: Vec::new(),
    }
}

/// The output check of the codes that answer with one SOCKADDR of `need` bytes
/// (SIO_ROUTING_INTERFACE_QUERY, SIO_GET_BROADCAST_ADDRESS): a NULL or invalid pointer is
/// WSAEFAULT with `*lpcbBytesReturned` untouched (W085); a valid buffer smaller than the
/// sockaddr is WSAEFAULT with `need` written (W084).
pub(crate) fn check_sockaddr_output(out: OutBuffer, need: u32) -> Result<(), Reply> {
    match out {
        OutBuffer::Null { .. } | OutBuffer::Invalid { .. } => {
            Err(Reply::untouched(ErrorCode::WSAEFAULT))
        }
        OutBuffer::Capacity(n) if n < need => Err(Reply::fail(
            ErrorCode::WSAEFAULT,
            BytesReturned::Written(need),
        )),
        OutBuffer::Capacity(_) => Ok(()),
    }
}

fn dispatch(ctx: &mut Ctx) -> Reply {
    match ctx.call.code {
        IoctlCode::FIONBIO | IoctlCode::FIONREAD | IoctlCode::SIOCATMARK => fion::call(ctx),
        IoctlCode::SIO_KEEPALIVE_VALS => keepalive::call(ctx),
        IoctlCode::SIO_ENABLE_CIRCULAR_QUEUEING => queueing::call(ctx),
        IoctlCode::SIO_GET_EXTENSION_FUNCTION_POINTER => extension::call(ctx),
        IoctlCode::SIO_GET_QOS | IoctlCode::SIO_SET_QOS => qos::call(ctx),
        IoctlCode::SIO_MULTIPOINT_LOOPBACK | IoctlCode::SIO_MULTICAST_SCOPE => multicast::call(ctx),
        IoctlCode::SIO_RCVALL | IoctlCode::SIO_RCVALL_MCAST | IoctlCode::SIO_RCVALL_IGMPMCAST => {
            rcvall::call(ctx)
        }
        IoctlCode::SIO_ASSOCIATE_HANDLE
        | IoctlCode::SIO_TRANSLATE_HANDLE
        | IoctlCode::SIO_BASE_HANDLE
        | IoctlCode::SIO_BSP_HANDLE
        | IoctlCode::SIO_BSP_HANDLE_SELECT
        | IoctlCode::SIO_BSP_HANDLE_POLL => handles::call(ctx),
        IoctlCode::SIO_ROUTING_INTERFACE_QUERY | IoctlCode::SIO_ROUTING_INTERFACE_CHANGE => {
            routing::call(ctx)
        }
        IoctlCode::SIO_ADDRESS_LIST_QUERY
        | IoctlCode::SIO_ADDRESS_LIST_CHANGE
        | IoctlCode::SIO_ADDRESS_LIST_SORT => address_list::call(ctx),
        IoctlCode::SIO_GET_BROADCAST_ADDRESS => broadcast::call(ctx),
        IoctlCode::SIO_GET_INTERFACE_LIST => interface_list::call(ctx),
        IoctlCode::SIO_IDEAL_SEND_BACKLOG_QUERY | IoctlCode::SIO_IDEAL_SEND_BACKLOG_CHANGE => {
            backlog::call(ctx)
        }
        IoctlCode::SIO_TCP_INFO | IoctlCode::SIO_LOOPBACK_FAST_PATH => tcp::call(ctx),
        IoctlCode::SIO_UDP_CONNRESET => udp::call(ctx),
        // FIOASYNC, SIO_FLUSH, SIO_FIND_ROUTE, the group QOS codes and every unknown
        // number (observations 1.4 and section 3).
        _ => unsupported(),
    }
}

fn failed(error: ErrorCode, bytes_returned: BytesReturned) -> IoctlOutcome {
    IoctlOutcome {
        result: IoctlOutcome::SOCKET_ERROR,
        error,
        bytes_returned,
        out: Vec::new(),
        op: None,
    }
}

impl Host {
    /// `WSAIoctl`: runs one control code on a socket and returns everything the call did.
    ///
    /// The result is `Blocked` only for a blocking socket's change request made without
    /// an OVERLAPPED (observations W103); the thread is released by a host change or by
    /// closing the socket.
    ///
    /// An overlapped request that completes at once still posts a 0-byte packet to the
    /// socket's completion port (observations W011, W117):
    ///
    /// ```
    /// use wsasim::codes::IoctlCode;
    /// use wsasim::ioctl::IoctlCall;
    /// use wsasim::model::{AddressFamily, Host, OverlappedId, SocketType, ThreadId};
    /// use wsasim::outcome::BytesReturned;
    /// use wsasim::time::Timeout;
    ///
    /// let mut host = Host::default_host();
    /// let s = host.socket_default(AddressFamily::Inet, SocketType::Stream).unwrap();
    /// let port = host.create_io_completion_port();
    /// host.associate_with_port(s, port, 123).unwrap();
    ///
    /// let ov = OverlappedId(1);
    /// let call = IoctlCall::new(s, IoctlCode::SIO_ADDRESS_LIST_QUERY)
    ///     .out_len(1024)
    ///     .overlapped(ov, None, None);
    /// let o = host.wsa_ioctl(call).returned().unwrap();
    /// assert_eq!((o.result, o.bytes_returned), (0, BytesReturned::Written(40)));
    ///
    /// let packet = host
    ///     .get_queued_completion_status(ThreadId::MAIN, port, Timeout(0))
    ///     .returned()
    ///     .unwrap();
    /// assert!(packet.result);
    /// assert_eq!((packet.bytes, packet.key, packet.overlapped), (0, 123, Some(ov)));
    /// ```
    pub fn wsa_ioctl(&mut self, call: IoctlCall) -> CallReturn<IoctlOutcome> {
        let outcome = match self.sockets.get(&call.socket) {
            None => failed(ErrorCode::WSAENOTSOCK, BytesReturned::Untouched),
            Some(_) if !call.bytes_returned => {
                failed(ErrorCode::WSAEFAULT, BytesReturned::Untouched)
            }
            // A completion routine on a socket bound to a completion port: Windows
            // refuses WSARecv in this shape with WSAEINVAL and AFD refuses an APC on such
            // a handle (observations section 2 item 8, W135); WSAIoctl is not tested, so
            // the model follows the same rule (a documented choice).
            Some(s)
                if s.overlapped
                    && s.port.is_some()
                    && call.overlapped.is_some_and(|o| o.routine.is_some()) =>
            {
                failed(ErrorCode::WSAEINVAL, BytesReturned::Untouched)
            }
            Some(_) => {
                let mut ctx = Ctx { host: self, call };
                let reply = dispatch(&mut ctx);
                let overlapped = ctx.is_overlapped();
                match self.finish(call, reply, overlapped) {
                    CallReturn::Returned(o) => o,
                    blocked => return blocked,
                }
            }
        };
        self.last_error = outcome.error;
        CallReturn::Returned(outcome)
    }

    /// Turns a family's reply into the outcome, starting and completing the overlapped
    /// operation where the reply calls for one.
    pub(crate) fn finish(
        &mut self,
        call: IoctlCall,
        reply: Reply,
        overlapped: bool,
    ) -> CallReturn<IoctlOutcome> {
        let ov = call.overlapped.filter(|_| overlapped);
        let outcome = match (reply, ov) {
            (
                Reply::Done {
                    out,
                    bytes_returned,
                },
                ov,
            ) => {
                let op = ov.map(|ov| {
                    let id = self.start_overlapped(call, ov, Awaiting::Immediate);
                    // Completed synchronously: Internal 0, InternalHigh 0, and a
                    // 0-byte delivery still queued (observations section 2 item 2).
                    self.complete_op(id, NtStatus::STATUS_SUCCESS, 0, out.clone());
                    id
                });
                IoctlOutcome {
                    result: 0,
                    error: ErrorCode::NO_ERROR,
                    bytes_returned,
                    out,
                    op,
                }
            }
            (
                Reply::Fail {
                    error,
                    bytes_returned,
                },
                _,
            ) => failed(error, bytes_returned),
            (Reply::Async { status, info, out }, Some(ov)) => {
                let id = self.start_overlapped(call, ov, Awaiting::Immediate);
                self.complete_op(id, status, info, out);
                IoctlOutcome {
                    op: Some(id),
                    ..failed(ErrorCode::WSA_IO_PENDING, BytesReturned::Untouched)
                }
            }
            (Reply::Async { status, info, out }, None) => {
                if status.is_error() {
                    failed(status.to_winsock(), BytesReturned::Written(0))
                } else {
                    IoctlOutcome {
                        result: 0,
                        error: ErrorCode::NO_ERROR,
                        bytes_returned: BytesReturned::Written(info),
                        out,
                        op: None,
                    }
                }
            }
            (Reply::Await(awaiting), Some(ov)) => {
                let id = self.start_overlapped(call, ov, awaiting);
                IoctlOutcome {
                    op: Some(id),
                    ..failed(ErrorCode::WSA_IO_PENDING, BytesReturned::Untouched)
                }
            }
            (Reply::Await(awaiting), None) => {
                let sock = self
                    .sockets
                    .get_mut(&call.socket)
                    .expect("invariant: dispatch checked the socket is open");
                if sock.mode.is_nonblocking() {
                    // The failed call arms the matching FD_ event (observations W100,
                    // W105; reference SIO_ADDRESS_LIST_CHANGE).
                    sock.armed = sock.armed | armed_event(awaiting);
                    failed(ErrorCode::WSAEWOULDBLOCK, BytesReturned::Untouched)
                } else {
                    self.park(
                        call.thread,
                        BlockedCall::Ioctl {
                            socket: call.socket,
                            code: call.code,
                            awaiting,
                        },
                    );
                    return CallReturn::Blocked(call.thread);
                }
            }
        };
        CallReturn::Returned(outcome)
    }

    fn start_overlapped(
        &mut self,
        call: IoctlCall,
        ov: OverlappedArg,
        awaiting: Awaiting,
    ) -> crate::model::OpId {
        let port = self.sockets.get(&call.socket).and_then(|s| s.port);
        let delivery = match (ov.routine, port) {
            (Some(routine), _) => Delivery::Apc {
                routine,
                thread: call.thread,
            },
            (None, Some((port, key))) => Delivery::Port { port, key },
            (None, None) => Delivery::Overlapped,
        };
        let rec = self.asyncs.overlapped.entry(ov.overlapped).or_default();
        rec.event = ov.event;
        if let Some(ev) = ov.event {
            // Choice (no evidence: no observation looks at the event before completion):
            // the caller's event is reset when the request is accepted, so that it is
            // signaled only by this request's completion.
            self.asyncs.events.entry(ev).or_default().signaled = false;
        }
        self.start_op(Operation {
            socket: call.socket,
            code: call.code,
            overlapped: ov.overlapped,
            delivery,
            thread: call.thread,
            state: OpState::Pending(awaiting),
            out: Vec::new(),
        })
    }

    /// `ioctlsocket`: the three Unix codes through one u_long argument. `arg` is `None`
    /// for an invalid `argp` (observations W001, W002, W027: WSAEFAULT). Returns the
    /// outcome and the value `*argp` holds afterwards.
    pub fn ioctlsocket(&mut self, s: Socket, cmd: IoctlCode, arg: Option<u32>) -> (i32, u32) {
        let bytes = arg.unwrap_or(0).to_le_bytes();
        let call = IoctlCall {
            socket: s,
            code: cmd,
            input: match arg {
                Some(_) => InBuffer::Bytes(&bytes),
                None => InBuffer::Invalid { len: 4 },
            },
            output: match arg {
                Some(_) => OutBuffer::Capacity(4),
                None => OutBuffer::Invalid { len: 4 },
            },
            bytes_returned: true,
            overlapped: None,
            thread: ThreadId::MAIN,
        };
        match self.wsa_ioctl(call) {
            CallReturn::Returned(o) => {
                let after = o.out_u32().unwrap_or(arg.unwrap_or(0));
                (o.result, after)
            }
            // ioctlsocket never carries a change request; a blocked call cannot
            // happen, but report it as an error rather than hide it.
            CallReturn::Blocked(_) => (IoctlOutcome::SOCKET_ERROR, arg.unwrap_or(0)),
        }
    }
}

/// The FD_ event a WSAEWOULDBLOCK change request arms.
fn armed_event(awaiting: Awaiting) -> NetworkEvents {
    match awaiting {
        Awaiting::AddressListChange => NetworkEvents::ADDRESS_LIST_CHANGE,
        Awaiting::RoutingInterfaceChange { .. } => NetworkEvents::ROUTING_INTERFACE_CHANGE,
        Awaiting::SendBacklogChange | Awaiting::Immediate => NetworkEvents::NONE,
    }
}

#[cfg(test)]
pub(super) mod test_support {
    //! Helpers shared by the family tests.
    use crate::ioctl::IoctlCall;
    use crate::model::{
        AddressFamily, Host, HostConfig, Network, OverlappedId, Port, Socket, SocketType,
    };
    use crate::outcome::IoctlOutcome;

    pub fn host() -> Host {
        Host::default_host()
    }

    pub fn admin_host() -> Host {
        Host::new(
            Network::default_host(),
            HostConfig {
                privileged: true,
                ..HostConfig::default()
            },
        )
    }

    /// An overlapped AF_INET stream socket.
    pub fn tcp(h: &mut Host) -> Socket {
        h.socket_default(AddressFamily::Inet, SocketType::Stream)
            .unwrap()
    }

    /// An overlapped AF_INET6 stream socket.
    pub fn tcp6(h: &mut Host) -> Socket {
        h.socket_default(AddressFamily::Inet6, SocketType::Stream)
            .unwrap()
    }

    /// An overlapped AF_INET datagram socket.
    pub fn udp(h: &mut Host) -> Socket {
        h.socket_default(AddressFamily::Inet, SocketType::Dgram)
            .unwrap()
    }

    /// An overlapped AF_INET6 datagram socket.
    pub fn udp6(h: &mut Host) -> Socket {
        h.socket_default(AddressFamily::Inet6, SocketType::Dgram)
            .unwrap()
    }

    pub fn tcp_pair(h: &mut Host) -> (Socket, Socket) {
        h.pair(AddressFamily::Inet, SocketType::Stream).unwrap()
    }

    /// Associates the socket with a fresh completion port, key 123.
    pub fn with_port(h: &mut Host, s: Socket) -> Port {
        let port = h.create_io_completion_port();
        h.associate_with_port(s, port, 123)
            .expect("an overlapped socket joins a new port");
        port
    }

    pub fn run(h: &mut Host, call: IoctlCall) -> IoctlOutcome {
        h.wsa_ioctl(call).returned().expect("the call returned")
    }

    pub const OV: OverlappedId = OverlappedId(1);
}
