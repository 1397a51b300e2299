//! Asynchronous state: OVERLAPPED records, operations in flight, event objects,
//! completion ports, queued completion routines (APCs) and simulated threads.
//!
//! Nothing here performs an effect on its own: completing an operation writes the
//! OVERLAPPED, then queues exactly one delivery (an event signal, an APC on the issuing
//! thread, or a packet on the socket's completion port) that waits and `poll_*` calls
//! drain later.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;

use super::{Event, OpId, OverlappedId, Port, RoutineId, Socket, ThreadId};
use crate::codes::IoctlCode;
use crate::errors::{ErrorCode, NtStatus};

/// The caller's WSAOVERLAPPED: the kernel writes `Internal` (the status) and
/// `InternalHigh` (the byte count); `hEvent` is the caller's.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct OverlappedRecord {
    /// OVERLAPPED.Internal: an NTSTATUS once the kernel has seen the request.
    pub internal: u64,
    /// OVERLAPPED.InternalHigh: bytes transferred.
    pub internal_high: u64,
    /// OVERLAPPED.hEvent.
    pub event: Option<Event>,
    /// The operation most recently started with this record.
    pub op: Option<OpId>,
}

/// What a pending operation waits for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Awaiting {
    /// Nothing: the answer is known and the operation completes as the call returns
    /// (synchronous completions and the "asynchronous at once" codes).
    Immediate,
    /// SIO_ADDRESS_LIST_CHANGE: any change to the bindable addresses of the family.
    AddressListChange,
    /// SIO_ROUTING_INTERFACE_CHANGE: the interface used for `destination` changes
    /// (`None`: the wildcard address, any routing change). `interface` is the
    /// interface chosen when the request was armed (`None`: unreachable then).
    RoutingInterfaceChange {
        /// The destination, or `None` for the wildcard.
        destination: Option<SocketAddr>,
        /// The route's interface when armed.
        interface: Option<u32>,
    },
    /// SIO_IDEAL_SEND_BACKLOG_CHANGE: the ideal send backlog changes.
    SendBacklogChange,
}

/// How an operation's completion reaches the caller, fixed when it starts.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Delivery {
    /// A completion routine, queued as an APC to the issuing thread.
    Apc {
        /// The routine.
        routine: RoutineId,
        /// The thread whose alertable wait runs it.
        thread: ThreadId,
    },
    /// A packet on the completion port the socket is associated with.
    Port {
        /// The port.
        port: Port,
        /// The socket's completion key.
        key: u64,
    },
    /// Only the OVERLAPPED (and its event, if any) reports the completion.
    Overlapped,
}

/// Where an operation is in its life.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum OpState {
    /// Not complete yet: OVERLAPPED.Internal reads STATUS_PENDING.
    Pending(Awaiting),
    /// Completed with this status and byte count; the delivery has been queued.
    Completed {
        /// The final status.
        status: NtStatus,
        /// Bytes transferred (InternalHigh).
        bytes: u32,
    },
}

/// One overlapped request.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Operation {
    /// The socket it was issued on.
    pub socket: Socket,
    /// The ioctl code.
    pub code: IoctlCode,
    /// The caller's OVERLAPPED.
    pub overlapped: OverlappedId,
    /// How the completion is delivered.
    pub delivery: Delivery,
    /// The thread that issued it.
    pub thread: ThreadId,
    /// Its state.
    pub state: OpState,
    /// The output bytes written when it completed.
    pub out: Vec<u8>,
}

/// A manual-reset event object (WSACreateEvent).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct EventState {
    /// Whether the event is signaled.
    pub signaled: bool,
}

/// A completion packet as GetQueuedCompletionStatus returns it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Packet {
    /// The completion key of the socket.
    pub key: u64,
    /// Bytes transferred.
    pub bytes: u32,
    /// The OVERLAPPED of the operation.
    pub overlapped: OverlappedId,
    /// The operation's final status.
    pub status: NtStatus,
}

/// A completion routine call waiting for an alertable wait.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Apc {
    /// The routine to run.
    pub routine: RoutineId,
    /// `dwError`: a Winsock error code.
    pub error: ErrorCode,
    /// `cbTransferred`.
    pub bytes: u32,
    /// `lpOverlapped`.
    pub overlapped: OverlappedId,
    /// `dwFlags`: always 0 (reference: "there are no flag values defined").
    pub flags: u32,
}

/// A window message posted by WSAAsyncSelect.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PostedMessage {
    /// The window.
    pub window: u64,
    /// The message number.
    pub message: u32,
    /// wParam: the socket.
    pub socket: Socket,
    /// The event (low word of lParam).
    pub event: u32,
    /// The error (high word of lParam).
    pub error: u32,
}

/// A thread parked inside a blocking WSAIoctl (reference: "WSAIoctl can block if socket
/// s is in blocking mode"; observations W103).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct BlockedCall {
    /// The socket the call was made on.
    pub socket: Socket,
    /// The ioctl code.
    pub code: IoctlCode,
    /// What releases it.
    pub awaiting: Awaiting,
}

/// All asynchronous state of the host.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct AsyncState {
    /// OVERLAPPED records by id.
    pub overlapped: BTreeMap<OverlappedId, OverlappedRecord>,
    /// Operations by id, in start order.
    pub ops: BTreeMap<OpId, Operation>,
    /// Event objects.
    pub events: BTreeMap<Event, EventState>,
    /// Completion ports and their queued packets.
    pub ports: BTreeMap<Port, VecDeque<Packet>>,
    /// APCs queued per thread, in the order they were queued.
    pub apcs: BTreeMap<ThreadId, Vec<Apc>>,
    /// Messages posted to windows, in order.
    pub messages: Vec<PostedMessage>,
    /// Threads parked in a blocking call, with what they wait for.
    pub blocked: BTreeMap<ThreadId, BlockedCall>,
    /// Outcomes of blocked calls that have been released and not yet collected.
    pub released: BTreeMap<ThreadId, crate::outcome::IoctlOutcome>,
    /// Misuse the model noticed but Windows leaves undefined (reported, not invented).
    pub diagnostics: Vec<String>,
}
