//! Completion ports (`CreateIoCompletionPort`, `GetQueuedCompletionStatus`) and
//! `WSAGetOverlappedResult`.
//!
//! - A port is a FIFO of packets. A socket is associated with at most one port, once
//!   (Microsoft's CreateIoCompletionPort page: a handle can be associated with one port
//!   only). Choice (no evidence): the error of a second association is
//!   ERROR_INVALID_PARAMETER.
//! - GQCS takes the oldest packet: TRUE for a successful operation; FALSE with the
//!   status's Win32 error, and the bytes, key and OVERLAPPED still filled, for a failed
//!   one (observations W054, W102). Nothing queued: FALSE, WAIT_TIMEOUT and a NULL
//!   OVERLAPPED (W101), after the timeout elapses in virtual time; INFINITE parks the
//!   thread until a packet arrives (port waiters are served LIFO, see
//!   `model::overlapped`).
//! - WSAGetOverlappedResult reads the OVERLAPPED: STATUS_PENDING gives FALSE with
//!   WSA_IO_INCOMPLETE when not waiting; a final status gives the section 2 item 9
//!   mapping (`NtStatus::to_winsock`, TRUE for NT_SUCCESS statuses). Waiting parks the
//!   thread until the request completes, or ends at once if the OVERLAPPED's event is
//!   already signaled (item 9: TRUE without running APCs). Waiting on a request that has
//!   a completion routine is undefined in the reference: the model records a
//!   diagnostic and returns it with the result, and otherwise behaves as for any wait.

use crate::errors::{ErrorCode, NtStatus};
use crate::model::overlapped::{BlockedCall, Delivery, GqcsOutcome, OverlappedResult, Released};
use crate::model::{Host, OverlappedId, Port, Socket, ThreadId};
use crate::outcome::CallReturn;
use crate::time::Timeout;

fn gqcs_failed(error: ErrorCode) -> GqcsOutcome {
    GqcsOutcome {
        result: false,
        error,
        bytes: 0,
        key: 0,
        overlapped: None,
    }
}

impl Host {
    /// `CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 0)`: a new, empty port.
    pub fn create_io_completion_port(&mut self) -> Port {
        let port = Port(self.alloc_handle());
        self.asyncs.ports.insert(port, Default::default());
        port
    }

    /// `CreateIoCompletionPort(socket, port, key, 0)`: associates the socket with the
    /// port; its overlapped requests then complete with a packet carrying `key`.
    ///
    /// Errors (returned and set as the last error): an unknown socket or port,
    /// ERROR_INVALID_HANDLE; a socket already associated, ERROR_INVALID_PARAMETER; a
    /// socket created without WSA_FLAG_OVERLAPPED, ERROR_INVALID_PARAMETER too: Microsoft's
    /// CreateIoCompletionPort page accepts only handles that support overlapped I/O, and
    /// Wine (whose server refuses completion information on a synchronous handle) was seen
    /// to answer so in the differential run.
    pub fn associate_with_port(
        &mut self,
        s: Socket,
        port: Port,
        key: u64,
    ) -> Result<(), ErrorCode> {
        let r = if !self.asyncs.ports.contains_key(&port) {
            Err(ErrorCode::ERROR_INVALID_HANDLE)
        } else {
            match self.sockets.get_mut(&s) {
                None => Err(ErrorCode::ERROR_INVALID_HANDLE),
                Some(st) if st.port.is_some() || !st.overlapped => {
                    Err(ErrorCode::ERROR_INVALID_PARAMETER)
                }
                Some(st) => {
                    st.port = Some((port, key));
                    Ok(())
                }
            }
        };
        if let Err(e) = r {
            self.last_error = e;
        }
        r
    }

    /// The packets waiting on a port, oldest first (a getter for traces and tests).
    pub fn port_len(&self, port: Port) -> usize {
        self.asyncs.ports.get(&port).map_or(0, |q| q.len())
    }

    /// `GetQueuedCompletionStatus`.
    pub fn get_queued_completion_status(
        &mut self,
        thread: ThreadId,
        port: Port,
        timeout: Timeout,
    ) -> CallReturn<GqcsOutcome> {
        if !self.asyncs.ports.contains_key(&port) {
            self.last_error = ErrorCode::ERROR_INVALID_HANDLE;
            return CallReturn::Returned(gqcs_failed(ErrorCode::ERROR_INVALID_HANDLE));
        }
        if let Some(p) = self.dequeue_packet(port) {
            self.last_error = p.error;
            return CallReturn::Returned(p);
        }
        if timeout.is_infinite() {
            self.park(thread, BlockedCall::Gqcs { port });
            return CallReturn::Blocked(thread);
        }
        self.handle_advance(u64::from(timeout.0));
        self.last_error = ErrorCode::WAIT_TIMEOUT;
        CallReturn::Returned(gqcs_failed(ErrorCode::WAIT_TIMEOUT))
    }

    /// `WSAGetOverlappedResult`.
    pub fn wsa_get_overlapped_result(
        &mut self,
        thread: ThreadId,
        s: Socket,
        ov: OverlappedId,
        wait: bool,
    ) -> CallReturn<OverlappedResult> {
        if !self.sockets.contains_key(&s) {
            let r = OverlappedResult {
                result: false,
                error: ErrorCode::WSAENOTSOCK,
                bytes: 0,
                flags: 0,
                diagnostic: None,
            };
            self.last_error = r.error;
            return CallReturn::Returned(r);
        }
        let rec = self.overlapped(ov);
        let has_routine = rec
            .op
            .and_then(|op| self.asyncs.ops.get(&op))
            .is_some_and(|op| matches!(op.delivery, Delivery::Apc { .. }));
        let diagnostic = (wait && has_routine).then(|| {
            format!(
                "WSAGetOverlappedResult with fWait TRUE on {ov}, whose request has a \
                 completion routine: the reference leaves the result undefined"
            )
        });
        if let Some(d) = &diagnostic {
            self.asyncs.diagnostics.push(d.clone());
        }
        let pending = rec.internal == u64::from(NtStatus::STATUS_PENDING.0);
        let call = BlockedCall::OverlappedResult {
            overlapped: ov,
            diagnostic: diagnostic.clone(),
        };
        let r = if pending && !wait {
            OverlappedResult {
                result: false,
                error: ErrorCode::WSA_IO_INCOMPLETE,
                bytes: 0,
                flags: 0,
                diagnostic,
            }
        } else if let Some(Released::OverlappedResult(r)) = self.try_release(thread, &call) {
            r
        } else {
            self.park(thread, call);
            return CallReturn::Blocked(thread);
        };
        self.last_error = r.error;
        CallReturn::Returned(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::IoctlCode;
    use crate::ioctl::IoctlCall;
    use crate::model::overlapped::Released;
    use crate::model::{AddressFamily, RoutineId, SocketType};
    use crate::outcome::IoctlOutcome;

    fn tcp(h: &mut Host) -> Socket {
        h.socket_default(AddressFamily::Inet, SocketType::Stream)
            .unwrap()
    }

    /// An overlapped SIO_ADDRESS_LIST_CHANGE: it pends until the address list changes.
    fn pending_change(h: &mut Host, s: Socket, ov: u64, routine: Option<u64>) -> IoctlOutcome {
        let call = IoctlCall::new(s, IoctlCode::SIO_ADDRESS_LIST_CHANGE).overlapped(
            OverlappedId(ov),
            None,
            routine.map(RoutineId),
        );
        h.wsa_ioctl(call).returned().unwrap()
    }

    fn unsupported(h: &mut Host, s: Socket, ov: u64) -> IoctlOutcome {
        let call =
            IoctlCall::new(s, IoctlCode(0xDEAD_BEEF)).overlapped(OverlappedId(ov), None, None);
        h.wsa_ioctl(call).returned().unwrap()
    }

    #[test]
    fn a_socket_is_associated_with_one_port_only() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        let (p, q) = (h.create_io_completion_port(), h.create_io_completion_port());
        assert_eq!(h.associate_with_port(s, p, 123), Ok(()));
        assert_eq!(
            h.associate_with_port(s, q, 1),
            Err(ErrorCode::ERROR_INVALID_PARAMETER)
        );
        assert_eq!(
            h.associate_with_port(Socket(1), p, 1),
            Err(ErrorCode::ERROR_INVALID_HANDLE)
        );
    }

    #[test]
    fn an_empty_port_times_out_with_a_null_overlapped_after_the_timeout() {
        let mut h = Host::default_host();
        let p = h.create_io_completion_port();
        let r = h
            .get_queued_completion_status(ThreadId::MAIN, p, Timeout(40))
            .returned()
            .unwrap();
        assert_eq!(r, gqcs_failed(ErrorCode::WAIT_TIMEOUT));
        assert_eq!(h.now().0, 40);
    }

    #[test]
    fn a_failed_packet_reports_false_with_the_win32_error_and_its_fields() {
        // W054: an unsupported code completes with STATUS_NOT_SUPPORTED.
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        let p = h.create_io_completion_port();
        h.associate_with_port(s, p, 123).unwrap();
        let o = unsupported(&mut h, s, 1);
        assert_eq!(o.error, ErrorCode::WSA_IO_PENDING);
        let r = h
            .get_queued_completion_status(ThreadId::MAIN, p, Timeout(0))
            .returned()
            .unwrap();
        assert_eq!(
            r,
            GqcsOutcome {
                result: false,
                error: ErrorCode::ERROR_NOT_SUPPORTED,
                bytes: 0,
                key: 123,
                overlapped: Some(OverlappedId(1)),
            }
        );
        assert_eq!(h.overlapped(OverlappedId(1)).internal, 0xC000_00BB);
    }

    #[test]
    fn closing_the_socket_posts_an_aborted_packet_for_the_pending_change() {
        // W101, W102.
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        let p = h.create_io_completion_port();
        h.associate_with_port(s, p, 0).unwrap();
        assert_eq!(
            pending_change(&mut h, s, 5, None).error,
            ErrorCode::WSA_IO_PENDING
        );
        let r = h
            .get_queued_completion_status(ThreadId::MAIN, p, Timeout(0))
            .returned()
            .unwrap();
        assert_eq!(r.error, ErrorCode::WAIT_TIMEOUT);
        h.closesocket(s);
        let r = h
            .get_queued_completion_status(ThreadId::MAIN, p, Timeout(0))
            .returned()
            .unwrap();
        assert!(!r.result);
        assert_eq!(r.error, ErrorCode::ERROR_OPERATION_ABORTED);
        assert_eq!(r.overlapped, Some(OverlappedId(5)));
    }

    #[test]
    fn packets_come_out_in_completion_order() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        let p = h.create_io_completion_port();
        h.associate_with_port(s, p, 7).unwrap();
        for ov in [3, 1, 2] {
            unsupported(&mut h, s, ov);
        }
        let got: Vec<_> = (0..3)
            .map(|_| {
                h.get_queued_completion_status(ThreadId::MAIN, p, Timeout(0))
                    .returned()
                    .unwrap()
                    .overlapped
            })
            .collect();
        assert_eq!(got, [3, 1, 2].map(|n| Some(OverlappedId(n))));
    }

    #[test]
    fn an_infinite_gqcs_blocks_until_a_packet_and_the_latest_waiter_gets_it_first() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        let p = h.create_io_completion_port();
        h.associate_with_port(s, p, 9).unwrap();
        assert!(h
            .get_queued_completion_status(ThreadId(1), p, Timeout::INFINITE)
            .is_blocked());
        assert!(h
            .get_queued_completion_status(ThreadId(2), p, Timeout::INFINITE)
            .is_blocked());
        unsupported(&mut h, s, 1);
        assert!(h.is_blocked(ThreadId(1)));
        let Some(Released::Gqcs(r)) = h.poll_thread(ThreadId(2)) else {
            panic!("the last thread to wait is served first");
        };
        assert_eq!(r.overlapped, Some(OverlappedId(1)));
        unsupported(&mut h, s, 2);
        assert!(!h.is_blocked(ThreadId(1)));
    }

    #[test]
    fn a_pending_request_reads_io_incomplete_without_waiting() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        pending_change(&mut h, s, 1, None);
        let r = h
            .wsa_get_overlapped_result(ThreadId::MAIN, s, OverlappedId(1), false)
            .returned()
            .unwrap();
        assert!(!r.result);
        assert_eq!(r.error, ErrorCode::WSA_IO_INCOMPLETE);
    }

    #[test]
    fn waiting_for_a_result_blocks_until_the_request_completes() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        pending_change(&mut h, s, 1, None);
        let t = ThreadId(5);
        assert!(h
            .wsa_get_overlapped_result(t, s, OverlappedId(1), true)
            .is_blocked());
        h.closesocket(s);
        let Some(Released::OverlappedResult(r)) = h.poll_thread(t) else {
            panic!("the cancellation releases the waiter");
        };
        assert!(!r.result);
        assert_eq!(r.error, ErrorCode::ERROR_OPERATION_ABORTED);
        assert_eq!(r.diagnostic, None);
    }

    #[test]
    fn a_signaled_event_ends_the_wait_with_true_even_while_pending() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        let ev = h.wsa_create_event();
        let call = IoctlCall::new(s, IoctlCode::SIO_ADDRESS_LIST_CHANGE).overlapped(
            OverlappedId(1),
            Some(ev),
            None,
        );
        h.wsa_ioctl(call);
        h.wsa_set_event(ev);
        let r = h
            .wsa_get_overlapped_result(ThreadId::MAIN, s, OverlappedId(1), true)
            .returned()
            .unwrap();
        assert!(r.result);
    }

    #[test]
    fn a_completed_request_maps_its_status_through_item_9() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        unsupported(&mut h, s, 1);
        let r = h
            .wsa_get_overlapped_result(ThreadId::MAIN, s, OverlappedId(1), false)
            .returned()
            .unwrap();
        assert_eq!(
            (r.result, r.error, r.bytes, r.flags),
            (false, ErrorCode::WSAEOPNOTSUPP, 0, 0)
        );
    }

    #[test]
    fn waiting_on_a_request_with_a_completion_routine_is_reported_as_misuse() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        pending_change(&mut h, s, 1, Some(4));
        assert!(h
            .wsa_get_overlapped_result(ThreadId(1), s, OverlappedId(1), true)
            .is_blocked());
        assert_eq!(h.diagnostics().len(), 1);
        h.closesocket(s);
        let Some(Released::OverlappedResult(r)) = h.poll_thread(ThreadId(1)) else {
            panic!("released by the cancellation");
        };
        assert!(r.diagnostic.is_some());
    }

    #[test]
    fn a_result_on_a_non_socket_is_wsaenotsock() {
        let mut h = Host::default_host();
        let r = h
            .wsa_get_overlapped_result(ThreadId::MAIN, Socket(3), OverlappedId(1), false)
            .returned()
            .unwrap();
        assert_eq!(r.error, ErrorCode::WSAENOTSOCK);
    }
}
