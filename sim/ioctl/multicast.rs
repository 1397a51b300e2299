//! SIO_MULTIPOINT_LOOPBACK and SIO_MULTICAST_SCOPE: the multicast switches of generic
//! Winsock 2.
//!
//! | Code | Value | Input | Default | Fidelity |
//! |---|---|---|---|---|
//! | SIO_MULTIPOINT_LOOPBACK | 0x88000009 (`_WSAIOW(IOC_WS2,9)`: I, T = 1, number 9) | BOOL (4 bytes) | TRUE | stored |
//! | SIO_MULTICAST_SCOPE | 0x8800000A (`_WSAIOW(IOC_WS2,10)`: I, T = 1, number 10) | int (4 bytes) | 1 | stored |
//!
//! Evidence: reference "SIO_MULTIPOINT_LOOPBACK" (TRUE loops multipoint data back to the
//! local host; enabled by default) and "SIO_MULTICAST_SCOPE" (scope = routed segments,
//! the IP multicast TTL; 0 keeps it on the host; default 1); docs/evidence.md 2. No observation
//! covers either code. The model keeps the values in `SocketOptions`; it does not
//! deliver multicast.
//!
//! Choices (no evidence): an input shorter than 4 bytes, NULL or unreadable is
//! WSAEFAULT with `*lpcbBytesReturned` untouched (the buffer-check pattern of W004,
//! W047); a stream socket is refused with WSAEINVAL ("not applicable to the socket
//! type", the generic WSAEINVAL text of Microsoft's Winsock IOCTLs page) and 0 written;
//! the scope is taken as a signed int and must lie in 0..=255 (an IP TTL), else
//! WSAEINVAL with 0 written. Success writes 0. Output buffers are ignored.

use super::{Ctx, Reply};
use crate::codes::IoctlCode;
use crate::errors::ErrorCode;
use crate::model::SocketType;

pub(crate) fn call(ctx: &mut Ctx) -> Reply {
    let value = match ctx.input_u32() {
        Ok(v) => v,
        Err(e) => return Reply::untouched(e),
    };
    if ctx.sock().kind == SocketType::Stream {
        return Reply::refused(ErrorCode::WSAEINVAL);
    }
    match ctx.call.code {
        IoctlCode::SIO_MULTIPOINT_LOOPBACK => {
            ctx.sock_mut().options.multipoint_loopback = value != 0;
        }
        IoctlCode::SIO_MULTICAST_SCOPE => {
            if value > 255 {
                return Reply::refused(ErrorCode::WSAEINVAL);
            }
            ctx.sock_mut().options.multicast_scope = value;
        }
        _ => return super::unsupported(),
    }
    Reply::done_empty()
}

#[cfg(test)]
mod tests {
    use crate::codes::IoctlCode;
    use crate::errors::ErrorCode;
    use crate::ioctl::test_support::*;
    use crate::ioctl::IoctlCall;
    use crate::outcome::BytesReturned;

    #[test]
    fn multipoint_loopback_defaults_to_true_and_false_turns_it_off() {
        let mut h = host();
        let s = udp(&mut h);
        assert!(h.socket(s).unwrap().options.multipoint_loopback);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_MULTIPOINT_LOOPBACK).input(&[0; 4]),
        );
        assert_eq!((o.result, o.bytes_returned), (0, BytesReturned::Written(0)));
        assert!(!h.socket(s).unwrap().options.multipoint_loopback);
    }

    #[test]
    fn multicast_scope_defaults_to_one_and_stores_a_ttl() {
        let mut h = host();
        let s = udp(&mut h);
        assert_eq!(h.socket(s).unwrap().options.multicast_scope, 1);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_MULTICAST_SCOPE).input(&[0; 4]),
        );
        assert_eq!(o.result, 0);
        assert_eq!(h.socket(s).unwrap().options.multicast_scope, 0);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_MULTICAST_SCOPE).input(&256u32.to_le_bytes()),
        );
        assert_eq!((o.result, o.error), (-1, ErrorCode::WSAEINVAL));
        assert_eq!(h.socket(s).unwrap().options.multicast_scope, 0);
    }

    #[test]
    fn a_short_multicast_input_is_efault_and_leaves_bytes_untouched() {
        let mut h = host();
        let s = udp(&mut h);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_MULTICAST_SCOPE).input(&[1, 0]),
        );
        assert_eq!(
            (o.error, o.bytes_returned),
            (ErrorCode::WSAEFAULT, BytesReturned::Untouched)
        );
    }

    #[test]
    fn multicast_switches_on_tcp_are_einval() {
        let mut h = host();
        let s = tcp(&mut h);
        for code in [
            IoctlCode::SIO_MULTIPOINT_LOOPBACK,
            IoctlCode::SIO_MULTICAST_SCOPE,
        ] {
            let o = run(&mut h, IoctlCall::new(s, code).input(&[1, 0, 0, 0]));
            assert_eq!(
                (o.error, o.bytes_returned),
                (ErrorCode::WSAEINVAL, BytesReturned::Written(0))
            );
        }
    }
}
