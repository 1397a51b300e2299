//! Event objects, `WSAWaitForMultipleEvents`, `SleepEx`, and the completion routines
//! (APCs) an alertable wait runs.
//!
//! Rules (docs/async.md, "Waits in virtual time"):
//! - Events are manual-reset: a signal stays until `WSAResetEvent` (or the kernel
//!   resetting an OVERLAPPED's event when it accepts a request) clears it, and it
//!   satisfies every waiter.
//! - A wait that can end at once ends at once. Choice (no evidence): a signaled event
//!   wins over queued completion routines, as the NT kernel's wait loop checks the
//!   objects before the pending user APCs.
//! - Otherwise an alertable wait runs every queued completion routine of its thread and
//!   returns WAIT_IO_COMPLETION with them (observations section 2 item 8; W025, W038).
//!   The order they run in is drawn from the seed (reference: "The completion routines
//!   can be called in any order").
//! - Otherwise a finite timeout elapses in virtual time at once: the clock advances by
//!   the timeout and the wait returns WAIT_TIMEOUT. An infinite one parks the thread
//!   until a signal, a completion or (alertable) a queued routine releases it.

use crate::errors::ErrorCode;
use crate::model::overlapped::{BlockedCall, Released, WaitOutcome, WaitResult};
use crate::model::{Event, Host, ThreadId};
use crate::outcome::CallReturn;
use crate::time::Timeout;

/// WSA_MAXIMUM_WAIT_EVENTS (MAXIMUM_WAIT_OBJECTS).
pub const MAXIMUM_WAIT_EVENTS: usize = 64;

fn done(result: WaitResult) -> CallReturn<WaitOutcome> {
    CallReturn::Returned(WaitOutcome {
        result,
        apcs: Vec::new(),
    })
}

impl Host {
    /// `WSACreateEvent`: a new manual-reset event, not signaled.
    pub fn wsa_create_event(&mut self) -> Event {
        let ev = Event(self.alloc_handle());
        self.asyncs.events.insert(ev, Default::default());
        ev
    }

    /// `WSASetEvent`: signals the event and releases the threads it satisfies. An
    /// unknown handle: FALSE with WSA_INVALID_HANDLE.
    pub fn wsa_set_event(&mut self, ev: Event) -> bool {
        if !self.asyncs.events.contains_key(&ev) {
            self.last_error = ErrorCode::WSA_INVALID_HANDLE;
            return false;
        }
        self.signal_event(ev);
        true
    }

    /// `WSAResetEvent`: clears the event. An unknown handle: FALSE with
    /// WSA_INVALID_HANDLE.
    pub fn wsa_reset_event(&mut self, ev: Event) -> bool {
        match self.asyncs.events.get_mut(&ev) {
            Some(e) => {
                e.signaled = false;
                true
            }
            None => {
                self.last_error = ErrorCode::WSA_INVALID_HANDLE;
                false
            }
        }
    }

    /// True when the event exists and is signaled (a getter for traces and tests).
    pub fn event_signaled(&self, ev: Event) -> bool {
        self.asyncs.events.get(&ev).is_some_and(|e| e.signaled)
    }

    /// `WSAWaitForMultipleEvents`: waits for any (or all) of `events`.
    ///
    /// No events or more than WSA_MAXIMUM_WAIT_EVENTS: WSA_WAIT_FAILED with
    /// WSA_INVALID_PARAMETER; an unknown event: WSA_WAIT_FAILED with WSA_INVALID_HANDLE
    /// (the errors Microsoft's WSAWaitForMultipleEvents page lists for these cases).
    pub fn wsa_wait_for_multiple_events(
        &mut self,
        thread: ThreadId,
        events: &[Event],
        all: bool,
        timeout: Timeout,
        alertable: bool,
    ) -> CallReturn<WaitOutcome> {
        if events.is_empty() || events.len() > MAXIMUM_WAIT_EVENTS {
            self.last_error = ErrorCode::WSA_INVALID_PARAMETER;
            return done(WaitResult::Failed(ErrorCode::WSA_INVALID_PARAMETER));
        }
        if events.iter().any(|e| !self.asyncs.events.contains_key(e)) {
            self.last_error = ErrorCode::WSA_INVALID_HANDLE;
            return done(WaitResult::Failed(ErrorCode::WSA_INVALID_HANDLE));
        }
        let call = BlockedCall::Wait {
            events: events.to_vec(),
            all,
            alertable,
        };
        self.wait_or_park(thread, call, timeout)
    }

    /// `SleepEx`: an alertable sleep runs the thread's queued completion routines and
    /// returns WAIT_IO_COMPLETION; otherwise the sleep elapses (returns 0, reported as
    /// `Timeout`). `SleepEx(INFINITE)` parks the thread; only a routine queued to it
    /// can end an alertable one, and nothing ends a non-alertable one.
    pub fn sleep_ex(
        &mut self,
        thread: ThreadId,
        timeout: Timeout,
        alertable: bool,
    ) -> CallReturn<WaitOutcome> {
        self.wait_or_park(thread, BlockedCall::Sleep { alertable }, timeout)
    }

    /// The end of both waits: the wait returns now if `try_release` says it can; else a
    /// finite timeout elapses in virtual time (WAIT_TIMEOUT), and INFINITE parks the
    /// thread until a signal or a routine releases it.
    fn wait_or_park(
        &mut self,
        thread: ThreadId,
        call: BlockedCall,
        timeout: Timeout,
    ) -> CallReturn<WaitOutcome> {
        if let Some(Released::Wait(w)) = self.try_release(thread, &call) {
            return CallReturn::Returned(w);
        }
        if !timeout.is_infinite() {
            self.handle_advance(u64::from(timeout.0));
            return done(WaitResult::Timeout);
        }
        self.park(thread, call);
        CallReturn::Blocked(thread)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::overlapped::{Apc, Released};
    use crate::model::{HostConfig, Network, OverlappedId, RoutineId};

    fn host() -> Host {
        Host::default_host()
    }

    fn queue_apc(h: &mut Host, thread: ThreadId, n: u64) {
        h.asyncs.apcs.entry(thread).or_default().push(Apc {
            routine: RoutineId(n),
            error: ErrorCode::NO_ERROR,
            bytes: 0,
            overlapped: OverlappedId(n),
            flags: 0,
        });
    }

    #[test]
    fn a_new_event_is_not_signaled_and_set_and_reset_toggle_it() {
        let mut h = host();
        let ev = h.wsa_create_event();
        assert!(!h.event_signaled(ev));
        assert!(h.wsa_set_event(ev));
        assert!(h.event_signaled(ev));
        assert!(h.wsa_reset_event(ev));
        assert!(!h.event_signaled(ev));
    }

    #[test]
    fn setting_an_unknown_event_fails_with_wsa_invalid_handle() {
        let mut h = host();
        assert!(!h.wsa_set_event(Event(0x999)));
        assert_eq!(h.wsa_get_last_error(), ErrorCode::WSA_INVALID_HANDLE);
        assert!(!h.wsa_reset_event(Event(0x999)));
        assert_eq!(h.wsa_get_last_error(), ErrorCode(6));
    }

    #[test]
    fn wait_any_reports_the_lowest_signaled_index() {
        let mut h = host();
        let (a, b, c) = (
            h.wsa_create_event(),
            h.wsa_create_event(),
            h.wsa_create_event(),
        );
        h.wsa_set_event(c);
        h.wsa_set_event(b);
        let r =
            h.wsa_wait_for_multiple_events(ThreadId::MAIN, &[a, b, c], false, Timeout(0), false);
        assert_eq!(r.returned().unwrap().result, WaitResult::Signaled(1));
    }

    #[test]
    fn wait_all_needs_every_event() {
        let mut h = host();
        let (a, b) = (h.wsa_create_event(), h.wsa_create_event());
        h.wsa_set_event(a);
        let r = h.wsa_wait_for_multiple_events(ThreadId::MAIN, &[a, b], true, Timeout(0), false);
        assert_eq!(r.returned().unwrap().result, WaitResult::Timeout);
        h.wsa_set_event(b);
        let r = h.wsa_wait_for_multiple_events(ThreadId::MAIN, &[a, b], true, Timeout(0), false);
        assert_eq!(r.returned().unwrap().result, WaitResult::Signaled(0));
    }

    #[test]
    fn a_finite_timeout_advances_virtual_time_by_the_timeout() {
        let mut h = host();
        let a = h.wsa_create_event();
        let r = h.wsa_wait_for_multiple_events(ThreadId::MAIN, &[a], false, Timeout(300), false);
        assert_eq!(r.returned().unwrap().result, WaitResult::Timeout);
        assert_eq!(h.now().0, 300);
    }

    #[test]
    fn waiting_on_no_events_or_an_unknown_one_fails() {
        let mut h = host();
        let r = h.wsa_wait_for_multiple_events(ThreadId::MAIN, &[], false, Timeout(0), false);
        assert_eq!(
            r.returned().unwrap().result,
            WaitResult::Failed(ErrorCode::WSA_INVALID_PARAMETER)
        );
        let r =
            h.wsa_wait_for_multiple_events(ThreadId::MAIN, &[Event(1)], false, Timeout(0), false);
        assert_eq!(
            r.returned().unwrap().result,
            WaitResult::Failed(ErrorCode::WSA_INVALID_HANDLE)
        );
    }

    #[test]
    fn an_infinite_wait_blocks_until_an_event_is_set() {
        let mut h = host();
        let (a, b) = (h.wsa_create_event(), h.wsa_create_event());
        let t = ThreadId(3);
        let r = h.wsa_wait_for_multiple_events(t, &[a, b], false, Timeout::INFINITE, false);
        assert_eq!(r, CallReturn::Blocked(t));
        assert!(h.is_blocked(t));
        h.wsa_set_event(b);
        assert!(!h.is_blocked(t));
        let Some(Released::Wait(w)) = h.poll_thread(t) else {
            panic!("the thread should have been released by the signal");
        };
        assert_eq!(w.result, WaitResult::Signaled(1));
        assert_eq!(h.poll_thread(t), None, "a result is collected once");
    }

    #[test]
    fn an_alertable_wait_runs_queued_routines_and_returns_io_completion() {
        let mut h = host();
        let a = h.wsa_create_event();
        queue_apc(&mut h, ThreadId::MAIN, 1);
        let r = h.wsa_wait_for_multiple_events(ThreadId::MAIN, &[a], false, Timeout(0), true);
        let w = r.returned().unwrap();
        assert_eq!(w.result, WaitResult::IoCompletion);
        assert_eq!(w.apcs.len(), 1);
        assert!(!h.has_apcs(ThreadId::MAIN));
    }

    #[test]
    fn a_non_alertable_wait_leaves_routines_queued() {
        let mut h = host();
        queue_apc(&mut h, ThreadId::MAIN, 1);
        let r = h.sleep_ex(ThreadId::MAIN, Timeout(10), false);
        assert_eq!(r.returned().unwrap().result, WaitResult::Timeout);
        assert!(h.has_apcs(ThreadId::MAIN));
    }

    #[test]
    fn routines_run_only_on_their_own_thread() {
        let mut h = host();
        queue_apc(&mut h, ThreadId(2), 1);
        let r = h.sleep_ex(ThreadId::MAIN, Timeout(0), true);
        assert_eq!(r.returned().unwrap().result, WaitResult::Timeout);
        let r = h.sleep_ex(ThreadId(2), Timeout(0), true);
        assert_eq!(r.returned().unwrap().result, WaitResult::IoCompletion);
    }

    #[test]
    fn a_signaled_event_wins_over_queued_routines() {
        let mut h = host();
        let a = h.wsa_create_event();
        h.wsa_set_event(a);
        queue_apc(&mut h, ThreadId::MAIN, 1);
        let r = h.wsa_wait_for_multiple_events(ThreadId::MAIN, &[a], false, Timeout(0), true);
        assert_eq!(r.returned().unwrap().result, WaitResult::Signaled(0));
        assert!(h.has_apcs(ThreadId::MAIN));
    }

    #[test]
    fn an_alertable_infinite_sleep_is_released_by_a_queued_routine() {
        let mut h = host();
        let t = ThreadId(4);
        assert!(h.sleep_ex(t, Timeout::INFINITE, true).is_blocked());
        queue_apc(&mut h, t, 9);
        h.wake_blocked();
        let Some(Released::Wait(w)) = h.poll_thread(t) else {
            panic!("released by the routine");
        };
        assert_eq!(w.result, WaitResult::IoCompletion);
        assert_eq!(w.apcs[0].routine, RoutineId(9));
    }

    /// The order in which `count` routines queued on the main thread run under `seed`.
    fn run_order(seed: u64, count: u64) -> Vec<RoutineId> {
        let mut h = Host::new(
            Network::default_host(),
            HostConfig {
                seed,
                ..HostConfig::default()
            },
        );
        for n in 0..count {
            queue_apc(&mut h, ThreadId::MAIN, n);
        }
        let w = h
            .sleep_ex(ThreadId::MAIN, Timeout(0), true)
            .returned()
            .unwrap();
        w.apcs.iter().map(|a| a.routine).collect()
    }

    #[test]
    fn the_seed_fixes_the_order_routines_run_in() {
        assert_eq!(run_order(7, 6), run_order(7, 6));
        let mut sorted = run_order(7, 6);
        sorted.sort();
        assert_eq!(sorted, (0..6).map(RoutineId).collect::<Vec<_>>());
    }

    #[test]
    fn different_seeds_explore_different_orders_including_fifo() {
        let orders: std::collections::BTreeSet<_> = (0..200).map(|s| run_order(s, 6)).collect();
        assert!(orders.len() > 10, "seeds should give many orders");
        let fifo: Vec<_> = (0..3).map(RoutineId).collect();
        let fifo_seen = (0..200u64).any(|seed| run_order(seed, 3) == fifo);
        assert!(fifo_seen, "FIFO is one of the possible orders");
    }
}
