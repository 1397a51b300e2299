//! SIO_IDEAL_SEND_BACKLOG_QUERY and SIO_IDEAL_SEND_BACKLOG_CHANGE: the ideal send backlog
//! (ISB) of a TCP connection, and the notification of its changes.
//!
//! | Code | Value | Buffers | Fidelity |
//! |---|---|---|---|
//! | SIO_IDEAL_SEND_BACKLOG_QUERY | 0x4004747B (`_IOR('t',123,ULONG)`: O, T = 0 Unix, family 4 = size, number 0x747B) | out: ULONG | simulated |
//! | SIO_IDEAL_SEND_BACKLOG_CHANGE | 0x2000747A (`_IO('t',122)`: V, T = 0, number 0x747A) | none | simulated |
//!
//! Evidence: W069 (unconnected TCP: WSAENOTCONN), W070 (connected over loopback:
//! 0x10000), W071 (UDP: WSAEOPNOTSUPP); Microsoft's IOCTLs page (docs/evidence.md 2: the
//! query returns a ULONG, the change code notifies).
//!
//! Query checks, in order: the output (shorter than 4 bytes, NULL or unreadable:
//! WSAEFAULT, `*lpcbBytesReturned` untouched), a non-stream socket (WSAEOPNOTSUPP), an
//! unconnected socket (WSAENOTCONN); success writes 4 bytes and 4.
//!
//! The model's backlog is constant: 0x10000 for every connection, so a change request
//! on a connected TCP socket waits for ever: it pends with an OVERLAPPED, fails with
//! WSAEWOULDBLOCK on a non-blocking socket without one, blocks a blocking caller, and is
//! cancelled by closesocket (the shared machinery, `Reply::Await`).
//!
//! Choices (no evidence): the socket-kind and state failures write 0 to
//! `*lpcbBytesReturned` (the provider-refusal pattern of W036 and W053; W069–W071 do not
//! look); the change code takes the query's socket-kind and state errors; the ISB of a
//! non-loopback connection is also 0x10000 (the model has no bandwidth-delay product).

use super::{Ctx, Reply};
use crate::codes::IoctlCode;
use crate::errors::ErrorCode;
use crate::model::overlapped::Awaiting;

/// The ideal send backlog the model reports for every connection (W070).
pub(crate) const IDEAL_SEND_BACKLOG: u32 = 0x10000;

pub(crate) fn call(ctx: &mut Ctx) -> Reply {
    let query = ctx.call.code == IoctlCode::SIO_IDEAL_SEND_BACKLOG_QUERY;
    if query {
        if let Err(e) = ctx.check_output(4) {
            return Reply::untouched(e);
        }
    }
    if !ctx.sock().is_tcp() {
        return Reply::refused(ErrorCode::WSAEOPNOTSUPP);
    }
    if !ctx.sock().state.is_connected() {
        return Reply::refused(ErrorCode::WSAENOTCONN);
    }
    if query {
        Reply::done(IDEAL_SEND_BACKLOG.to_le_bytes().to_vec())
    } else {
        Reply::Await(Awaiting::SendBacklogChange)
    }
}

#[cfg(test)]
mod tests {
    use crate::codes::IoctlCode;
    use crate::errors::{ErrorCode, NtStatus};
    use crate::ioctl::test_support::*;
    use crate::ioctl::IoctlCall;
    use crate::model::IoMode;
    use crate::outcome::{BytesReturned, CallReturn};

    fn query(h: &mut crate::model::Host, s: crate::model::Socket) -> crate::outcome::IoctlOutcome {
        run(
            h,
            IoctlCall::new(s, IoctlCode::SIO_IDEAL_SEND_BACKLOG_QUERY).out_len(4),
        )
    }

    #[test]
    fn backlog_query_on_unconnected_tcp_is_enotconn() {
        let mut h = host();
        let s = tcp(&mut h);
        let o = query(&mut h, s);
        assert_eq!((o.result, o.error), (-1, ErrorCode::WSAENOTCONN));
    }

    #[test]
    fn backlog_query_on_a_loopback_connection_is_0x10000() {
        let mut h = host();
        let (c, _) = tcp_pair(&mut h);
        let o = query(&mut h, c);
        assert_eq!((o.result, o.out_u32()), (0, Some(0x10000)));
        assert_eq!(o.bytes_returned, BytesReturned::Written(4));
    }

    #[test]
    fn backlog_query_on_udp_is_eopnotsupp() {
        let mut h = host();
        let s = udp(&mut h);
        assert_eq!(query(&mut h, s).error, ErrorCode::WSAEOPNOTSUPP);
    }

    #[test]
    fn backlog_query_with_a_short_output_is_efault_before_the_state_check() {
        let mut h = host();
        let s = tcp(&mut h);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_IDEAL_SEND_BACKLOG_QUERY).out_len(3),
        );
        assert_eq!(
            (o.error, o.bytes_returned),
            (ErrorCode::WSAEFAULT, BytesReturned::Untouched)
        );
    }

    #[test]
    fn backlog_change_pends_until_the_socket_is_closed() {
        let mut h = host();
        let (c, _) = tcp_pair(&mut h);
        let o = run(
            &mut h,
            IoctlCall::new(c, IoctlCode::SIO_IDEAL_SEND_BACKLOG_CHANGE).overlapped(OV, None, None),
        );
        assert_eq!((o.result, o.error), (-1, ErrorCode::WSA_IO_PENDING));
        assert_eq!(
            h.overlapped(OV).internal,
            u64::from(NtStatus::STATUS_PENDING.0)
        );
        h.closesocket(c);
        assert_eq!(
            h.overlapped(OV).internal,
            u64::from(NtStatus::STATUS_CANCELLED.0)
        );
    }

    #[test]
    fn backlog_change_without_overlapped_would_block_or_blocks() {
        let mut h = host();
        let (c, _) = tcp_pair(&mut h);
        let r = h.wsa_ioctl(IoctlCall::new(c, IoctlCode::SIO_IDEAL_SEND_BACKLOG_CHANGE));
        assert!(matches!(r, CallReturn::Blocked(_)));
        let (c2, _) = tcp_pair(&mut h);
        h.sockets
            .get_mut(&c2)
            .unwrap()
            .set_mode(IoMode::NonBlocking);
        let o = run(
            &mut h,
            IoctlCall::new(c2, IoctlCode::SIO_IDEAL_SEND_BACKLOG_CHANGE),
        );
        assert_eq!(o.error, ErrorCode::WSAEWOULDBLOCK);
    }

    #[test]
    fn backlog_change_on_unconnected_tcp_is_enotconn() {
        let mut h = host();
        let s = tcp(&mut h);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_IDEAL_SEND_BACKLOG_CHANGE),
        );
        assert_eq!(o.error, ErrorCode::WSAENOTCONN);
    }
}
