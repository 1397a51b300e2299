//! CONTRACT STUBS (issue "Overlapped I/O"): the signatures the scenario runner calls.
//! Every body here is replaced by the real model before anything lands.

use crate::errors::ErrorCode;
use crate::model::net::{IfAddress, Interface, Prefix};
use crate::model::overlapped::Apc;
use crate::model::socket::NetworkEvents;
use crate::model::{Event, Host, OverlappedId, Port, Socket, ThreadId};
use crate::outcome::{CallReturn, IoctlOutcome};
use crate::time::Timeout;
use crate::winsock::SockResult;

/// What WSAEnumNetworkEvents reports.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct NetworkEventsReport {
    /// lNetworkEvents.
    pub events: NetworkEvents,
    /// iErrorCode, indexed by FD_*_BIT.
    pub errors: [ErrorCode; 10],
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

/// A change to the host's network (model only).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum NetChange {
    /// Adds an address to an interface.
    AddAddress {
        /// Interface name.
        interface: String,
        /// The address.
        address: IfAddress,
    },
    /// Removes an address from an interface.
    RemoveAddress {
        /// Interface name.
        interface: String,
        /// The address.
        address: IfAddress,
    },
    /// Adds a route.
    AddRoute {
        /// Destination prefix.
        prefix: Prefix,
        /// Interface name.
        interface: String,
        /// Next hop.
        gateway: Option<std::net::IpAddr>,
        /// Metric.
        metric: u32,
    },
    /// Removes a route.
    RemoveRoute {
        /// Destination prefix.
        prefix: Prefix,
        /// Interface name.
        interface: String,
    },
    /// Changes a route's metric.
    SetRouteMetric {
        /// Destination prefix.
        prefix: Prefix,
        /// Interface name.
        interface: String,
        /// New metric.
        metric: u32,
    },
    /// Brings an interface up or down.
    SetInterface {
        /// Interface name.
        name: String,
        /// Up or down.
        up: bool,
    },
    /// Adds an interface.
    AddInterface(Interface),
    /// Removes an interface, its addresses and its routes.
    RemoveInterface(String),
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

fn not_modelled() -> ErrorCode {
    ErrorCode(0xFFFF_FFFF)
}

impl Host {
    /// WSACreateEvent.
    pub fn wsa_create_event(&mut self) -> Event {
        Event(self.alloc_handle())
    }
    /// WSASetEvent.
    pub fn wsa_set_event(&mut self, _ev: Event) -> bool {
        false
    }
    /// WSAResetEvent.
    pub fn wsa_reset_event(&mut self, _ev: Event) -> bool {
        false
    }
    /// WSAEventSelect.
    pub fn wsa_event_select(
        &mut self,
        _s: Socket,
        _ev: Event,
        _events: NetworkEvents,
    ) -> SockResult {
        SockResult {
            result: -1,
            error: not_modelled(),
            data: Vec::new(),
        }
    }
    /// WSAAsyncSelect.
    pub fn wsa_async_select(
        &mut self,
        _s: Socket,
        _window: u64,
        _message: u32,
        _events: NetworkEvents,
    ) -> SockResult {
        SockResult {
            result: -1,
            error: not_modelled(),
            data: Vec::new(),
        }
    }
    /// WSAEnumNetworkEvents.
    pub fn wsa_enum_network_events(
        &mut self,
        _s: Socket,
        _ev: Option<Event>,
    ) -> Result<NetworkEventsReport, ErrorCode> {
        Err(not_modelled())
    }
    /// WSAWaitForMultipleEvents.
    pub fn wsa_wait_for_multiple_events(
        &mut self,
        _thread: ThreadId,
        _events: &[Event],
        _all: bool,
        _timeout: Timeout,
        _alertable: bool,
    ) -> CallReturn<WaitOutcome> {
        CallReturn::Returned(WaitOutcome {
            result: WaitResult::Failed(not_modelled()),
            apcs: Vec::new(),
        })
    }
    /// SleepEx.
    pub fn sleep_ex(
        &mut self,
        _thread: ThreadId,
        _timeout: Timeout,
        _alertable: bool,
    ) -> CallReturn<WaitOutcome> {
        CallReturn::Returned(WaitOutcome {
            result: WaitResult::Failed(not_modelled()),
            apcs: Vec::new(),
        })
    }
    /// CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 0): a new port.
    pub fn create_io_completion_port(&mut self) -> Port {
        Port(self.alloc_handle())
    }
    /// CreateIoCompletionPort(socket, port, key, 0).
    pub fn associate_with_port(
        &mut self,
        _s: Socket,
        _port: Port,
        _key: u64,
    ) -> Result<(), ErrorCode> {
        Err(not_modelled())
    }
    /// GetQueuedCompletionStatus.
    pub fn get_queued_completion_status(
        &mut self,
        _thread: ThreadId,
        _port: Port,
        _timeout: Timeout,
    ) -> CallReturn<GqcsOutcome> {
        CallReturn::Returned(GqcsOutcome {
            result: false,
            error: not_modelled(),
            bytes: 0,
            key: 0,
            overlapped: None,
        })
    }
    /// WSAGetOverlappedResult.
    pub fn wsa_get_overlapped_result(
        &mut self,
        _thread: ThreadId,
        _s: Socket,
        _ov: OverlappedId,
        _wait: bool,
    ) -> CallReturn<OverlappedResult> {
        CallReturn::Returned(OverlappedResult {
            result: false,
            error: not_modelled(),
            bytes: 0,
            flags: 0,
            diagnostic: None,
        })
    }
    /// A host change: updates the tables and completes the matching armed requests.
    pub fn handle_net_change(&mut self, _change: NetChange) -> Result<(), String> {
        Err("host changes are not yet modelled".into())
    }
    /// Virtual time passes.
    pub fn handle_advance(&mut self, _ms: u64) {}
    /// The result of a thread's blocked call once it has been released (None while it
    /// is still blocked, or if it never blocked).
    pub fn poll_thread(&mut self, _thread: ThreadId) -> Option<Released> {
        None
    }
    /// True while a thread is parked in a blocking call.
    pub fn is_blocked(&self, thread: ThreadId) -> bool {
        self.asyncs.blocked.contains_key(&thread)
    }
}
