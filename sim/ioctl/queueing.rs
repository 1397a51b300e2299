//! SIO_ENABLE_CIRCULAR_QUEUEING: on receive-queue overflow, drop the oldest datagram
//! instead of the newest.
//!
//! Value 0x28000002 (`_WSAIO(IOC_WS2,2)`: V set, T = 1 generic Winsock 2, number 2). No
//! input, no output. Fidelity: simulated: the datagram receive queue is bounded by
//! SO_RCVBUF (`winsock::sockets`), and this switch decides which datagram an overflow
//! drops.
//!
//! Evidence: W077 (UDP, NULL buffers: success); reference "SIO_ENABLE_CIRCULAR_QUEUEING"
//! (only for unreliable message-oriented protocols; providers without it answer
//! WSAENOPROTOOPT).
//!
//! Choice (no evidence; docs/evidence.md 1.8 says TCP is untested): a stream socket gets
//! WSAENOPROTOOPT, the reference's answer for a provider that does not support the
//! ioctl, with `*lpcbBytesReturned` = 0 as provider refusals write (W036, W053).
//! Datagram and raw sockets succeed and write 0. Buffers passed anyway are ignored.

use super::{Ctx, Reply};
use crate::errors::ErrorCode;
use crate::model::SocketType;

pub(crate) fn call(ctx: &mut Ctx) -> Reply {
    if ctx.sock().kind == SocketType::Stream {
        return Reply::refused(ErrorCode::WSAENOPROTOOPT);
    }
    ctx.sock_mut().options.circular_queueing = true;
    Reply::done_empty()
}

#[cfg(test)]
mod tests {
    use crate::codes::IoctlCode;
    use crate::errors::ErrorCode;
    use crate::ioctl::test_support::*;
    use crate::ioctl::IoctlCall;
    use crate::model::{AddressFamily, SocketType};
    use crate::outcome::BytesReturned;
    use crate::winsock::MsgFlags;

    #[test]
    fn circular_queueing_on_fresh_udp_succeeds() {
        let mut h = host();
        let s = udp(&mut h);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_ENABLE_CIRCULAR_QUEUEING),
        );
        assert_eq!((o.result, o.bytes_returned), (0, BytesReturned::Written(0)));
        assert!(h.socket(s).unwrap().options.circular_queueing);
    }

    #[test]
    fn circular_queueing_on_tcp_is_enoprotoopt() {
        let mut h = host();
        let s = tcp(&mut h);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_ENABLE_CIRCULAR_QUEUEING),
        );
        assert_eq!((o.result, o.error), (-1, ErrorCode::WSAENOPROTOOPT));
    }

    fn fill(circular: bool) -> Vec<u8> {
        let mut h = host();
        let (c, srv) = h.pair(AddressFamily::Inet, SocketType::Dgram).unwrap();
        h.setsockopt(srv, "SO_RCVBUF", 25);
        if circular {
            run(
                &mut h,
                IoctlCall::new(srv, IoctlCode::SIO_ENABLE_CIRCULAR_QUEUEING),
            );
        }
        for i in 1..=3u8 {
            assert_eq!(h.send(c, &[i; 10], MsgFlags::default()).result, 10);
        }
        h.recv(srv, 100, MsgFlags::default()).data
    }

    #[test]
    fn an_overflowing_queue_drops_the_newest_datagram_by_default() {
        assert_eq!(fill(false), vec![1; 10]);
    }

    #[test]
    fn with_circular_queueing_an_overflow_drops_the_oldest_datagram() {
        assert_eq!(fill(true), vec![2; 10]);
    }
}
