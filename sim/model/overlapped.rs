//! Asynchronous state: OVERLAPPED records, operations in flight, event objects,
//! completion ports, queued completion routines (APCs) and simulated threads.
//!
//! Nothing here performs an effect on its own: completing an operation writes the
//! OVERLAPPED, then queues exactly one delivery (an event signal, an APC on the issuing
//! thread, or a packet on the socket's completion port) that waits and `poll_*` calls
//! drain later.
//!
//! Threads: a call that cannot return parks its thread in `blocked` with what it waits
//! for ([`BlockedCall`]). `Host::wake_blocked` runs after every completion and every
//! event signal and moves each thread whose wait is now satisfied to `released`, where
//! `Host::poll_thread` collects its [`Released`] outcome once. Threads parked on the same
//! completion port are served last-in first-out, as Microsoft documents for I/O
//! completion ports ("threads that block on a completion port are released in LIFO
//! order"). Completion routines run only at an alertable wait, all those queued, in an
//! order drawn from the host's seeded generator (reference: "The completion routines can
//! be called in any order"); FIFO is one of the orders it can draw.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;

use rand_core::RngCore;

use super::{Event, Host, OpId, OverlappedId, Port, RoutineId, Socket, ThreadId};
use crate::codes::IoctlCode;
use crate::errors::{ErrorCode, NtStatus};
use crate::outcome::IoctlOutcome;

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

/// What a parked thread waits for.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum BlockedCall {
    /// A blocking WSAIoctl (reference: "WSAIoctl can block if socket s is in blocking
    /// mode"; observations W103): released by the awaited host change, or with WSAEINTR
    /// when the socket closes.
    Ioctl {
        /// The socket the call was made on.
        socket: Socket,
        /// The ioctl code.
        code: IoctlCode,
        /// What releases it.
        awaiting: Awaiting,
    },
    /// WSAWaitForMultipleEvents with an infinite timeout.
    Wait {
        /// The events waited on, in the caller's order.
        events: Vec<Event>,
        /// Wait for all of them (else any).
        all: bool,
        /// Alertable: queued completion routines end the wait.
        alertable: bool,
    },
    /// SleepEx(INFINITE): only an alertable one can ever end.
    Sleep {
        /// Alertable: queued completion routines end the sleep.
        alertable: bool,
    },
    /// GetQueuedCompletionStatus(INFINITE) on this port.
    Gqcs {
        /// The port.
        port: Port,
    },
    /// WSAGetOverlappedResult(fWait = TRUE) on a pending request.
    OverlappedResult {
        /// The caller's OVERLAPPED.
        overlapped: OverlappedId,
        /// The misuse diagnostic the call noticed, returned with the result.
        diagnostic: Option<String>,
    },
}

impl BlockedCall {
    /// The socket a blocking ioctl waits on (closing it releases the thread).
    pub fn ioctl_socket(&self) -> Option<Socket> {
        match self {
            BlockedCall::Ioctl { socket, .. } => Some(*socket),
            _ => None,
        }
    }
}

/// How a wait ended (`WSAWaitForMultipleEvents`, `SleepEx`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum WaitResult {
    /// WSA_WAIT_EVENT_0 + index: this event (the lowest signaled index for wait-any).
    Signaled(usize),
    /// WSA_WAIT_TIMEOUT / WAIT_TIMEOUT (SleepEx: the sleep elapsed, returns 0).
    Timeout,
    /// WSA_WAIT_IO_COMPLETION: completion routines ran.
    IoCompletion,
    /// WSA_WAIT_FAILED with this error.
    Failed(ErrorCode),
}

/// The outcome of a wait.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct WaitOutcome {
    /// How it ended.
    pub result: WaitResult,
    /// The completion routines that ran during the wait, in the order they ran.
    pub apcs: Vec<Apc>,
}

/// The outcome of GetQueuedCompletionStatus.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct GqcsOutcome {
    /// The BOOL returned.
    pub result: bool,
    /// GetLastError() after the call (0 on success).
    pub error: ErrorCode,
    /// lpNumberOfBytesTransferred.
    pub bytes: u32,
    /// lpCompletionKey.
    pub key: u64,
    /// lpOverlapped (None: NULL, nothing dequeued).
    pub overlapped: Option<OverlappedId>,
}

/// The outcome of WSAGetOverlappedResult.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct OverlappedResult {
    /// The BOOL returned.
    pub result: bool,
    /// WSAGetLastError() after the call.
    pub error: ErrorCode,
    /// lpcbTransfer.
    pub bytes: u32,
    /// lpdwFlags.
    pub flags: u32,
    /// Misuse Windows leaves undefined (fWait TRUE with a completion routine).
    pub diagnostic: Option<String>,
}

/// What a released thread's blocked call returned (see `Host::poll_thread`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Released {
    /// A blocked WSAIoctl.
    Ioctl(IoctlOutcome),
    /// A blocked wait or SleepEx.
    Wait(WaitOutcome),
    /// A blocked GetQueuedCompletionStatus.
    Gqcs(GqcsOutcome),
    /// A blocked WSAGetOverlappedResult.
    OverlappedResult(OverlappedResult),
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
    /// When each parked thread parked (a counter), for LIFO service of port waiters.
    pub parked_at: BTreeMap<ThreadId, u64>,
    /// The next value of the parking counter.
    pub next_park: u64,
    /// Outcomes of blocked calls that have been released and not yet collected.
    pub released: BTreeMap<ThreadId, Released>,
    /// Misuse the model noticed but Windows leaves undefined (reported, not invented).
    pub diagnostics: Vec<String>,
}

/// The result WSAGetOverlappedResult reads from a completed OVERLAPPED: TRUE for an
/// NT_SUCCESS status, the last error through the one mapping (observations section 2
/// item 9), InternalHigh as the byte count, flags 0.
pub fn overlapped_result(rec: &OverlappedRecord, diagnostic: Option<String>) -> OverlappedResult {
    let status = NtStatus(rec.internal as u32);
    OverlappedResult {
        result: status.is_success(),
        error: status.to_winsock(),
        bytes: rec.internal_high as u32,
        flags: 0,
        diagnostic,
    }
}

impl Host {
    /// Parks a thread in a blocking call.
    pub(crate) fn park(&mut self, thread: ThreadId, call: BlockedCall) {
        let at = self.asyncs.next_park;
        self.asyncs.next_park += 1;
        self.asyncs.blocked.insert(thread, call);
        self.asyncs.parked_at.insert(thread, at);
    }

    /// Releases a parked thread with the outcome its call returns.
    pub(crate) fn release(&mut self, thread: ThreadId, outcome: Released) {
        if self.asyncs.blocked.remove(&thread).is_none() {
            panic!("invariant: only a parked thread is released ({thread})");
        }
        self.asyncs.parked_at.remove(&thread);
        self.asyncs.released.insert(thread, outcome);
    }

    /// Takes every completion routine queued for `thread`, in the order they run: a
    /// permutation drawn from the seeded generator (Fisher-Yates), so a seed fixes the
    /// order and different seeds explore different ones.
    pub(crate) fn take_apcs(&mut self, thread: ThreadId) -> Vec<Apc> {
        let mut apcs = self.asyncs.apcs.remove(&thread).unwrap_or_default();
        for i in (1..apcs.len()).rev() {
            let j = (self.rng().next_u64() % (i as u64 + 1)) as usize;
            apcs.swap(i, j);
        }
        apcs
    }

    /// True when `thread` has completion routines waiting for an alertable wait.
    pub(crate) fn has_apcs(&self, thread: ThreadId) -> bool {
        self.asyncs.apcs.get(&thread).is_some_and(|q| !q.is_empty())
    }

    /// How a set of events satisfies a wait right now, if it does: wait-any gives the
    /// lowest signaled index, wait-all index 0 once every event is signaled.
    pub(crate) fn events_satisfy(&self, events: &[Event], all: bool) -> Option<usize> {
        let signaled = |e: &Event| self.asyncs.events.get(e).is_some_and(|s| s.signaled);
        if all {
            events.iter().all(signaled).then_some(0)
        } else {
            events.iter().position(signaled)
        }
    }

    /// What a blocked call returns if it can return now, else `None`: the one rule used
    /// both by a call deciding whether to park and by `wake_blocked` re-examining a
    /// parked thread. A blocked WSAIoctl is released only by a host change or a close.
    pub(crate) fn try_release(&mut self, thread: ThreadId, call: &BlockedCall) -> Option<Released> {
        match call.clone() {
            BlockedCall::Ioctl { .. } => None,
            BlockedCall::Wait {
                events,
                all,
                alertable,
            } => {
                if let Some(i) = self.events_satisfy(&events, all) {
                    Some(Released::Wait(WaitOutcome {
                        result: WaitResult::Signaled(i),
                        apcs: Vec::new(),
                    }))
                } else if alertable && self.has_apcs(thread) {
                    let apcs = self.take_apcs(thread);
                    Some(Released::Wait(WaitOutcome {
                        result: WaitResult::IoCompletion,
                        apcs,
                    }))
                } else {
                    None
                }
            }
            BlockedCall::Sleep { alertable } => (alertable && self.has_apcs(thread)).then(|| {
                let apcs = self.take_apcs(thread);
                Released::Wait(WaitOutcome {
                    result: WaitResult::IoCompletion,
                    apcs,
                })
            }),
            BlockedCall::Gqcs { port } => self.dequeue_packet(port).map(Released::Gqcs),
            BlockedCall::OverlappedResult {
                overlapped,
                diagnostic,
            } => {
                let rec = self.overlapped(overlapped);
                let pending = rec.internal == u64::from(NtStatus::STATUS_PENDING.0);
                let event_set = rec
                    .event
                    .and_then(|e| self.asyncs.events.get(&e))
                    .is_some_and(|e| e.signaled);
                if !pending {
                    Some(Released::OverlappedResult(overlapped_result(
                        &rec, diagnostic,
                    )))
                } else if event_set {
                    Some(Released::OverlappedResult(signaled_while_pending(
                        &rec, diagnostic,
                    )))
                } else {
                    None
                }
            }
        }
    }

    /// Releases every parked thread whose wait is now satisfied. Runs after each
    /// completion and each event signal. Threads are examined newest-parked first, so
    /// that port waiters are served LIFO; the other waits consume nothing another
    /// thread could take, so the order does not change their outcome.
    pub(crate) fn wake_blocked(&mut self) {
        let mut parked: Vec<(u64, ThreadId)> = self
            .asyncs
            .parked_at
            .iter()
            .map(|(t, at)| (*at, *t))
            .collect();
        parked.sort_unstable_by(|a, b| b.cmp(a));
        for (_, thread) in parked {
            let Some(call) = self.asyncs.blocked.get(&thread).cloned() else {
                continue;
            };
            let outcome = self.try_release(thread, &call);
            if let Some(outcome) = outcome {
                self.release(thread, outcome);
            }
        }
    }

    /// Takes the oldest packet of a port as GetQueuedCompletionStatus returns it: TRUE
    /// for a successful operation, else FALSE with the status's Win32 error and the
    /// packet's fields still filled (observations W054, W102).
    pub(crate) fn dequeue_packet(&mut self, port: Port) -> Option<GqcsOutcome> {
        let p = self.asyncs.ports.get_mut(&port)?.pop_front()?;
        Some(GqcsOutcome {
            result: p.status.is_success(),
            error: if p.status.is_success() {
                ErrorCode::NO_ERROR
            } else {
                p.status.to_win32()
            },
            bytes: p.bytes,
            key: p.key,
            overlapped: Some(p.overlapped),
        })
    }
}

/// WSAGetOverlappedResult(fWait = TRUE) whose wait ends on the OVERLAPPED's event while
/// Internal still reads STATUS_PENDING: Windows returns TRUE without looking further
/// (observations section 2 item 9, last point). Choice (no evidence): the last error is
/// 0 and the byte count is InternalHigh as it stands.
pub fn signaled_while_pending(
    rec: &OverlappedRecord,
    diagnostic: Option<String>,
) -> OverlappedResult {
    OverlappedResult {
        result: true,
        error: ErrorCode::NO_ERROR,
        bytes: rec.internal_high as u32,
        flags: 0,
        diagnostic,
    }
}
