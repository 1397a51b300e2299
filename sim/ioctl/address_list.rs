//! Address-list family: SIO_ADDRESS_LIST_QUERY, SIO_ADDRESS_LIST_CHANGE and
//! SIO_ADDRESS_LIST_SORT.
//!
//! Codes:
//! - SIO_ADDRESS_LIST_QUERY (0x48000016, `_WSAIOR(IOC_WS2, 22)`): output a
//!   SOCKET_ADDRESS_LIST of the bindable local addresses of the socket's family.
//!   Fidelity: **simulated** from the host's interfaces. Evidence: observations
//!   W107–W119, reference "SIO_ADDRESS_LIST_QUERY", Microsoft's sio-address-list-query
//!   page (docs/evidence.md §2b and §4).
//! - SIO_ADDRESS_LIST_CHANGE (0x28000017, `_WSAIO(IOC_WS2, 23)`): waits for a change of
//!   that list. Fidelity: **simulated**; the family answers `Await(AddressListChange)` and
//!   the shared code pends it (overlapped), fails it with WSAEWOULDBLOCK (non-blocking)
//!   or blocks the thread (W096–W103).
//! - SIO_ADDRESS_LIST_SORT (0xC8000019, `_WSAIORW(IOC_WS2, 25)`): input and output a
//!   SOCKET_ADDRESS_LIST of destinations, sorted best first. Fidelity: **simulated**, a
//!   documented simplification of RFC 6724 destination ordering over the model's routes
//!   (Microsoft's using-sio-address-list-sort page, docs/evidence.md §2b).
//!
//! Layout: SOCKET_ADDRESS_LIST (`wire::address_list`), whose entries point into the same
//! buffer. Outputs are emitted as if the caller's buffer sat at
//! [`OUT_BUFFER_BASE`](super::OUT_BUFFER_BASE); SORT's input pointers are resolved
//! against [`IN_BUFFER_BASE`](super::IN_BUFFER_BASE). The pointer width is the host's
//! `pointer_size`.
//!
//! # Which addresses SIO_ADDRESS_LIST_QUERY lists
//! Every address of the socket's family on every interface, in interface index order and
//! then in the interface's address order, except:
//! - on a loopback-kind interface, addresses of loopback or link-local scope (127.0.0.0/8,
//!   169.254.0.0/16, ::1, fe80::/10) — the documented IF_TYPE_SOFTWARE_LOOPBACK rule; the
//!   same addresses on any other interface are listed;
//! - addresses of an interface that is down. Choice (no evidence): the documentation
//!   excludes addresses whose DAD state is not "preferred", which an address of a
//!   disconnected interface normally is not.
//!
//! Each entry has port 0; an IPv6 link-local address carries its interface index as
//! `sin6_scope_id` (choice, as in the routing family).
//!
//! # SIO_ADDRESS_LIST_QUERY checks
//! "req" is the size of the whole list for the host's pointer width.
//! 1. A non-zero `cbInBuffer` is WSAEINVAL (the Microsoft page says the input must be
//!    absent); `lpcbBytesReturned` = 0 (choice, as for this code's other WSAEINVAL).
//! 2. `cbOutBuffer` between 1 and the header size (8 bytes, 4 for 32-bit callers) is
//!    WSAEINVAL with `lpcbBytesReturned` = 0, whatever the pointer (W112, W115).
//! 3. A NULL or invalid output pointer, a 0-byte buffer, or a buffer smaller than req is
//!    WSAEFAULT with `lpcbBytesReturned` = req, and the buffer is not written (W107,
//!    W110, W111, W113, W114, W116; reference).
//! 4. Success writes the list and `lpcbBytesReturned` = req (W108); overlapped, it
//!    completes synchronously with a 0-byte delivery (W117, W119). Failures with an
//!    OVERLAPPED are synchronous and queue nothing (W114–W116).
//!
//! # SIO_ADDRESS_LIST_SORT
//! Input: a SOCKET_ADDRESS_LIST whose every entry is a SOCKADDR_IN6 (IPv4 destinations
//! as IPv4-mapped addresses). Checks, all leaving `lpcbBytesReturned` untouched (choices,
//! no evidence beyond the page's format rule):
//! - NULL or invalid input pointer, or an entry pointing outside the input: WSAEFAULT;
//! - input shorter than its header or entries, a negative count, or an entry that is not
//!   a 28-byte AF_INET6 sockaddr: WSAEINVAL;
//! - output NULL, invalid or smaller than the sorted list: WSAEFAULT with
//!   `lpcbBytesReturned` = the list's size (as for the query).
//!
//! Order (stable, so rule 10's "keep the input order" holds for ties), per destination
//! with the source the route lookup picks:
//! 1. reachable (a route exists) before unreachable (RFC 6724 rule 1);
//! 2. destination scope equal to the source's scope first (rule 2);
//! 3. higher precedence in RFC 6724's default policy table first (rule 6);
//! 4. smaller scope first (rule 8);
//! 5. longer common prefix with the source first, up to 64 bits (rule 9).
//!
//! Rules 3–5 and 7 (deprecated, home, native addresses) need state the model does not
//! have and are skipped. The unspecified address (and its mapped form) is removed from
//! the output; a link-local destination without a scope id gets the index of the
//! interface its route uses. Works on sockets of either family (choice: the page does
//! not restrict it). Overlapped success completes synchronously.

use std::net::{IpAddr, Ipv6Addr, SocketAddr, SocketAddrV6};

use super::{Ctx, InBuffer, OutBuffer, Reply, IN_BUFFER_BASE, OUT_BUFFER_BASE};
use crate::codes::IoctlCode;
use crate::errors::ErrorCode;
use crate::model::net::Network;
use crate::model::overlapped::Awaiting;
use crate::model::AddressFamily;
use crate::outcome::BytesReturned;
use crate::wire::address_list::{entry_len, header_len, SocketAddressList};
use crate::wire::sockaddr::parse_sockaddr;
use crate::wire::{read_i32, read_ptr, PointerSize};

pub(crate) fn call(ctx: &mut Ctx) -> Reply {
    match ctx.call.code {
        IoctlCode::SIO_ADDRESS_LIST_QUERY => query(ctx),
        IoctlCode::SIO_ADDRESS_LIST_CHANGE => Reply::Await(Awaiting::AddressListChange),
        IoctlCode::SIO_ADDRESS_LIST_SORT => sort(ctx),
        _ => super::unsupported(),
    }
}

/// The addresses SIO_ADDRESS_LIST_QUERY lists for a family, in order: the one rule of
/// `Network::bindable`, which the host-change engine also uses to decide whether
/// SIO_ADDRESS_LIST_CHANGE completes.
pub(crate) fn bindable_addresses(net: &Network, af: AddressFamily) -> Vec<SocketAddr> {
    net.bindable(af == AddressFamily::Inet6)
        .map(|(index, a)| super::routing::local_sockaddr(a, index))
        .collect()
}

/// Emits `list` if the output buffer takes it: otherwise (NULL, invalid or smaller than
/// the list) WSAEFAULT with `lpcbBytesReturned` = the list's size, nothing written. The
/// last output check of both QUERY (module doc, step 3) and SORT.
fn emit_if_it_fits(output: OutBuffer, list: &SocketAddressList, ptr: PointerSize) -> Reply {
    let size = list.buffer_len(ptr);
    let req = u32::try_from(size).unwrap_or(u32::MAX);
    match output {
        OutBuffer::Capacity(n) if n >= req => {
            let mut out = Vec::with_capacity(size);
            list.emit(OUT_BUFFER_BASE, ptr, &mut out);
            Reply::done(out)
        }
        _ => Reply::fail(ErrorCode::WSAEFAULT, BytesReturned::Written(req)),
    }
}

fn query(ctx: &mut Ctx) -> Reply {
    if !ctx.call.input.is_empty() {
        return Reply::refused(ErrorCode::WSAEINVAL);
    }
    let ptr = ctx.host.config.pointer_size;
    // Module doc, step 2: a buffer too small for the header, whatever the pointer.
    let len = ctx.call.output.len();
    if len != 0 && (len as usize) < header_len(ptr) {
        return Reply::refused(ErrorCode::WSAEINVAL);
    }
    let addresses = bindable_addresses(&ctx.host.net, ctx.sock().af);
    emit_if_it_fits(ctx.call.output, &SocketAddressList { addresses }, ptr)
}

/// Reads SORT's input list (module doc for the errors).
fn read_sort_input(input: InBuffer, ptr: PointerSize) -> Result<Vec<SocketAddrV6>, ErrorCode> {
    let bytes = match input {
        InBuffer::Bytes(b) => b,
        InBuffer::Null { .. } | InBuffer::Invalid { .. } => return Err(ErrorCode::WSAEFAULT),
    };
    let count = read_i32(bytes).ok_or(ErrorCode::WSAEINVAL)?;
    let count = usize::try_from(count).map_err(|_| ErrorCode::WSAEINVAL)?;
    if bytes.len() < header_len(ptr) || (bytes.len() - header_len(ptr)) / entry_len(ptr) < count {
        return Err(ErrorCode::WSAEINVAL);
    }
    let base = match ptr {
        PointerSize::Bits64 => IN_BUFFER_BASE,
        PointerSize::Bits32 => u64::from(IN_BUFFER_BASE as u32),
    };
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let entry = &bytes[header_len(ptr) + i * entry_len(ptr)..];
        let pointer = read_ptr(entry, ptr).ok_or(ErrorCode::WSAEINVAL)?;
        let len = read_i32(&entry[ptr.bytes()..]).ok_or(ErrorCode::WSAEINVAL)?;
        let len = usize::try_from(len).map_err(|_| ErrorCode::WSAEINVAL)?;
        let offset = pointer
            .checked_sub(base)
            .and_then(|o| usize::try_from(o).ok())
            .ok_or(ErrorCode::WSAEFAULT)?;
        let end = offset.checked_add(len).ok_or(ErrorCode::WSAEFAULT)?;
        let sockaddr = bytes.get(offset..end).ok_or(ErrorCode::WSAEFAULT)?;
        // Anything but a whole SOCKADDR_IN6 (a short one is truncated) is WSAEINVAL.
        match parse_sockaddr(sockaddr) {
            Ok(SocketAddr::V6(a)) => out.push(a),
            _ => return Err(ErrorCode::WSAEINVAL),
        }
    }
    Ok(out)
}

/// RFC 6724 scope values: 1 interface, 2 link, 5 site, 14 global; IPv4 loopback and
/// link-local count as link scope.
fn scope(ip: IpAddr) -> u8 {
    match ip {
        IpAddr::V4(a) if a.is_loopback() || a.is_link_local() => 2,
        IpAddr::V4(_) => 14,
        IpAddr::V6(a) => {
            let seg = a.segments()[0];
            if seg & 0xff00 == 0xff00 {
                (seg & 0x000f) as u8
            } else if a.is_loopback() || seg & 0xffc0 == 0xfe80 {
                2
            } else if seg & 0xffc0 == 0xfec0 {
                5
            } else {
                14
            }
        }
    }
}

/// Precedence from RFC 6724's default policy table (longest matching prefix).
fn precedence(a: Ipv6Addr) -> u8 {
    const TABLE: [(u128, u8, u8); 9] = [
        (1, 128, 50),               // ::1/128
        (0xffff_0000_0000, 96, 35), // ::ffff:0:0/96
        (0, 96, 1),                 // ::/96
        (0x2001 << 112, 32, 5),     // 2001::/32
        (0x2002 << 112, 16, 30),    // 2002::/16
        (0x3ffe << 112, 16, 1),     // 3ffe::/16
        (0xfec0 << 112, 10, 1),     // fec0::/10
        (0xfc00 << 112, 7, 3),      // fc00::/7
        (0, 0, 40),                 // ::/0
    ];
    let bits = u128::from(a);
    let mut best = (0u8, 40u8);
    for (prefix, len, prec) in TABLE {
        let mask = crate::model::net::prefix_mask_v6(len);
        if bits & mask == prefix && len >= best.0 {
            best = (len, prec);
        }
    }
    best.1
}

fn common_prefix(a: IpAddr, b: IpAddr) -> u32 {
    match (a, b) {
        (IpAddr::V4(x), IpAddr::V4(y)) => (u32::from(x) ^ u32::from(y)).leading_zeros(),
        (IpAddr::V6(x), IpAddr::V6(y)) => (u128::from(x) ^ u128::from(y)).leading_zeros().min(64),
        _ => 0,
    }
}

fn sort(ctx: &mut Ctx) -> Reply {
    let ptr = ctx.host.config.pointer_size;
    let dests = match read_sort_input(ctx.call.input, ptr) {
        Ok(d) => d,
        Err(e) => return Reply::untouched(e),
    };
    ctx.host.net.ensure_index();
    let net = &ctx.host.net;
    let mut ranked = Vec::with_capacity(dests.len());
    for (pos, mut d) in dests.into_iter().enumerate() {
        let target = d
            .ip()
            .to_ipv4_mapped()
            .map_or(IpAddr::V6(*d.ip()), IpAddr::V4);
        if target.is_unspecified() {
            continue;
        }
        let key = match net.route(target) {
            Ok(choice) => {
                if d.scope_id() == 0 && d.ip().is_unicast_link_local() {
                    d.set_scope_id(choice.interface);
                }
                (
                    false,
                    scope(target) != scope(choice.source),
                    std::cmp::Reverse(precedence(*d.ip())),
                    scope(target),
                    std::cmp::Reverse(common_prefix(target, choice.source)),
                )
            }
            Err(_) => (
                true,
                true,
                std::cmp::Reverse(precedence(*d.ip())),
                scope(target),
                std::cmp::Reverse(0),
            ),
        };
        ranked.push((key, pos, d));
    }
    ranked.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let addresses = ranked
        .into_iter()
        .map(|(_, _, d)| SocketAddr::V6(d))
        .collect();
    emit_if_it_fits(ctx.call.output, &SocketAddressList { addresses }, ptr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::NtStatus;
    use crate::ioctl::test_support::{run, tcp, tcp6, with_port};
    use crate::ioctl::IoctlCall;
    use crate::model::net::{IfAddress, Interface, InterfaceKind};
    use crate::model::{Host, OverlappedId, RoutineId, ThreadId};
    use crate::outcome::IoctlOutcome;

    const QUERY: IoctlCode = IoctlCode::SIO_ADDRESS_LIST_QUERY;
    const SORT: IoctlCode = IoctlCode::SIO_ADDRESS_LIST_SORT;

    fn parsed(o: &IoctlOutcome, ptr: PointerSize) -> Vec<String> {
        SocketAddressList::parse(&o.out, OUT_BUFFER_BASE, ptr)
            .unwrap()
            .addresses
            .iter()
            .map(|a| a.to_string())
            .collect()
    }

    /// The default host plus wlan0 (index 3) with two IPv4 addresses and a global IPv6.
    fn host_with_wlan() -> Host {
        let mut h = Host::default_host();
        h.net.add_interface(Interface {
            index: 3,
            name: "wlan0".into(),
            kind: InterfaceKind::Wireless,
            up: true,
            addresses: ["172.16.0.2/16", "169.254.3.4/16", "2001:db8::2/64"]
                .iter()
                .map(|a| IfAddress::parse(a).unwrap())
                .collect(),
        });
        h
    }

    #[test]
    fn the_default_host_lists_only_the_eth0_address_in_40_bytes() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        let o = run(&mut h, IoctlCall::new(s, QUERY).out_len(1024));
        assert_eq!((o.result, o.error), (0, ErrorCode::NO_ERROR));
        assert_eq!(o.bytes_returned, BytesReturned::Written(40));
        assert_eq!(parsed(&o, PointerSize::Bits64), ["192.168.1.10:0"]);
    }

    #[test]
    fn addresses_come_in_interface_then_address_order_with_link_local_kept_off_loopback() {
        let mut h = host_with_wlan();
        let s = tcp(&mut h);
        let o = run(&mut h, IoctlCall::new(s, QUERY).out_len(1024));
        assert_eq!(
            parsed(&o, PointerSize::Bits64),
            ["192.168.1.10:0", "172.16.0.2:0", "169.254.3.4:0"]
        );
    }

    #[test]
    fn an_ipv6_socket_lists_ipv6_addresses_with_link_local_scope_ids() {
        let mut h = host_with_wlan();
        let s = tcp6(&mut h);
        let o = run(&mut h, IoctlCall::new(s, QUERY).out_len(1024));
        assert_eq!(
            parsed(&o, PointerSize::Bits64),
            ["[fe80::10%2]:0", "[2001:db8::2]:0"]
        );
    }

    #[test]
    fn a_down_interface_is_not_listed() {
        let mut h = host_with_wlan();
        h.net.set_interface_up(2, false);
        let s = tcp(&mut h);
        let o = run(&mut h, IoctlCall::new(s, QUERY).out_len(1024));
        assert_eq!(
            parsed(&o, PointerSize::Bits64),
            ["172.16.0.2:0", "169.254.3.4:0"]
        );
    }

    #[test]
    fn a_32_bit_caller_gets_the_32_bit_layout() {
        let mut h = Host::default_host();
        h.config.pointer_size = PointerSize::Bits32;
        let s = tcp(&mut h);
        let o = run(&mut h, IoctlCall::new(s, QUERY).out_len(1024));
        assert_eq!(o.bytes_returned, BytesReturned::Written(28));
        assert_eq!(parsed(&o, PointerSize::Bits32), ["192.168.1.10:0"]);
    }

    #[test]
    fn a_null_zero_length_output_is_efault_with_req() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        let o = run(&mut h, IoctlCall::new(s, QUERY));
        assert_eq!(o.error, ErrorCode::WSAEFAULT);
        assert_eq!(o.bytes_returned, BytesReturned::Written(40));
    }

    #[test]
    fn a_null_output_with_a_length_is_efault_with_req() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        let mut call = IoctlCall::new(s, QUERY);
        call.output = OutBuffer::Null { len: 1024 };
        let o = run(&mut h, call);
        assert_eq!(o.error, ErrorCode::WSAEFAULT);
        assert_eq!(o.bytes_returned, BytesReturned::Written(40));
    }

    #[test]
    fn a_zero_length_buffer_is_efault_with_req() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        let o = run(&mut h, IoctlCall::new(s, QUERY).out_len(0));
        assert_eq!(o.error, ErrorCode::WSAEFAULT);
        assert_eq!(o.bytes_returned, BytesReturned::Written(40));
    }

    #[test]
    fn a_one_byte_buffer_is_einval_with_zero() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        let o = run(&mut h, IoctlCall::new(s, QUERY).out_len(1));
        assert_eq!(o.error, ErrorCode::WSAEINVAL);
        assert_eq!(o.bytes_returned, BytesReturned::Written(0));
    }

    #[test]
    fn a_header_only_buffer_is_efault_with_req_and_nothing_written() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        let o = run(&mut h, IoctlCall::new(s, QUERY).out_len(8));
        assert_eq!(o.error, ErrorCode::WSAEFAULT);
        assert_eq!(o.bytes_returned, BytesReturned::Written(40));
        assert!(o.out.is_empty());
    }

    #[test]
    fn an_input_buffer_is_einval() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        let o = run(
            &mut h,
            IoctlCall::new(s, QUERY).input(&[0; 4]).out_len(1024),
        );
        assert_eq!(o.error, ErrorCode::WSAEINVAL);
    }

    #[test]
    fn overlapped_failures_are_synchronous_and_queue_nothing() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        let port = with_port(&mut h, s);
        for (len, error, n) in [
            (0, ErrorCode::WSAEFAULT, 40),
            (1, ErrorCode::WSAEINVAL, 0),
            (8, ErrorCode::WSAEFAULT, 40),
        ] {
            let o = run(
                &mut h,
                IoctlCall::new(s, QUERY)
                    .out_len(len)
                    .overlapped(OverlappedId(9), None, None),
            );
            assert_eq!(
                (o.error, o.bytes_returned),
                (error, BytesReturned::Written(n))
            );
            assert!(o.op.is_none());
        }
        assert!(h.asyncs.ports[&port].is_empty());
        let o = run(
            &mut h,
            IoctlCall::new(s, QUERY)
                .out_len(1024)
                .overlapped(OverlappedId(9), None, None),
        );
        assert_eq!(
            (o.result, o.bytes_returned),
            (0, BytesReturned::Written(40))
        );
        let q = &h.asyncs.ports[&port];
        assert_eq!(q.len(), 1);
        assert_eq!((q[0].bytes, q[0].status), (0, NtStatus::STATUS_SUCCESS));
    }

    #[test]
    fn overlapped_with_a_routine_writes_req_and_queues_an_apc() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        let o = run(
            &mut h,
            IoctlCall::new(s, QUERY).out_len(1024).overlapped(
                OverlappedId(1),
                None,
                Some(RoutineId(1)),
            ),
        );
        assert_eq!(o.bytes_returned, BytesReturned::Written(40));
        assert_eq!(h.asyncs.apcs[&ThreadId::MAIN][0].bytes, 0);
    }

    #[test]
    fn change_pends_with_an_overlapped() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_ADDRESS_LIST_CHANGE).overlapped(
                OverlappedId(1),
                None,
                None,
            ),
        );
        assert_eq!(o.error, ErrorCode::WSA_IO_PENDING);
        assert_eq!(o.bytes_returned, BytesReturned::Untouched);
    }

    fn sort_input(addrs: &[&str], ptr: PointerSize) -> Vec<u8> {
        let list = SocketAddressList {
            addresses: addrs.iter().map(|a| a.parse().unwrap()).collect(),
        };
        let mut out = Vec::new();
        list.emit(IN_BUFFER_BASE, ptr, &mut out);
        out
    }

    #[test]
    fn sort_puts_loopback_then_reachable_then_unreachable_and_drops_the_unspecified() {
        let mut h = Host::default_host();
        let s = tcp6(&mut h);
        let input = sort_input(
            &[
                "[2001:db8::1]:80",
                "[::]:1",
                "[::ffff:8.8.8.8]:80",
                "[::1]:80",
            ],
            PointerSize::Bits64,
        );
        let o = run(&mut h, IoctlCall::new(s, SORT).input(&input).out_len(1024));
        assert_eq!(o.result, 0);
        assert_eq!(
            parsed(&o, PointerSize::Bits64),
            ["[::1]:80", "[::ffff:8.8.8.8]:80", "[2001:db8::1]:80"]
        );
        assert_eq!(
            o.bytes_returned,
            BytesReturned::Written(8 + 3 * 16 + 3 * 28)
        );
    }

    #[test]
    fn sort_prefers_smaller_scope_then_the_longer_common_prefix_and_fills_scope_ids() {
        let mut h = host_with_wlan();
        h.net.add_route(crate::model::net::Route {
            prefix: crate::model::net::Prefix::parse("::/0").unwrap(),
            gateway: Some("2001:db8::1".parse().unwrap()),
            interface: 3,
            metric: 10,
        });
        let s = tcp6(&mut h);
        let input = sort_input(
            &["[2001:db9::5]:1", "[2001:db8::5]:1", "[fe80::1]:1"],
            PointerSize::Bits64,
        );
        let o = run(&mut h, IoctlCall::new(s, SORT).input(&input).out_len(1024));
        assert_eq!(
            parsed(&o, PointerSize::Bits64),
            ["[fe80::1%2]:1", "[2001:db8::5]:1", "[2001:db9::5]:1"]
        );
    }

    #[test]
    fn sort_refuses_an_ipv4_entry() {
        let mut h = Host::default_host();
        let s = tcp6(&mut h);
        let input = sort_input(&["8.8.8.8:80"], PointerSize::Bits64);
        let o = run(&mut h, IoctlCall::new(s, SORT).input(&input).out_len(1024));
        assert_eq!(o.error, ErrorCode::WSAEINVAL);
        assert_eq!(o.bytes_returned, BytesReturned::Untouched);
    }

    #[test]
    fn sort_faults_on_a_pointer_outside_the_input() {
        let mut h = Host::default_host();
        let s = tcp6(&mut h);
        let mut input = sort_input(&["[::1]:80"], PointerSize::Bits64);
        input[8..16].copy_from_slice(&0x10u64.to_le_bytes());
        let o = run(&mut h, IoctlCall::new(s, SORT).input(&input).out_len(1024));
        assert_eq!(o.error, ErrorCode::WSAEFAULT);
    }

    #[test]
    fn sort_with_a_short_output_is_efault_with_the_size() {
        let mut h = Host::default_host();
        let s = tcp6(&mut h);
        let input = sort_input(&["[::1]:80"], PointerSize::Bits32);
        h.config.pointer_size = PointerSize::Bits32;
        let o = run(&mut h, IoctlCall::new(s, SORT).input(&input).out_len(20));
        assert_eq!(o.error, ErrorCode::WSAEFAULT);
        assert_eq!(o.bytes_returned, BytesReturned::Written(4 + 8 + 28));
    }

    #[test]
    fn precedence_follows_the_rfc_6724_table() {
        assert_eq!(precedence("::1".parse().unwrap()), 50);
        assert_eq!(precedence("2001::1".parse().unwrap()), 5);
        assert_eq!(precedence("2001:db8::1".parse().unwrap()), 40);
        assert_eq!(precedence("2400::1".parse().unwrap()), 40);
        assert_eq!(precedence("::ffff:1.2.3.4".parse().unwrap()), 35);
        assert_eq!(precedence("fd00::1".parse().unwrap()), 3);
    }
}
