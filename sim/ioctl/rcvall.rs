//! SIO_RCVALL, SIO_RCVALL_MCAST, SIO_RCVALL_IGMPMCAST: receive-all (sniffing) modes of a
//! raw socket.
//!
//! | Code | Value | Socket it needs |
//! |---|---|---|
//! | SIO_RCVALL | 0x98000001 (`_WSAIOW(IOC_VENDOR,1)`: I, T = 3, number 1) | AF_INET raw IPPROTO_IP, or AF_INET6 raw IPPROTO_IPV6 |
//! | SIO_RCVALL_MCAST | 0x98000002 (`_WSAIOW(IOC_VENDOR,2)`: I, T = 3, number 2) | AF_INET raw IPPROTO_UDP |
//! | SIO_RCVALL_IGMPMCAST | 0x98000003 (`_WSAIOW(IOC_VENDOR,3)`: I, T = 3, number 3) | AF_INET raw IPPROTO_IGMP |
//!
//! Input: RCVALL_VALUE (4 bytes, `wire::rcvall`: OFF 0, ON 1, SOCKETLEVELONLY 2,
//! IPLEVEL 3); no output. Fidelity: stored in `SocketOptions::rcvall` (the model carries
//! no foreign traffic to capture).
//!
//! Evidence: reference "SIO_RCVALL" and siblings (socket kind; bound to an explicit
//! local interface, not INADDR_ANY; administrator privilege); Microsoft "SIO_RCVALL"
//! (docs/evidence.md 2: WSAEINVAL for an unacceptable input or value, a socket the command does
//! not apply to, or an interface that can no longer be found; the IPv6 form). No
//! observation covers these codes.
//!
//! Checks, in order: the input (a NULL or unreadable pointer: WSAEFAULT; shorter than 4
//! bytes or not a RCVALL_VALUE: WSAEINVAL), the socket kind (WSAEINVAL), the binding
//! (WSAEINVAL), the interface (WSAEINVAL), the privilege. Success writes 0.
//!
//! Choices (no evidence; docs/evidence.md 6): the error of an unbound or wildcard-bound socket is
//! WSAEINVAL (the page's "not applicable" case); a caller without administrator rights
//! gets WSAEACCES (the error users report; the page names none) — in the model a raw
//! socket can only be created by a privileged host, so this arises only if the host's
//! privilege is withdrawn. Input failures leave `*lpcbBytesReturned` untouched; the
//! provider's refusals write 0. SOCKETLEVELONLY is accepted and stored (the page says it
//! has no effect).

use super::{Ctx, Reply};
use crate::codes::IoctlCode;
use crate::errors::ErrorCode;
use crate::model::socket::{protocol, RcvAll};
use crate::model::{AddressFamily, SocketType};
use crate::wire::rcvall::RcvallValue;

pub(crate) fn call(ctx: &mut Ctx) -> Reply {
    let value = match ctx.read_input() {
        Err(e) => return Reply::untouched(e),
        Ok(bytes) => match RcvallValue::parse(bytes) {
            Ok(v) => v.to_u32(),
            Err(_) => return Reply::untouched(ErrorCode::WSAEINVAL),
        },
    };
    let code = ctx.call.code;
    let sock = ctx.sock();
    let fits = sock.kind == SocketType::Raw
        && match (code, sock.af) {
            (IoctlCode::SIO_RCVALL, AddressFamily::Inet) => sock.protocol == protocol::IP,
            (IoctlCode::SIO_RCVALL, AddressFamily::Inet6) => sock.protocol == protocol::IPV6,
            (IoctlCode::SIO_RCVALL_MCAST, AddressFamily::Inet) => sock.protocol == protocol::UDP,
            (IoctlCode::SIO_RCVALL_IGMPMCAST, AddressFamily::Inet) => {
                sock.protocol == protocol::IGMP
            }
            _ => false,
        };
    if !fits {
        return Reply::refused(ErrorCode::WSAEINVAL);
    }
    let Some(local) = sock.state.local().filter(|a| !a.ip().is_unspecified()) else {
        return Reply::refused(ErrorCode::WSAEINVAL);
    };
    if !ctx.host.net.is_local_address(local.ip()) {
        return Reply::refused(ErrorCode::WSAEINVAL);
    }
    if !ctx.host.config.privileged {
        return Reply::refused(ErrorCode::WSAEACCES);
    }
    let mode = match (value, code) {
        (0, _) => RcvAll::Off,
        (v, IoctlCode::SIO_RCVALL) => RcvAll::All(v),
        (v, IoctlCode::SIO_RCVALL_MCAST) => RcvAll::Multicast(v),
        (v, _) => RcvAll::IgmpMulticast(v),
    };
    ctx.sock_mut().options.rcvall = mode;
    Reply::done_empty()
}

#[cfg(test)]
mod tests {
    use crate::codes::IoctlCode;
    use crate::errors::ErrorCode;
    use crate::ioctl::test_support::*;
    use crate::ioctl::IoctlCall;
    use crate::model::socket::{protocol, RcvAll};
    use crate::model::{AddressFamily, Host, Socket, SocketType};
    use crate::outcome::BytesReturned;

    fn raw(h: &mut Host, proto: i32) -> Socket {
        h.wsa_socket(AddressFamily::Inet, SocketType::Raw, proto, true)
            .unwrap()
    }

    fn rcvall(h: &mut Host, s: Socket, code: IoctlCode, v: u32) -> crate::outcome::IoctlOutcome {
        let bytes = v.to_le_bytes();
        run(h, IoctlCall::new(s, code).input(&bytes))
    }

    #[test]
    fn rcvall_on_a_raw_ip_socket_bound_to_an_interface_is_stored() {
        let mut h = admin_host();
        let s = raw(&mut h, protocol::IP);
        h.bind(s, "192.168.1.10:0".parse().unwrap());
        let o = rcvall(&mut h, s, IoctlCode::SIO_RCVALL, 1);
        assert_eq!((o.result, o.bytes_returned), (0, BytesReturned::Written(0)));
        assert_eq!(h.socket(s).unwrap().options.rcvall, RcvAll::All(1));
        let o = rcvall(&mut h, s, IoctlCode::SIO_RCVALL, 0);
        assert_eq!(o.result, 0);
        assert_eq!(h.socket(s).unwrap().options.rcvall, RcvAll::Off);
    }

    #[test]
    fn rcvall_on_an_unbound_or_wildcard_socket_is_einval() {
        let mut h = admin_host();
        let s = raw(&mut h, protocol::IP);
        let o = rcvall(&mut h, s, IoctlCode::SIO_RCVALL, 1);
        assert_eq!((o.result, o.error), (-1, ErrorCode::WSAEINVAL));
        h.bind(s, "0.0.0.0:0".parse().unwrap());
        let o = rcvall(&mut h, s, IoctlCode::SIO_RCVALL, 1);
        assert_eq!((o.result, o.error), (-1, ErrorCode::WSAEINVAL));
    }

    #[test]
    fn rcvall_with_a_value_beyond_iplevel_is_einval() {
        let mut h = admin_host();
        let s = raw(&mut h, protocol::IP);
        h.bind(s, "192.168.1.10:0".parse().unwrap());
        let o = rcvall(&mut h, s, IoctlCode::SIO_RCVALL, 4);
        assert_eq!(
            (o.error, o.bytes_returned),
            (ErrorCode::WSAEINVAL, BytesReturned::Untouched)
        );
        let o = run(&mut h, IoctlCall::new(s, IoctlCode::SIO_RCVALL).input(&[1]));
        assert_eq!(o.error, ErrorCode::WSAEINVAL);
    }

    #[test]
    fn each_receive_all_code_needs_its_own_protocol() {
        let mut h = admin_host();
        let udp_raw = raw(&mut h, protocol::UDP);
        let igmp_raw = raw(&mut h, protocol::IGMP);
        for s in [udp_raw, igmp_raw] {
            h.bind(s, "192.168.1.10:0".parse().unwrap());
        }
        assert_eq!(
            rcvall(&mut h, udp_raw, IoctlCode::SIO_RCVALL, 1).error,
            ErrorCode::WSAEINVAL
        );
        assert_eq!(
            rcvall(&mut h, udp_raw, IoctlCode::SIO_RCVALL_MCAST, 1).result,
            0
        );
        assert_eq!(
            rcvall(&mut h, igmp_raw, IoctlCode::SIO_RCVALL_MCAST, 1).error,
            ErrorCode::WSAEINVAL
        );
        assert_eq!(
            rcvall(&mut h, igmp_raw, IoctlCode::SIO_RCVALL_IGMPMCAST, 3).result,
            0
        );
        assert_eq!(
            h.socket(igmp_raw).unwrap().options.rcvall,
            RcvAll::IgmpMulticast(3)
        );
        let t = tcp(&mut h);
        assert_eq!(
            rcvall(&mut h, t, IoctlCode::SIO_RCVALL, 1).error,
            ErrorCode::WSAEINVAL
        );
    }

    #[test]
    fn rcvall_without_administrator_rights_is_eacces() {
        let mut h = admin_host();
        let s = raw(&mut h, protocol::IP);
        h.bind(s, "127.0.0.1:0".parse().unwrap());
        h.config.privileged = false;
        let o = rcvall(&mut h, s, IoctlCode::SIO_RCVALL, 1);
        assert_eq!(
            (o.error, o.bytes_returned),
            (ErrorCode::WSAEACCES, BytesReturned::Written(0))
        );
        assert_eq!(h.socket(s).unwrap().options.rcvall, RcvAll::Off);
    }
}
