//! SIO_GET_BROADCAST_ADDRESS (0x48000005, `_WSAIOR(IOC_WS2, 5)`): outputs a SOCKADDR_IN
//! holding a broadcast address suitable for `sendto`.
//!
//! Fidelity: **simulated** from the host's interfaces. Layout: SOCKADDR_IN (16 bytes,
//! `wire::sockaddr`). Evidence: reference "SIO_GET_BROADCAST_ADDRESS"; Microsoft's
//! winsock-ioctls page ("not supported for IPv6 sockets", WSAENOPROTOOPT; docs/evidence.md §2).
//!
//! Checks and answers:
//! - an AF_INET6 socket: WSAENOPROTOOPT (documented), `lpcbBytesReturned` untouched
//!   (choice, no evidence);
//! - output NULL or invalid: WSAEFAULT, untouched; a valid buffer under 16 bytes:
//!   WSAEFAULT with 16 written. Choice (no evidence): the same pattern as the other
//!   sockaddr-returning query, SIO_ROUTING_INTERFACE_QUERY (W084, W085);
//! - success: the subnet's directed broadcast address, port 0, `lpcbBytesReturned` = 16;
//!   overlapped, it completes synchronously with a 0-byte delivery (the common rule of
//!   observations section 2 item 2; choice, not observed for this code).
//!
//! Which subnet (choice, no evidence): the address the socket sends from —
//! - bound to a specific address: that address's prefix;
//! - otherwise connected (or connecting): the source the route to the peer picks;
//! - otherwise: the source the route to 255.255.255.255 picks, which is the interface
//!   of the best default route (see `model::net`).
//!
//! The answer is that prefix's broadcast (for 192.168.1.10/24, 192.168.1.255). When no
//! route exists, or the prefix is /31 or /32 (no broadcast address of its own), the
//! answer is the limited broadcast 255.255.255.255. Socket type does not matter (choice:
//! the documentation names no restriction).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::{check_sockaddr_output, Ctx, Reply};
use crate::errors::ErrorCode;
use crate::model::socket::ConnState;
use crate::model::AddressFamily;
use crate::wire::sockaddr::{emit_sockaddr, SOCKADDR_IN_LEN};

pub(crate) fn call(ctx: &mut Ctx) -> Reply {
    if ctx.sock().af == AddressFamily::Inet6 {
        return Reply::untouched(ErrorCode::WSAENOPROTOOPT);
    }
    if let Err(reply) = check_sockaddr_output(ctx.call.output, SOCKADDR_IN_LEN as u32) {
        return reply;
    }
    let addr = broadcast_for(ctx);
    let mut out = Vec::with_capacity(SOCKADDR_IN_LEN);
    emit_sockaddr(&SocketAddr::new(IpAddr::V4(addr), 0), &mut out);
    Reply::done(out)
}

/// The broadcast address for the socket (module doc).
fn broadcast_for(ctx: &mut Ctx) -> Ipv4Addr {
    let state = ctx.sock().state;
    ctx.host.net.ensure_index();
    let net = &ctx.host.net;
    let source = match state.local().map(|l| l.ip()) {
        Some(ip) if !ip.is_unspecified() => Some(ip),
        _ => {
            let dest = match state {
                ConnState::Connected { remote, .. } | ConnState::Connecting { remote, .. } => {
                    remote.ip()
                }
                _ => IpAddr::V4(Ipv4Addr::BROADCAST),
            };
            net.route(dest).ok().map(|c| c.source)
        }
    };
    source
        .and_then(|ip| {
            let iface = net.interface_of_address(ip)?;
            iface.addresses.iter().find(|a| a.addr == ip).copied()
        })
        .filter(|a| a.prefix < 31)
        .and_then(|a| a.broadcast())
        .unwrap_or(Ipv4Addr::BROADCAST)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::IoctlCode;
    use crate::ioctl::test_support::{run, udp, udp6};
    use crate::ioctl::IoctlCall;
    use crate::model::net::Prefix;
    use crate::model::{Host, OverlappedId};
    use crate::outcome::BytesReturned;

    const CODE: IoctlCode = IoctlCode::SIO_GET_BROADCAST_ADDRESS;

    fn sa(s: &str) -> Vec<u8> {
        let mut out = Vec::new();
        emit_sockaddr(&s.parse().unwrap(), &mut out);
        out
    }

    #[test]
    fn an_unbound_socket_gets_the_default_route_subnet_broadcast() {
        let mut h = Host::default_host();
        let s = udp(&mut h);
        let o = run(&mut h, IoctlCall::new(s, CODE).out_len(16));
        assert_eq!(
            (o.result, o.bytes_returned),
            (0, BytesReturned::Written(16))
        );
        assert_eq!(o.out, sa("192.168.1.255:0"));
    }

    #[test]
    fn a_socket_bound_to_loopback_gets_the_loopback_subnet_broadcast() {
        let mut h = Host::default_host();
        let s = udp(&mut h);
        h.bind(s, "127.0.0.1:0".parse().unwrap());
        let o = run(&mut h, IoctlCall::new(s, CODE).out_len(16));
        assert_eq!(o.out, sa("127.255.255.255:0"));
    }

    #[test]
    fn without_any_route_the_answer_is_the_limited_broadcast() {
        let mut h = Host::default_host();
        h.net.set_interface_up(2, false);
        h.net.remove_route(Prefix::parse("0.0.0.0/0").unwrap(), 2);
        let s = udp(&mut h);
        let o = run(&mut h, IoctlCall::new(s, CODE).out_len(16));
        assert_eq!(o.out, sa("255.255.255.255:0"));
    }

    #[test]
    fn an_ipv6_socket_is_enoprotoopt() {
        let mut h = Host::default_host();
        let s = udp6(&mut h);
        let o = run(&mut h, IoctlCall::new(s, CODE).out_len(16));
        assert_eq!(o.error, ErrorCode::WSAENOPROTOOPT);
        assert_eq!(o.bytes_returned, BytesReturned::Untouched);
    }

    #[test]
    fn a_short_output_is_efault_with_16_and_a_null_one_untouched() {
        let mut h = Host::default_host();
        let s = udp(&mut h);
        let o = run(&mut h, IoctlCall::new(s, CODE).out_len(15));
        assert_eq!(
            (o.error, o.bytes_returned),
            (ErrorCode::WSAEFAULT, BytesReturned::Written(16))
        );
        let o = run(&mut h, IoctlCall::new(s, CODE));
        assert_eq!(
            (o.error, o.bytes_returned),
            (ErrorCode::WSAEFAULT, BytesReturned::Untouched)
        );
    }

    #[test]
    fn overlapped_completes_synchronously() {
        let mut h = Host::default_host();
        let s = udp(&mut h);
        let o = run(
            &mut h,
            IoctlCall::new(s, CODE)
                .out_len(16)
                .overlapped(OverlappedId(1), None, None),
        );
        assert_eq!(
            (o.result, o.bytes_returned),
            (0, BytesReturned::Written(16))
        );
        assert!(o.op.is_some());
    }
}
