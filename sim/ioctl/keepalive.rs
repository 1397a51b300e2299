//! SIO_KEEPALIVE_VALS: per-socket keep-alive switch, idle time and probe interval.
//!
//! Value 0x98000004 (`_WSAIOW(IOC_VENDOR,4)`: I set, T = 3 vendor, number 4). Input:
//! `struct tcp_keepalive` (12 bytes, `wire::keepalive`); no output. Fidelity: stored in
//! `SocketOptions::keepalive_vals` (the model sends no probes); `onoff` also sets the
//! SO_KEEPALIVE switch, which the Microsoft page ties to this ioctl.
//!
//! Evidence: docs/evidence.md 1.3 (W042–W051), Microsoft "SIO_KEEPALIVE_VALS" (docs/evidence.md 2b).
//! - input length 0, or a NULL input: WSAEFAULT, `*lpcbBytesReturned` = 0 (W042, W043);
//! - input of 1..11 bytes: WSAEFAULT, `*lpcbBytesReturned` untouched (W047); when the
//!   call is overlapped Windows has already written STATUS_PENDING into
//!   `OVERLAPPED.Internal` (W047, todo_wine) while InternalHigh stays and nothing is
//!   queued;
//! - success: `*lpcbBytesReturned` = 0 (W044, W051), except an overlapped call on a
//!   socket bound to a completion port, which leaves it untouched (W048, todo_wine); the
//!   completion still queues a 0-byte packet (section 2 item 2);
//! - accepted on an unconnected TCP socket, with any times, including 0 (W044, W049);
//! - a datagram socket: WSAENOPROTOOPT (Microsoft page).
//!
//! Choice (no evidence): an invalid (non-NULL, unreadable) input pointer is treated as
//! NULL (WSAEFAULT, 0 written). The socket-type check comes after the input checks and
//! writes 0 (as provider refusals do in W036/W053); raw sockets are refused like
//! datagram sockets. A non-zero `cbOutBuffer` is ignored (the page says it "must be"
//! zero but names no error). Without an OVERLAPPED, a short input leaves
//! `*lpcbBytesReturned` untouched as in W047.

use super::{Ctx, InBuffer, Reply};
use crate::errors::{ErrorCode, NtStatus};
use crate::outcome::BytesReturned;
use crate::wire::keepalive::TcpKeepalive;

pub(crate) fn call(ctx: &mut Ctx) -> Reply {
    let bytes = match ctx.call.input {
        InBuffer::Bytes(b) if !b.is_empty() => b,
        // Length 0, NULL or unreadable (W042, W043).
        _ => return Reply::refused(ErrorCode::WSAEFAULT),
    };
    let Ok(ka) = TcpKeepalive::parse(bytes) else {
        if ctx.is_overlapped() {
            if let Some(ov) = ctx.call.overlapped {
                // W047: Internal already reads STATUS_PENDING when the check fails.
                let rec = ctx.host.asyncs.overlapped.entry(ov.overlapped).or_default();
                rec.internal = u64::from(NtStatus::STATUS_PENDING.0);
            }
        }
        return Reply::untouched(ErrorCode::WSAEFAULT);
    };
    if !ctx.sock().is_tcp() {
        return Reply::refused(ErrorCode::WSAENOPROTOOPT);
    }
    let opts = &mut ctx.sock_mut().options;
    opts.keepalive_vals = Some(ka);
    opts.so_keepalive = ka.onoff != 0;
    let on_port = ctx.sock().port.is_some();
    let routine = ctx.call.overlapped.is_some_and(|o| o.routine.is_some());
    if ctx.is_overlapped() && on_port && !routine {
        // W048: the IOCP form leaves the count alone.
        Reply::Done {
            out: Vec::new(),
            bytes_returned: BytesReturned::Untouched,
        }
    } else {
        Reply::done_empty()
    }
}

#[cfg(test)]
mod tests {
    use crate::codes::IoctlCode;
    use crate::errors::{ErrorCode, NtStatus};
    use crate::ioctl::test_support::*;
    use crate::ioctl::{InBuffer, IoctlCall};
    use crate::model::RoutineId;
    use crate::outcome::BytesReturned;
    use crate::wire::keepalive::TcpKeepalive;

    fn ka(onoff: u32, time: u32, interval: u32) -> Vec<u8> {
        [onoff, time, interval]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect()
    }

    #[test]
    fn keepalive_with_an_empty_or_null_input_is_efault_with_zero_bytes() {
        let mut h = host();
        let s = tcp(&mut h);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_KEEPALIVE_VALS).input(&[]),
        );
        assert_eq!((o.result, o.error), (-1, ErrorCode::WSAEFAULT));
        assert_eq!(o.bytes_returned, BytesReturned::Written(0));
        let mut call = IoctlCall::new(s, IoctlCode::SIO_KEEPALIVE_VALS);
        call.input = InBuffer::Null { len: 12 };
        let o = run(&mut h, call);
        assert_eq!(
            (o.error, o.bytes_returned),
            (ErrorCode::WSAEFAULT, BytesReturned::Written(0))
        );
    }

    #[test]
    fn keepalive_on_an_unconnected_tcp_socket_is_stored_and_writes_zero() {
        let mut h = host();
        let s = tcp(&mut h);
        h.wsa_set_last_error(ErrorCode(0xdeadbeef));
        let input = ka(1, 1000, 100);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_KEEPALIVE_VALS).input(&input),
        );
        assert_eq!((o.result, o.bytes_returned), (0, BytesReturned::Written(0)));
        assert_eq!(h.wsa_get_last_error(), ErrorCode::NO_ERROR);
        let st = h.socket(s).unwrap();
        assert_eq!(
            st.options.keepalive_vals,
            Some(TcpKeepalive {
                onoff: 1,
                time: 1000,
                interval: 100
            })
        );
        assert!(st.options.so_keepalive);
        let input = ka(0, 0, 0);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_KEEPALIVE_VALS).input(&input),
        );
        assert_eq!(o.result, 0);
        assert!(!h.socket(s).unwrap().options.so_keepalive);
    }

    #[test]
    fn keepalive_short_input_overlapped_is_efault_with_internal_pending_and_no_packet() {
        let mut h = host();
        let s = tcp(&mut h);
        let port = with_port(&mut h, s);
        let input = ka(1, 1, 1);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_KEEPALIVE_VALS)
                .input(&input[..11])
                .overlapped(OV, None, None),
        );
        assert_eq!((o.result, o.error), (-1, ErrorCode::WSAEFAULT));
        assert_eq!(o.bytes_returned, BytesReturned::Untouched);
        assert_eq!(
            h.overlapped(OV).internal,
            u64::from(NtStatus::STATUS_PENDING.0)
        );
        assert!(h.asyncs.ports[&port].is_empty());
        assert_eq!(h.socket(s).unwrap().options.keepalive_vals, None);
    }

    #[test]
    fn keepalive_overlapped_on_a_port_leaves_bytes_untouched_and_queues_a_packet() {
        let mut h = host();
        let s = tcp(&mut h);
        let port = with_port(&mut h, s);
        let input = ka(1, 1, 1);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_KEEPALIVE_VALS)
                .input(&input)
                .overlapped(OV, None, None),
        );
        assert_eq!((o.result, o.bytes_returned), (0, BytesReturned::Untouched));
        assert_eq!(h.overlapped(OV).internal, 0);
        assert_eq!(h.asyncs.ports[&port].len(), 1);
    }

    #[test]
    fn keepalive_with_a_completion_routine_writes_zero_and_queues_one_apc() {
        let mut h = host();
        let s = tcp(&mut h);
        let input = ka(1, 1, 1);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_KEEPALIVE_VALS)
                .input(&input)
                .overlapped(OV, None, Some(RoutineId(9))),
        );
        assert_eq!((o.result, o.bytes_returned), (0, BytesReturned::Written(0)));
        let apcs = &h.asyncs.apcs[&crate::model::ThreadId::MAIN];
        assert_eq!(apcs.len(), 1);
        assert_eq!((apcs[0].error, apcs[0].bytes), (ErrorCode::NO_ERROR, 0));
    }

    #[test]
    fn keepalive_on_udp_is_enoprotoopt() {
        let mut h = host();
        let s = udp(&mut h);
        let input = ka(1, 1, 1);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_KEEPALIVE_VALS).input(&input),
        );
        assert_eq!((o.result, o.error), (-1, ErrorCode::WSAENOPROTOOPT));
        assert_eq!(o.bytes_returned, BytesReturned::Written(0));
    }
}
