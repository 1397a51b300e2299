//! SIO_GET_INTERFACE_LIST (0x4004747F, `_IOR('t', 127, u_long)`): outputs an array of
//! INTERFACE_INFO, one per unicast address of the socket's family on every interface.
//!
//! Fidelity: **simulated** from the host's interfaces. Layout: INTERFACE_INFO (76 bytes,
//! `wire::interface_info`). Evidence: observations W120–W126 (docs/evidence.md §1.12), Microsoft's
//! winsock-ioctls page and the INTERFACE_INFO page (docs/evidence.md §2, §2b, §4).
//!
//! Entries: every address of the socket's family of every interface, in interface index
//! order then address order, including the loopback interface (W122: an IFF_LOOPBACK
//! entry is present) and interfaces that are down, which are reported without IFF_UP
//! (choice, no evidence: the flag exists to say so). Flags:
//! - IFF_UP when the interface is up;
//! - loopback kind: IFF_LOOPBACK | IFF_MULTICAST;
//! - ethernet and wireless: IFF_BROADCAST | IFF_MULTICAST;
//! - tunnel: IFF_POINTTOPOINT | IFF_MULTICAST.
//!
//! `iiNetmask` is the prefix's mask. `iiBroadcastAddress` is the subnet's directed
//! broadcast when IFF_BROADCAST is set, else the zero address (W122). Choices (no
//! evidence): the subnet broadcast rather than 255.255.255.255; a tunnel's peer is not
//! modelled, so its broadcast field is zero too. An AF_INET6 socket lists its IPv6
//! addresses in `sockaddr_in6_old` form, with a prefix mask as netmask and a zero
//! broadcast (choice: `sockaddr_gen` exists to carry them; behaviour not observed).
//!
//! Answers: this code goes through the kernel asynchronously (observations section 2
//! item 5). Without an OVERLAPPED: success writes the entries and `lpcbBytesReturned` =
//! their size (W120); a buffer too small, NULL or invalid is WSAEFAULT with
//! `lpcbBytesReturned` = 0 (W123). With an OVERLAPPED the call pends (WSA_IO_PENDING,
//! untouched) and completes with STATUS_SUCCESS and the real byte count (W121), or with
//! STATUS_BUFFER_TOO_SMALL and 0 bytes (W124; the APC sees WSAEFAULT, W126).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::{Ctx, Reply};
use crate::errors::NtStatus;
use crate::model::net::{prefix_mask_v6, Network};
use crate::model::{AddressFamily, InterfaceKind};
use crate::wire::interface_info::{
    InterfaceInfo, IFF_BROADCAST, IFF_LOOPBACK, IFF_MULTICAST, IFF_POINTTOPOINT, IFF_UP,
};

pub(crate) fn call(ctx: &mut Ctx) -> Reply {
    let entries = entries(&ctx.host.net, ctx.sock().af);
    let size = (entries.len() * InterfaceInfo::LEN) as u32;
    if ctx.call.output.capacity().is_none_or(|n| n < size) {
        return Reply::Async {
            status: NtStatus::STATUS_BUFFER_TOO_SMALL,
            info: 0,
            out: Vec::new(),
        };
    }
    let mut out = Vec::with_capacity(size as usize);
    for e in &entries {
        e.emit(&mut out);
    }
    Reply::Async {
        status: NtStatus::STATUS_SUCCESS,
        info: size,
        out,
    }
}

/// The entries the list holds for a family (module doc).
pub(crate) fn entries(net: &Network, af: AddressFamily) -> Vec<InterfaceInfo> {
    let v4 = af == AddressFamily::Inet;
    let mut out = Vec::new();
    for iface in net.interfaces.values() {
        let mut flags = if iface.up { IFF_UP } else { 0 } | IFF_MULTICAST;
        flags |= match iface.kind {
            InterfaceKind::Loopback => IFF_LOOPBACK,
            InterfaceKind::Ethernet | InterfaceKind::Wireless => IFF_BROADCAST,
            InterfaceKind::Tunnel => IFF_POINTTOPOINT,
        };
        for a in iface.addresses.iter().filter(|a| a.addr.is_ipv4() == v4) {
            let (netmask, broadcast) = match a.addr {
                IpAddr::V4(_) => {
                    let bc = if flags & IFF_BROADCAST != 0 {
                        a.broadcast().unwrap_or(Ipv4Addr::UNSPECIFIED)
                    } else {
                        Ipv4Addr::UNSPECIFIED
                    };
                    (
                        IpAddr::V4(a.netmask_v4().unwrap_or(Ipv4Addr::UNSPECIFIED)),
                        IpAddr::V4(bc),
                    )
                }
                IpAddr::V6(_) => (
                    IpAddr::V6(Ipv6Addr::from(prefix_mask_v6(a.prefix))),
                    IpAddr::V6(Ipv6Addr::UNSPECIFIED),
                ),
            };
            out.push(InterfaceInfo {
                flags,
                address: SocketAddr::new(a.addr, 0),
                broadcast: SocketAddr::new(broadcast, 0),
                netmask: SocketAddr::new(netmask, 0),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::IoctlCode;
    use crate::errors::ErrorCode;
    use crate::ioctl::test_support::{run, tcp, tcp6, with_port};
    use crate::ioctl::IoctlCall;
    use crate::model::{Host, OverlappedId, RoutineId, ThreadId};
    use crate::outcome::BytesReturned;

    const CODE: IoctlCode = IoctlCode::SIO_GET_INTERFACE_LIST;

    fn infos(bytes: &[u8]) -> Vec<InterfaceInfo> {
        bytes
            .chunks(InterfaceInfo::LEN)
            .map(|c| InterfaceInfo::parse(c).unwrap())
            .collect()
    }

    #[test]
    fn the_default_host_lists_loopback_then_eth0() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        let o = run(&mut h, IoctlCall::new(s, CODE).out_len(4096));
        assert_eq!(
            (o.result, o.bytes_returned),
            (0, BytesReturned::Written(152))
        );
        let e = infos(&o.out);
        assert_eq!(e[0].flags, IFF_UP | IFF_LOOPBACK | IFF_MULTICAST);
        assert_eq!(e[0].address, "127.0.0.1:0".parse().unwrap());
        assert_eq!(e[0].netmask, "255.0.0.0:0".parse().unwrap());
        assert_eq!(e[0].broadcast, "0.0.0.0:0".parse().unwrap());
        assert_eq!(e[1].flags, IFF_UP | IFF_BROADCAST | IFF_MULTICAST);
        assert_eq!(e[1].address, "192.168.1.10:0".parse().unwrap());
        assert_eq!(e[1].broadcast, "192.168.1.255:0".parse().unwrap());
    }

    #[test]
    fn a_down_interface_is_listed_without_iff_up() {
        let mut h = Host::default_host();
        h.net.set_interface_up(2, false);
        let s = tcp(&mut h);
        let o = run(&mut h, IoctlCall::new(s, CODE).out_len(4096));
        assert_eq!(infos(&o.out)[1].flags, IFF_BROADCAST | IFF_MULTICAST);
    }

    #[test]
    fn a_short_buffer_without_overlapped_is_efault_with_zero() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        let o = run(&mut h, IoctlCall::new(s, CODE).out_len(75));
        assert_eq!(
            (o.error, o.bytes_returned),
            (ErrorCode::WSAEFAULT, BytesReturned::Written(0))
        );
    }

    #[test]
    fn overlapped_pends_and_completes_with_the_real_size() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        let port = with_port(&mut h, s);
        let ov = OverlappedId(1);
        let o = run(
            &mut h,
            IoctlCall::new(s, CODE)
                .out_len(4096)
                .overlapped(ov, None, None),
        );
        assert_eq!(
            (o.error, o.bytes_returned),
            (ErrorCode::WSA_IO_PENDING, BytesReturned::Untouched)
        );
        assert_eq!(h.overlapped(ov).internal_high, 152);
        let p = h.asyncs.ports[&port][0];
        assert_eq!(
            (p.bytes, p.status, p.key),
            (152, NtStatus::STATUS_SUCCESS, 123)
        );
        let o = run(
            &mut h,
            IoctlCall::new(s, CODE)
                .out_len(75)
                .overlapped(ov, None, None),
        );
        assert_eq!(o.error, ErrorCode::WSA_IO_PENDING);
        let p = h.asyncs.ports[&port][1];
        assert_eq!((p.bytes, p.status), (0, NtStatus::STATUS_BUFFER_TOO_SMALL));
    }

    #[test]
    fn a_short_buffer_with_a_routine_delivers_wsaefault() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        let o = run(
            &mut h,
            IoctlCall::new(s, CODE).out_len(75).overlapped(
                OverlappedId(1),
                None,
                Some(RoutineId(1)),
            ),
        );
        assert_eq!(o.error, ErrorCode::WSA_IO_PENDING);
        let apc = h.asyncs.apcs[&ThreadId::MAIN][0];
        assert_eq!((apc.error, apc.bytes), (ErrorCode::WSAEFAULT, 0));
    }

    #[test]
    fn an_ipv6_socket_lists_ipv6_addresses() {
        let mut h = Host::default_host();
        let s = tcp6(&mut h);
        let o = run(&mut h, IoctlCall::new(s, CODE).out_len(4096));
        let e = infos(&o.out);
        assert_eq!(e.len(), 2);
        assert_eq!(e[1].address, "[fe80::10]:0".parse().unwrap());
        assert_eq!(e[1].netmask, "[ffff:ffff:ffff:ffff::]:0".parse().unwrap());
    }
}
