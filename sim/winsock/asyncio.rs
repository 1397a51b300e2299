//! The asynchronous half of the application calls: the types the scenario runner sees,
//! and the thread calls (`poll_thread`, `is_blocked`) and virtual time
//! (`handle_advance`). The calls themselves live beside this file:
//! - `sync`: event objects, `WSAWaitForMultipleEvents`, `SleepEx` and completion
//!   routines;
//! - `iocp`: completion ports, `GetQueuedCompletionStatus`, `WSAGetOverlappedResult`;
//! - `select`: `WSAEventSelect`, `WSAAsyncSelect`, `WSAEnumNetworkEvents`;
//! - `changes`: host changes and the change notifications they complete.
//!
//! The outcome types are defined in `model::overlapped` (the model stores released
//! outcomes) and re-exported here. docs/async.md describes the rules as a whole.

use crate::errors::ErrorCode;
use crate::model::net::{IfAddress, Interface, Prefix};
use crate::model::socket::NetworkEvents;
use crate::model::{Host, ThreadId};

pub use crate::model::overlapped::{
    GqcsOutcome, OverlappedResult, Released, WaitOutcome, WaitResult,
};

/// What WSAEnumNetworkEvents reports.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct NetworkEventsReport {
    /// lNetworkEvents.
    pub events: NetworkEvents,
    /// iErrorCode, indexed by FD_*_BIT.
    pub errors: [ErrorCode; 10],
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

impl Host {
    /// Virtual time passes (`advance` steps).
    ///
    /// Nothing in the model happens on its own as time passes, and a wait with a finite
    /// timeout never parks its thread (it consumes its timeout at once when nothing can
    /// end it, since no other step can run during it): so advancing time only moves the
    /// clock. Only infinite waits park, and they end on a signal, a completion, a host
    /// change or a close, never on time.
    pub fn handle_advance(&mut self, ms: u64) {
        self.now = crate::time::Instant(self.now.0.saturating_add(ms));
    }

    /// The result of a thread's blocked call once it has been released (None while it
    /// is still blocked, or if it never blocked). Each result is returned once.
    pub fn poll_thread(&mut self, thread: ThreadId) -> Option<Released> {
        self.asyncs.released.remove(&thread)
    }

    /// True while a thread is parked in a blocking call.
    pub fn is_blocked(&self, thread: ThreadId) -> bool {
        self.asyncs.blocked.contains_key(&thread)
    }

    /// What a parked thread waits for (None when it is not parked).
    pub fn blocked_call(&self, thread: ThreadId) -> Option<&crate::model::overlapped::BlockedCall> {
        self.asyncs.blocked.get(&thread)
    }

    /// The completion routines queued for a thread and not yet run, in queue order.
    pub fn queued_apcs(&self, thread: ThreadId) -> &[crate::model::overlapped::Apc] {
        self.asyncs.apcs.get(&thread).map_or(&[], |q| q.as_slice())
    }

    /// Every message WSAAsyncSelect has posted, in order.
    pub fn posted_messages(&self) -> &[crate::model::overlapped::PostedMessage] {
        &self.asyncs.messages
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Timeout;

    #[test]
    fn advancing_time_moves_the_clock_and_releases_nothing() {
        let mut h = Host::default_host();
        assert!(h
            .sleep_ex(ThreadId(1), Timeout::INFINITE, true)
            .is_blocked());
        h.handle_advance(250);
        assert_eq!(h.now().0, 250);
        assert!(h.is_blocked(ThreadId(1)));
        assert_eq!(h.poll_thread(ThreadId(1)), None);
    }

    #[test]
    fn a_thread_that_never_blocked_has_nothing_to_poll() {
        let mut h = Host::default_host();
        assert!(!h.is_blocked(ThreadId::MAIN));
        assert_eq!(h.poll_thread(ThreadId::MAIN), None);
    }
}
