//! Routing family: SIO_ROUTING_INTERFACE_QUERY and SIO_ROUTING_INTERFACE_CHANGE.
//!
//! Codes:
//! - SIO_ROUTING_INTERFACE_QUERY (0xC8000014, `_WSAIORW(IOC_WS2, 20)`): input a SOCKADDR
//!   (destination), output the SOCKADDR of the local address the host would send from.
//!   Fidelity: **simulated** through [`Network::route`](crate::model::net::Network::route).
//! - SIO_ROUTING_INTERFACE_CHANGE (0x88000015, `_WSAIOW(IOC_WS2, 21)`): input a SOCKADDR
//!   (or the wildcard for "any change"); completes when the destination's route changes.
//!   Fidelity: **simulated**; the wait itself belongs to the asynchronous engine.
//! - SIO_FIND_ROUTE (0x48000003) is not here: it is an IPX relic that Windows' TCP/IP
//!   provider does not implement, so it takes the shared unsupported path (WSAEOPNOTSUPP,
//!   or STATUS_NOT_SUPPORTED when overlapped; observations section 2 item 3).
//!
//! Layouts: SOCKADDR_IN (16 bytes) and SOCKADDR_IN6 (28 bytes), `wire::sockaddr`.
//!
//! Order of checks (observations W078–W089, docs/evidence.md §1.9 and §4):
//! 1. the input: an invalid pointer faults (WSAEFAULT); a NULL pointer or fewer than 16
//!    bytes is WSAEINVAL (W079, W080); a family other than AF_INET/AF_INET6, or one that is
//!    not the socket's, is WSAEAFNOSUPPORT (W081); an AF_INET6 input shorter than 28 bytes
//!    is WSAEINVAL; for the query, the unspecified address is WSAEINVAL (W082). Every
//!    input error leaves `lpcbBytesReturned` untouched.
//! 2. the output (query only): a NULL or invalid pointer is WSAEFAULT, untouched (W085); a
//!    valid buffer smaller than the sockaddr is WSAEFAULT with the required size written
//!    (W084; reference, SIO_ROUTING_INTERFACE_QUERY).
//! 3. the route: no route is WSAENETUNREACH, all connectivity down is WSAENETDOWN
//!    (reference).
//!
//! Success writes the source address with port 0 and `lpcbBytesReturned` = the sockaddr
//! size (W083); overlapped, it completes synchronously with a 0-byte delivery (W087,
//! W089; observations section 2 item 2).
//!
//! Choices (no evidence):
//! - Output checks come before the route lookup: a short buffer reports WSAEFAULT even
//!   for an unreachable destination.
//! - WSAENETUNREACH and WSAENETDOWN leave `lpcbBytesReturned` untouched, like the other
//!   failures of this code that Windows is known to leave untouched.
//! - An invalid (non-NULL, unreadable) input pointer is WSAEFAULT, per the reference's
//!   general WSAEFAULT rule, while a NULL one is WSAEINVAL as W080 shows.
//! - The destination's family must be the socket's; an AF_INET6 socket routes an
//!   IPv4-mapped destination as IPv4 and answers with the IPv4-mapped source.
//! - An IPv6 link-local source carries the interface index as `sin6_scope_id`.
//! - For SIO_ROUTING_INTERFACE_CHANGE the wildcard (0.0.0.0 / ::) means any change
//!   (reference), and the output buffer is ignored.

use std::net::{IpAddr, SocketAddr, SocketAddrV6};

use super::{check_sockaddr_output, Ctx, InBuffer, Reply};
use crate::codes::IoctlCode;
use crate::errors::ErrorCode;
use crate::model::net::RouteError;
use crate::model::overlapped::Awaiting;
use crate::model::AddressFamily;
use crate::wire::read_u16;
use crate::wire::sockaddr::{emit_sockaddr, parse_sockaddr, SOCKADDR_IN6_LEN, SOCKADDR_IN_LEN};

pub(crate) fn call(ctx: &mut Ctx) -> Reply {
    match ctx.call.code {
        IoctlCode::SIO_ROUTING_INTERFACE_QUERY => query(ctx),
        IoctlCode::SIO_ROUTING_INTERFACE_CHANGE => change(ctx),
        _ => super::unsupported(),
    }
}

/// The local SOCKADDR the model reports for `ip` on interface `index`: port 0, and the
/// interface index as scope id for an IPv6 link-local address.
pub(crate) fn local_sockaddr(ip: IpAddr, index: u32) -> SocketAddr {
    match ip {
        IpAddr::V4(_) => SocketAddr::new(ip, 0),
        IpAddr::V6(a) => {
            let scope = if (a.segments()[0] & 0xffc0) == 0xfe80 {
                index
            } else {
                0
            };
            SocketAddr::V6(SocketAddrV6::new(a, 0, 0, scope))
        }
    }
}

/// Reads and checks the destination SOCKADDR (step 1 of the module doc, without the
/// wildcard rule, which differs between the two codes).
pub(crate) fn read_destination(ctx: &Ctx) -> Result<SocketAddr, ErrorCode> {
    let bytes = match ctx.call.input {
        InBuffer::Invalid { .. } => return Err(ErrorCode::WSAEFAULT),
        InBuffer::Null { .. } => return Err(ErrorCode::WSAEINVAL),
        InBuffer::Bytes(b) => b,
    };
    if bytes.len() < SOCKADDR_IN_LEN {
        return Err(ErrorCode::WSAEINVAL);
    }
    // The socket's family is AF_INET or AF_INET6, so any other family fails here too;
    // an AF_INET6 input shorter than SOCKADDR_IN6 fails to parse (WSAEINVAL).
    if read_u16(bytes) != Some(ctx.sock().af.value()) {
        return Err(ErrorCode::WSAEAFNOSUPPORT);
    }
    parse_sockaddr(bytes).map_err(|_| ErrorCode::WSAEINVAL)
}

/// The IPv4 address inside an IPv4-mapped IPv6 address.
fn unmapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(a) => a.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn query(ctx: &mut Ctx) -> Reply {
    let dest = match read_destination(ctx) {
        Ok(d) => d,
        Err(e) => return Reply::untouched(e),
    };
    let target = unmapped(dest.ip());
    if target.is_unspecified() {
        return Reply::untouched(ErrorCode::WSAEINVAL);
    }
    let need = match ctx.sock().af {
        AddressFamily::Inet => SOCKADDR_IN_LEN,
        AddressFamily::Inet6 => SOCKADDR_IN6_LEN,
    } as u32;
    if let Err(reply) = check_sockaddr_output(ctx.call.output, need) {
        return reply;
    }
    ctx.host.net.ensure_index();
    let choice = match ctx.host.net.route(target) {
        Ok(c) => c,
        Err(RouteError::Unreachable) => return Reply::untouched(ErrorCode::WSAENETUNREACH),
        Err(RouteError::NetworkDown) => return Reply::untouched(ErrorCode::WSAENETDOWN),
    };
    let source = match (ctx.sock().af, choice.source) {
        (AddressFamily::Inet6, IpAddr::V4(v4)) => IpAddr::V6(v4.to_ipv6_mapped()),
        (_, ip) => ip,
    };
    let mut out = Vec::with_capacity(need as usize);
    emit_sockaddr(&local_sockaddr(source, choice.interface), &mut out);
    Reply::done(out)
}

fn change(ctx: &mut Ctx) -> Reply {
    let dest = match read_destination(ctx) {
        Ok(d) => d,
        Err(e) => return Reply::untouched(e),
    };
    let target = unmapped(dest.ip());
    if target.is_unspecified() {
        return Reply::Await(Awaiting::RoutingInterfaceChange {
            destination: None,
            interface: None,
        });
    }
    ctx.host.net.ensure_index();
    let interface = ctx.host.net.route(target).ok().map(|c| c.interface);
    Reply::Await(Awaiting::RoutingInterfaceChange {
        destination: Some(dest),
        interface,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::NtStatus;
    use crate::ioctl::test_support::{run, udp, udp6, with_port};
    use crate::ioctl::{IoctlCall, OutBuffer};
    use crate::model::net::{IfAddress, Prefix};
    use crate::model::{Host, IoMode, OverlappedId, RoutineId};
    use crate::outcome::{BytesReturned, CallReturn, IoctlOutcome};

    const QUERY: IoctlCode = IoctlCode::SIO_ROUTING_INTERFACE_QUERY;
    const CHANGE: IoctlCode = IoctlCode::SIO_ROUTING_INTERFACE_CHANGE;

    fn sa(s: &str) -> Vec<u8> {
        let mut out = Vec::new();
        emit_sockaddr(&s.parse().unwrap(), &mut out);
        out
    }

    #[test]
    fn a_null_bytes_returned_is_efault() {
        let mut h = Host::default_host();
        let s = udp(&mut h);
        let input = [0u8; 16];
        let o = run(
            &mut h,
            IoctlCall::new(s, QUERY)
                .input(&input)
                .out_len(16)
                .null_bytes_returned(),
        );
        assert_eq!((o.result, o.error), (-1, ErrorCode::WSAEFAULT));
    }

    #[test]
    fn a_15_byte_input_is_einval_untouched() {
        let mut h = Host::default_host();
        let s = udp(&mut h);
        let input = [0u8; 15];
        let o = run(&mut h, IoctlCall::new(s, QUERY).input(&input).out_len(16));
        assert_eq!(o.error, ErrorCode::WSAEINVAL);
        assert_eq!(o.bytes_returned, BytesReturned::Untouched);
    }

    #[test]
    fn a_null_input_is_einval_untouched() {
        let mut h = Host::default_host();
        let s = udp(&mut h);
        let mut call = IoctlCall::new(s, QUERY).out_len(16);
        call.input = InBuffer::Null { len: 16 };
        let o = run(&mut h, call);
        assert_eq!(o.error, ErrorCode::WSAEINVAL);
        assert_eq!(o.bytes_returned, BytesReturned::Untouched);
    }

    #[test]
    fn family_zero_is_eafnosupport_even_with_a_null_output() {
        let mut h = Host::default_host();
        let s = udp(&mut h);
        let input = [0u8; 16];
        let o = run(&mut h, IoctlCall::new(s, QUERY).input(&input).out_len(16));
        assert_eq!(o.error, ErrorCode::WSAEAFNOSUPPORT);
        assert_eq!(o.bytes_returned, BytesReturned::Untouched);
        let mut call = IoctlCall::new(s, QUERY).input(&input);
        call.output = OutBuffer::Null { len: 16 };
        assert_eq!(run(&mut h, call).error, ErrorCode::WSAEAFNOSUPPORT);
    }

    #[test]
    fn an_ipv6_destination_on_an_ipv4_socket_is_eafnosupport() {
        let mut h = Host::default_host();
        let s = udp(&mut h);
        let input = sa("[::1]:0");
        let o = run(&mut h, IoctlCall::new(s, QUERY).input(&input).out_len(28));
        assert_eq!(o.error, ErrorCode::WSAEAFNOSUPPORT);
    }

    #[test]
    fn the_wildcard_destination_is_einval_untouched() {
        let mut h = Host::default_host();
        let s = udp(&mut h);
        let input = sa("0.0.0.0:0");
        let o = run(&mut h, IoctlCall::new(s, QUERY).input(&input).out_len(16));
        assert_eq!((o.result, o.error), (-1, ErrorCode::WSAEINVAL));
        assert_eq!(o.bytes_returned, BytesReturned::Untouched);
    }

    #[test]
    fn loopback_answers_127_0_0_1_port_0_in_16_bytes() {
        let mut h = Host::default_host();
        let s = udp(&mut h);
        let input = sa("127.0.0.1:0");
        let o = run(&mut h, IoctlCall::new(s, QUERY).input(&input).out_len(16));
        assert_eq!((o.result, o.error), (0, ErrorCode::NO_ERROR));
        assert_eq!(o.bytes_returned, BytesReturned::Written(16));
        assert_eq!(o.out, sa("127.0.0.1:0"));
    }

    #[test]
    fn a_remote_destination_answers_the_eth0_address() {
        let mut h = Host::default_host();
        let s = udp(&mut h);
        let input = sa("8.8.8.8:53");
        let o = run(&mut h, IoctlCall::new(s, QUERY).input(&input).out_len(100));
        assert_eq!(o.out, sa("192.168.1.10:0"));
        assert_eq!(o.bytes_returned, BytesReturned::Written(16));
    }

    #[test]
    fn a_15_byte_output_is_efault_with_the_required_size() {
        let mut h = Host::default_host();
        let s = udp(&mut h);
        let input = sa("127.0.0.1:0");
        let o = run(&mut h, IoctlCall::new(s, QUERY).input(&input).out_len(15));
        assert_eq!(o.error, ErrorCode::WSAEFAULT);
        assert_eq!(o.bytes_returned, BytesReturned::Written(16));
        assert!(o.out.is_empty());
    }

    #[test]
    fn a_null_output_is_efault_untouched() {
        let mut h = Host::default_host();
        let s = udp(&mut h);
        let input = sa("127.0.0.1:0");
        let mut call = IoctlCall::new(s, QUERY).input(&input);
        call.output = OutBuffer::Null { len: 16 };
        let o = run(&mut h, call);
        assert_eq!(o.error, ErrorCode::WSAEFAULT);
        assert_eq!(o.bytes_returned, BytesReturned::Untouched);
    }

    #[test]
    fn overlapped_on_a_port_completes_at_once_with_a_zero_byte_packet() {
        let mut h = Host::default_host();
        let s = udp(&mut h);
        let port = with_port(&mut h, s);
        let input = sa("127.0.0.1:0");
        let ov = OverlappedId(1);
        let o = run(
            &mut h,
            IoctlCall::new(s, QUERY)
                .input(&input)
                .out_len(16)
                .overlapped(ov, None, None),
        );
        assert_eq!(
            (o.result, o.bytes_returned),
            (0, BytesReturned::Written(16))
        );
        let rec = h.overlapped(ov);
        assert_eq!((rec.internal, rec.internal_high), (0, 0));
        let q = &h.asyncs.ports[&port];
        assert_eq!(q.len(), 1);
        assert_eq!(
            (q[0].bytes, q[0].key, q[0].status),
            (0, 123, NtStatus::STATUS_SUCCESS)
        );
    }

    #[test]
    fn overlapped_with_a_routine_queues_one_apc_with_size_0() {
        let mut h = Host::default_host();
        let s = udp(&mut h);
        let input = sa("127.0.0.1:0");
        let o = run(
            &mut h,
            IoctlCall::new(s, QUERY)
                .input(&input)
                .out_len(16)
                .overlapped(OverlappedId(2), None, Some(RoutineId(7))),
        );
        assert_eq!(
            (o.result, o.bytes_returned),
            (0, BytesReturned::Written(16))
        );
        let apcs = &h.asyncs.apcs[&crate::model::ThreadId::MAIN];
        assert_eq!(apcs.len(), 1);
        assert_eq!((apcs[0].error, apcs[0].bytes), (ErrorCode::NO_ERROR, 0));
    }

    #[test]
    fn an_unreachable_destination_is_enetunreach() {
        let mut h = Host::default_host();
        h.net.remove_route(Prefix::parse("0.0.0.0/0").unwrap(), 2);
        let s = udp(&mut h);
        let input = sa("8.8.8.8:0");
        let o = run(&mut h, IoctlCall::new(s, QUERY).input(&input).out_len(16));
        assert_eq!(o.error, ErrorCode::WSAENETUNREACH);
        assert_eq!(o.bytes_returned, BytesReturned::Untouched);
    }

    #[test]
    fn every_interface_down_is_enetdown() {
        let mut h = Host::default_host();
        h.net.set_interface_up(2, false);
        let s = udp(&mut h);
        let input = sa("8.8.8.8:0");
        let o = run(&mut h, IoctlCall::new(s, QUERY).input(&input).out_len(16));
        assert_eq!(o.error, ErrorCode::WSAENETDOWN);
    }

    #[test]
    fn an_ipv6_link_local_destination_answers_with_the_scope_id() {
        let mut h = Host::default_host();
        let s = udp6(&mut h);
        let input = sa("[fe80::1]:0");
        let o = run(&mut h, IoctlCall::new(s, QUERY).input(&input).out_len(28));
        assert_eq!(o.bytes_returned, BytesReturned::Written(28));
        assert_eq!(o.out, sa("[fe80::10%2]:0"));
    }

    #[test]
    fn an_ipv6_socket_routes_a_mapped_ipv4_destination() {
        let mut h = Host::default_host();
        let s = udp6(&mut h);
        let input = sa("[::ffff:8.8.8.8]:0");
        let o = run(&mut h, IoctlCall::new(s, QUERY).input(&input).out_len(28));
        assert_eq!(o.out, sa("[::ffff:192.168.1.10]:0"));
    }

    #[test]
    fn a_new_route_changes_the_answer() {
        let mut h = Host::default_host();
        h.net
            .add_address(2, IfAddress::parse("10.0.0.10/24").unwrap());
        let s = udp(&mut h);
        let input = sa("30.1.1.1:0");
        let o = run(&mut h, IoctlCall::new(s, QUERY).input(&input).out_len(16));
        assert_eq!(o.out, sa("192.168.1.10:0"));
        h.net.add_route(crate::model::net::Route {
            prefix: Prefix::parse("30.0.0.0/8").unwrap(),
            gateway: Some("10.0.0.1".parse().unwrap()),
            interface: 2,
            metric: 1,
        });
        let o = run(&mut h, IoctlCall::new(s, QUERY).input(&input).out_len(16));
        assert_eq!(o.out, sa("10.0.0.10:0"));
    }

    #[test]
    fn change_with_the_wildcard_awaits_any_change() {
        let mut h = Host::default_host();
        let s = udp(&mut h);
        let input = sa("0.0.0.0:0");
        let mut ctx = Ctx {
            host: &mut h,
            call: IoctlCall::new(s, CHANGE).input(&input),
        };
        assert_eq!(
            call(&mut ctx),
            Reply::Await(Awaiting::RoutingInterfaceChange {
                destination: None,
                interface: None
            })
        );
    }

    #[test]
    fn change_with_a_destination_records_its_current_interface() {
        let mut h = Host::default_host();
        let s = udp(&mut h);
        let input = sa("8.8.8.8:53");
        let mut ctx = Ctx {
            host: &mut h,
            call: IoctlCall::new(s, CHANGE).input(&input),
        };
        assert_eq!(
            call(&mut ctx),
            Reply::Await(Awaiting::RoutingInterfaceChange {
                destination: Some("8.8.8.8:53".parse().unwrap()),
                interface: Some(2)
            })
        );
    }

    #[test]
    fn change_overlapped_pends_and_nonblocking_without_it_would_block() {
        let mut h = Host::default_host();
        let s = udp(&mut h);
        let input = sa("8.8.8.8:53");
        let o = run(
            &mut h,
            IoctlCall::new(s, CHANGE)
                .input(&input)
                .overlapped(OverlappedId(3), None, None),
        );
        assert_eq!(o.error, ErrorCode::WSA_IO_PENDING);
        h.sockets.get_mut(&s).unwrap().set_mode(IoMode::NonBlocking);
        let o = run(&mut h, IoctlCall::new(s, CHANGE).input(&input));
        assert_eq!(o.error, ErrorCode::WSAEWOULDBLOCK);
        assert!(matches!(
            h.wsa_ioctl(IoctlCall::new(s, CHANGE)),
            CallReturn::Returned(IoctlOutcome {
                error: ErrorCode::WSAEINVAL,
                ..
            })
        ));
    }

    #[test]
    fn change_checks_its_input_like_the_query() {
        let mut h = Host::default_host();
        let s = udp(&mut h);
        let input = [0u8; 16];
        let o = run(&mut h, IoctlCall::new(s, CHANGE).input(&input));
        assert_eq!(o.error, ErrorCode::WSAEAFNOSUPPORT);
    }
}
