//! SIO_UDP_CONNRESET: whether an ICMP port-unreachable is reported to a UDP socket as
//! WSAECONNRESET on its next receive.
//!
//! Value 0x9800000C (`_WSAIOW(IOC_VENDOR,12)`: I, T = 3 vendor, number 12). Input: BOOL
//! (4 bytes); no output. Fidelity: stored in `SocketOptions::udp_connreset` (the model
//! delivers no ICMP). Default TRUE (reporting on), as third-party reports describe
//! (docs/evidence.md 2: golang/go#68614); Microsoft's IOCTLs page gives only the one-line
//! meaning.
//!
//! Choices (no evidence; docs/evidence.md 6 lists errors and TCP behaviour as UNKNOWN): an input
//! shorter than 4 bytes, NULL or unreadable is WSAEFAULT with `*lpcbBytesReturned`
//! untouched; a socket other than a datagram socket is refused with WSAEINVAL ("not
//! applicable to the socket type", the generic text of Microsoft's IOCTLs page) and 0
//! written. Success writes 0; output buffers are ignored; overlapped calls complete at
//! once like the other synchronous codes.

use super::{Ctx, Reply};
use crate::errors::ErrorCode;

pub(crate) fn call(ctx: &mut Ctx) -> Reply {
    let value = match ctx.input_u32() {
        Ok(v) => v,
        Err(e) => return Reply::untouched(e),
    };
    if !ctx.sock().is_udp() {
        return Reply::refused(ErrorCode::WSAEINVAL);
    }
    ctx.sock_mut().options.udp_connreset = value != 0;
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
    fn udp_connreset_false_turns_reporting_off() {
        let mut h = host();
        let s = udp(&mut h);
        assert!(h.socket(s).unwrap().options.udp_connreset);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_UDP_CONNRESET).input(&[0; 4]),
        );
        assert_eq!((o.result, o.bytes_returned), (0, BytesReturned::Written(0)));
        assert!(!h.socket(s).unwrap().options.udp_connreset);
    }

    #[test]
    fn udp_connreset_on_tcp_is_einval() {
        let mut h = host();
        let s = tcp(&mut h);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_UDP_CONNRESET).input(&[1, 0, 0, 0]),
        );
        assert_eq!((o.result, o.error), (-1, ErrorCode::WSAEINVAL));
    }

    #[test]
    fn udp_connreset_with_a_null_input_is_efault() {
        let mut h = host();
        let s = udp(&mut h);
        let o = run(&mut h, IoctlCall::new(s, IoctlCode::SIO_UDP_CONNRESET));
        assert_eq!(
            (o.error, o.bytes_returned),
            (ErrorCode::WSAEFAULT, BytesReturned::Untouched)
        );
    }
}
