//! Host changes (`handle_net_change`) and the change notifications they complete.
//!
//! A change first updates the tables ([`apply_change`]); a change that cannot apply
//! (an unknown interface, a missing address or route, a duplicate) is refused with a
//! message and changes nothing. Then, against the tables before and after:
//!
//! 1. pending overlapped change requests complete with STATUS_SUCCESS and 0 bytes, in
//!    arming order (operation id order), each through its own delivery path;
//! 2. threads blocked in a change request return 0, in the order they blocked;
//! 3. sockets that armed FD_ADDRESS_LIST_CHANGE / FD_ROUTING_INTERFACE_CHANGE with a
//!    WSAEWOULDBLOCK request record the event (signaling their selection); the arming
//!    is used up (observations W105, W106; a socket that never issued the request gets
//!    nothing).
//!
//! What matches:
//! - SIO_ADDRESS_LIST_CHANGE: the socket family's bindable address list
//!   ([`Network::bindable_addresses`]) differs before and after (reference: notified
//!   on an address list change; observations W101: nothing completes on its own).
//! - SIO_ROUTING_INTERFACE_CHANGE for a destination: the interface a lookup chooses for
//!   it differs (including becoming unreachable or reachable). The wildcard address
//!   (or no destination) asks for any change; with `provider.change_notify: any` every
//!   request completes on any change (reference: a provider may ignore the input).
//!   Every change that applies counts as a routing change for these.
//! - An armed FD_ROUTING_INTERFACE_CHANGE fires on any change. Choice (no evidence):
//!   the WSAEWOULDBLOCK call that armed it keeps no destination, so the model treats it
//!   as a wildcard request.

use std::net::IpAddr;

use crate::errors::NtStatus;
use crate::model::net::{Interface, Network, Prefix, Route};
use crate::model::overlapped::{Awaiting, BlockedCall, OpState, Released};
use crate::model::socket::{AddressFamily, NetworkEvents};
use crate::model::{ChangeNotify, Host, OpId, ThreadId};
use crate::outcome::{BytesReturned, IoctlOutcome};
use crate::winsock::asyncio::NetChange;

/// Applies one change to the tables through `Network`'s mutation methods (which keep the
/// route index honest), or says why it cannot apply (nothing changes then).
pub(crate) fn apply_change(net: &mut Network, change: &NetChange) -> Result<(), String> {
    fn index_of(net: &Network, name: &str) -> Result<u32, String> {
        net.interface_by_name(name)
            .map(|i| i.index)
            .ok_or_else(|| format!("no interface named {name:?}"))
    }
    fn route_at(net: &Network, prefix: Prefix, interface: u32) -> Option<usize> {
        let prefix = Prefix::new(prefix.addr, prefix.len);
        net.routes
            .iter()
            .position(|r| r.prefix == prefix && r.interface == interface)
    }
    match change {
        NetChange::AddAddress { interface, address } => {
            let i = index_of(net, interface)?;
            let iface = &net.interfaces[&i];
            if iface.addresses.iter().any(|a| a.addr == address.addr) {
                return Err(format!(
                    "{interface} already has the address {}",
                    address.addr
                ));
            }
            net.add_address(i, *address);
        }
        NetChange::RemoveAddress { interface, address } => {
            let i = index_of(net, interface)?;
            let Some(found) = net.interfaces[&i]
                .addresses
                .iter()
                .find(|a| a.addr == address.addr)
                .copied()
            else {
                return Err(format!("{interface} has no address {}", address.addr));
            };
            net.remove_address(i, found);
        }
        NetChange::AddRoute {
            prefix,
            interface,
            gateway,
            metric,
        } => {
            let i = index_of(net, interface)?;
            if gateway.is_some_and(|g| g.is_ipv4() != prefix.addr.is_ipv4()) {
                return Err(format!(
                    "the gateway of the route to {prefix} is of another family"
                ));
            }
            if route_at(net, *prefix, i).is_some() {
                return Err(format!("a route to {prefix} on {interface} already exists"));
            }
            net.add_route(Route {
                prefix: Prefix::new(prefix.addr, prefix.len),
                gateway: *gateway,
                interface: i,
                metric: *metric,
            });
        }
        NetChange::RemoveRoute { prefix, interface } => {
            let i = index_of(net, interface)?;
            if !net.remove_route(Prefix::new(prefix.addr, prefix.len), i) {
                return Err(format!("no route to {prefix} on {interface}"));
            }
        }
        NetChange::SetRouteMetric {
            prefix,
            interface,
            metric,
        } => {
            let i = index_of(net, interface)?;
            if !net.set_route_metric(Prefix::new(prefix.addr, prefix.len), i, *metric) {
                return Err(format!("no route to {prefix} on {interface}"));
            }
        }
        NetChange::SetInterface { name, up } => {
            let i = index_of(net, name)?;
            net.set_interface_up(i, *up);
        }
        NetChange::AddInterface(iface) => add_interface(net, iface)?,
        NetChange::RemoveInterface(name) => {
            let i = index_of(net, name)?;
            net.remove_interface(i);
        }
    }
    Ok(())
}

fn add_interface(net: &mut Network, iface: &Interface) -> Result<(), String> {
    if iface.index == 0 {
        return Err(format!("interface {} needs a non-zero index", iface.name));
    }
    if net.interface_by_name(&iface.name).is_some() {
        return Err(format!(
            "an interface named {:?} already exists",
            iface.name
        ));
    }
    if !net.add_interface(iface.clone()) {
        return Err(format!(
            "an interface with index {} already exists",
            iface.index
        ));
    }
    Ok(())
}

/// The interface the route lookup (`Network::route`, the same lookup
/// SIO_ROUTING_INTERFACE_QUERY answers from) chooses for `dest`, if any: a change that
/// moves it completes the destination's SIO_ROUTING_INTERFACE_CHANGE.
pub(crate) fn chosen_interface(net: &Network, dest: IpAddr) -> Option<u32> {
    net.route(dest).ok().map(|c| c.interface)
}

/// What a request waits for, seen against one change.
struct Verdict<'a> {
    before: &'a Network,
    after: &'a Network,
    v4_changed: bool,
    v6_changed: bool,
    any: bool,
}

impl Verdict<'_> {
    fn matches(&self, awaiting: Awaiting, af: Option<AddressFamily>) -> bool {
        match awaiting {
            Awaiting::AddressListChange => match af {
                Some(AddressFamily::Inet) => self.v4_changed,
                Some(AddressFamily::Inet6) => self.v6_changed,
                None => false,
            },
            Awaiting::RoutingInterfaceChange { destination, .. } => match destination {
                _ if self.any => true,
                None => true,
                Some(d) if d.ip().is_unspecified() => true,
                Some(d) => {
                    chosen_interface(self.before, d.ip()) != chosen_interface(self.after, d.ip())
                }
            },
            Awaiting::SendBacklogChange | Awaiting::Immediate => false,
        }
    }
}

impl Host {
    /// A host change: updates the tables and completes the matching armed requests
    /// (see the module doc for the order and the matching rules).
    pub fn handle_net_change(&mut self, change: NetChange) -> Result<(), String> {
        let before = self.net.clone();
        apply_change(&mut self.net, &change)?;
        self.net.ensure_index();
        let after = self.net.clone();
        let verdict = Verdict {
            before: &before,
            after: &after,
            v4_changed: before.bindable_addresses(false) != after.bindable_addresses(false),
            v6_changed: before.bindable_addresses(true) != after.bindable_addresses(true),
            any: self.config.change_notify == ChangeNotify::Any,
        };
        let af = |h: &Host, s| h.sockets.get(&s).map(|st| st.af);

        let ops: Vec<OpId> = self
            .asyncs
            .ops
            .iter()
            .filter_map(|(id, op)| match op.state {
                OpState::Pending(w) if verdict.matches(w, af(self, op.socket)) => Some(*id),
                _ => None,
            })
            .collect();
        for id in ops {
            self.complete_op(id, NtStatus::STATUS_SUCCESS, 0, Vec::new());
        }

        let mut threads: Vec<(u64, ThreadId)> = self
            .asyncs
            .blocked
            .iter()
            .filter_map(|(t, b)| match b {
                BlockedCall::Ioctl {
                    socket, awaiting, ..
                } if verdict.matches(*awaiting, af(self, *socket)) => {
                    Some((self.asyncs.parked_at.get(t).copied().unwrap_or(0), *t))
                }
                _ => None,
            })
            .collect();
        threads.sort_unstable();
        for (_, t) in threads {
            self.release(
                t,
                Released::Ioctl(IoctlOutcome {
                    result: 0,
                    error: crate::errors::ErrorCode::NO_ERROR,
                    bytes_returned: BytesReturned::Written(0),
                    out: Vec::new(),
                    op: None,
                }),
            );
        }

        let armed: Vec<_> = self
            .sockets
            .iter()
            .filter(|(_, st)| !st.armed.is_empty())
            .map(|(s, st)| (s, st.af, st.armed))
            .collect();
        for (s, family, armed) in armed {
            let mut fire = NetworkEvents::NONE;
            if armed.contains(NetworkEvents::ADDRESS_LIST_CHANGE)
                && verdict.matches(Awaiting::AddressListChange, Some(family))
            {
                fire = fire | NetworkEvents::ADDRESS_LIST_CHANGE;
            }
            if armed.contains(NetworkEvents::ROUTING_INTERFACE_CHANGE) {
                fire = fire | NetworkEvents::ROUTING_INTERFACE_CHANGE;
            }
            if !fire.is_empty() {
                let st = self.sockets.get_mut(&s).expect("listed above");
                st.armed = st.armed.without(fire);
                self.note_event(s, fire);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::IoctlCode;
    use crate::errors::ErrorCode;
    use crate::ioctl::{IoctlCall, Reply};
    use crate::model::net::IfAddress;
    use crate::model::{HostConfig, OverlappedId, Socket, SocketType};
    use crate::outcome::CallReturn;
    use crate::time::Timeout;
    use std::net::SocketAddr;

    fn tcp(h: &mut Host) -> Socket {
        h.socket_default(AddressFamily::Inet, SocketType::Stream)
            .unwrap()
    }

    /// Arms a change request waiting for exactly `awaiting`, through the shared `finish`
    /// path, so that the matching rules are tested apart from input parsing.
    fn arm(
        h: &mut Host,
        s: Socket,
        ov: Option<u64>,
        awaiting: Awaiting,
    ) -> CallReturn<IoctlOutcome> {
        let code = match awaiting {
            Awaiting::RoutingInterfaceChange { .. } => IoctlCode::SIO_ROUTING_INTERFACE_CHANGE,
            _ => IoctlCode::SIO_ADDRESS_LIST_CHANGE,
        };
        let mut call = IoctlCall::new(s, code);
        if let Some(ov) = ov {
            call = call.overlapped(OverlappedId(ov), None, None);
        }
        h.finish(call, Reply::Await(awaiting), ov.is_some())
    }

    fn routing(dest: &str) -> Awaiting {
        Awaiting::RoutingInterfaceChange {
            destination: Some(dest.parse::<SocketAddr>().unwrap()),
            interface: None,
        }
    }

    fn add_addr(a: &str) -> NetChange {
        NetChange::AddAddress {
            interface: "eth0".into(),
            address: IfAddress::parse(a).unwrap(),
        }
    }

    fn is_pending(h: &Host, ov: u64) -> bool {
        h.overlapped(OverlappedId(ov)).internal == u64::from(NtStatus::STATUS_PENDING.0)
    }

    #[test]
    fn an_address_change_completes_the_pending_request_of_its_family_only() {
        let mut h = Host::default_host();
        let s4 = tcp(&mut h);
        let s6 = h
            .socket_default(AddressFamily::Inet6, SocketType::Stream)
            .unwrap();
        arm(&mut h, s4, Some(1), Awaiting::AddressListChange);
        arm(&mut h, s6, Some(2), Awaiting::AddressListChange);
        h.handle_net_change(add_addr("10.1.2.3/8")).unwrap();
        assert!(!is_pending(&h, 1));
        assert_eq!(h.overlapped(OverlappedId(1)).internal, 0);
        assert!(is_pending(&h, 2));
    }

    #[test]
    fn a_change_on_the_loopback_interface_does_not_change_the_address_list() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        arm(&mut h, s, Some(1), Awaiting::AddressListChange);
        h.handle_net_change(NetChange::AddAddress {
            interface: "loopback".into(),
            address: IfAddress::parse("127.0.0.2/8").unwrap(),
        })
        .unwrap();
        assert!(is_pending(&h, 1));
    }

    #[test]
    fn a_blocked_change_request_returns_zero_after_the_change() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        let t = ThreadId(2);
        let call = IoctlCall::new(s, IoctlCode::SIO_ADDRESS_LIST_CHANGE).on_thread(t);
        assert!(h
            .finish(call, Reply::Await(Awaiting::AddressListChange), false)
            .is_blocked());
        h.handle_net_change(add_addr("10.0.0.9/8")).unwrap();
        let Some(Released::Ioctl(o)) = h.poll_thread(t) else {
            panic!("the change releases the thread");
        };
        assert_eq!((o.result, o.error), (0, ErrorCode::NO_ERROR));
    }

    #[test]
    fn closing_the_socket_releases_a_blocked_change_request_with_wsaeintr() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        assert!(arm(&mut h, s, None, Awaiting::AddressListChange).is_blocked());
        h.closesocket(s);
        let Some(Released::Ioctl(o)) = h.poll_thread(ThreadId::MAIN) else {
            panic!("closing releases the thread");
        };
        assert_eq!(o.error, ErrorCode::WSAEINTR);
    }

    #[test]
    fn a_routing_request_completes_only_when_its_destinations_interface_changes() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        arm(&mut h, s, Some(1), routing("8.8.8.8:0"));
        arm(&mut h, s, Some(2), routing("10.0.0.1:0"));
        h.handle_net_change(NetChange::AddInterface(Interface {
            index: 3,
            name: "wlan0".into(),
            kind: crate::model::InterfaceKind::Wireless,
            up: true,
            addresses: vec![IfAddress::parse("172.16.0.2/16").unwrap()],
        }))
        .unwrap();
        assert!(is_pending(&h, 1) && is_pending(&h, 2));
        h.handle_net_change(NetChange::AddRoute {
            prefix: Prefix::parse("10.0.0.0/8").unwrap(),
            interface: "wlan0".into(),
            gateway: None,
            metric: 1,
        })
        .unwrap();
        assert!(is_pending(&h, 1), "8.8.8.8 still leaves through eth0");
        assert!(!is_pending(&h, 2), "10.0.0.1 moved to wlan0");
    }

    #[test]
    fn a_wildcard_routing_request_completes_on_any_change() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        arm(&mut h, s, Some(1), routing("0.0.0.0:0"));
        h.handle_net_change(NetChange::SetRouteMetric {
            prefix: Prefix::parse("0.0.0.0/0").unwrap(),
            interface: "eth0".into(),
            metric: 5,
        })
        .unwrap();
        assert!(!is_pending(&h, 1));
    }

    #[test]
    fn a_provider_that_ignores_the_input_completes_on_any_change() {
        let mut h = Host::new(
            Network::default_host(),
            HostConfig {
                change_notify: ChangeNotify::Any,
                ..HostConfig::default()
            },
        );
        let s = tcp(&mut h);
        arm(&mut h, s, Some(1), routing("8.8.8.8:0"));
        h.handle_net_change(add_addr("10.9.9.9/8")).unwrap();
        assert!(!is_pending(&h, 1));
    }

    #[test]
    fn completions_reach_the_port_in_arming_order() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        let p = h.create_io_completion_port();
        h.associate_with_port(s, p, 1).unwrap();
        for ov in [9, 4, 6] {
            arm(&mut h, s, Some(ov), Awaiting::AddressListChange);
        }
        h.handle_net_change(add_addr("10.0.0.1/8")).unwrap();
        let got: Vec<_> = (0..3)
            .map(|_| {
                let r = h.get_queued_completion_status(ThreadId::MAIN, p, Timeout(0));
                r.returned().unwrap().overlapped.unwrap().0
            })
            .collect();
        assert_eq!(got, [9, 4, 6]);
    }

    #[test]
    fn only_a_socket_that_armed_the_event_gets_fd_address_list_change() {
        // W105, W106.
        let mut h = Host::default_host();
        let (armed, idle) = (tcp(&mut h), tcp(&mut h));
        let (e1, e2) = (h.wsa_create_event(), h.wsa_create_event());
        h.set_io_mode(armed, crate::model::IoMode::NonBlocking);
        let r = arm(&mut h, armed, None, Awaiting::AddressListChange);
        assert_eq!(r.returned().unwrap().error, ErrorCode::WSAEWOULDBLOCK);
        h.wsa_event_select(armed, e1, NetworkEvents::ADDRESS_LIST_CHANGE);
        h.wsa_event_select(idle, e2, NetworkEvents::ADDRESS_LIST_CHANGE);
        h.handle_net_change(add_addr("10.0.0.1/8")).unwrap();
        assert!(h.event_signaled(e1));
        assert!(!h.event_signaled(e2));
        let r = h.wsa_enum_network_events(armed, Some(e1)).unwrap();
        assert_eq!(r.events, NetworkEvents::ADDRESS_LIST_CHANGE);
        h.handle_net_change(add_addr("10.0.0.2/8")).unwrap();
        assert!(!h.event_signaled(e1), "the arming is used up");
    }

    #[test]
    fn bad_changes_are_refused_and_change_nothing() {
        let mut h = Host::default_host();
        let before = h.network().clone();
        assert!(h
            .handle_net_change(NetChange::SetInterface {
                name: "nope".into(),
                up: false
            })
            .unwrap_err()
            .contains("nope"));
        assert!(h
            .handle_net_change(NetChange::RemoveAddress {
                interface: "eth0".into(),
                address: IfAddress::parse("10.0.0.1/8").unwrap(),
            })
            .is_err());
        assert!(h.handle_net_change(add_addr("192.168.1.10/24")).is_err());
        assert!(h
            .handle_net_change(NetChange::RemoveInterface("wlan9".into()))
            .is_err());
        assert_eq!(h.network(), &before);
    }

    #[test]
    fn removing_an_interface_removes_its_routes() {
        let mut h = Host::default_host();
        h.handle_net_change(NetChange::RemoveInterface("eth0".into()))
            .unwrap();
        assert!(h.network().routes.is_empty());
        assert_eq!(
            chosen_interface(h.network(), "8.8.8.8".parse().unwrap()),
            None
        );
        assert_eq!(
            chosen_interface(h.network(), "127.0.0.1".parse().unwrap()),
            Some(1)
        );
    }

    #[test]
    fn a_down_interface_is_skipped_by_the_lookup() {
        let mut h = Host::default_host();
        let d: IpAddr = "8.8.8.8".parse().unwrap();
        assert_eq!(chosen_interface(h.network(), d), Some(2));
        h.handle_net_change(NetChange::SetInterface {
            name: "eth0".into(),
            up: false,
        })
        .unwrap();
        assert_eq!(chosen_interface(h.network(), d), None);
    }

    #[derive(Clone, Debug)]
    enum Step {
        /// Arm on socket (0..2): 0 address list, 1 routing wildcard, 2 routing 8.8.8.8;
        /// overlapped or blocking on a thread of its own.
        Arm {
            socket: usize,
            kind: u8,
            overlapped: bool,
        },
        Change(u8),
        Close(usize),
    }

    fn step() -> impl proptest::strategy::Strategy<Value = Step> {
        use proptest::prelude::*;
        prop_oneof![
            (0usize..2, 0u8..3, any::<bool>()).prop_map(|(socket, kind, overlapped)| Step::Arm {
                socket,
                kind,
                overlapped
            }),
            (0u8..6).prop_map(Step::Change),
            (0usize..2).prop_map(Step::Close),
        ]
    }

    fn change(n: u8) -> NetChange {
        match n {
            0 => add_addr("10.1.2.3/8"),
            1 => NetChange::RemoveAddress {
                interface: "eth0".into(),
                address: IfAddress::parse("10.1.2.3/8").unwrap(),
            },
            2 => NetChange::SetInterface {
                name: "eth0".into(),
                up: false,
            },
            3 => NetChange::SetInterface {
                name: "eth0".into(),
                up: true,
            },
            4 => NetChange::AddRoute {
                prefix: Prefix::parse("8.8.0.0/16").unwrap(),
                interface: "loopback".into(),
                gateway: None,
                metric: 1,
            },
            _ => NetChange::RemoveRoute {
                prefix: Prefix::parse("8.8.0.0/16").unwrap(),
                interface: "loopback".into(),
            },
        }
    }

    proptest::proptest! {
        /// After every change that applies, no wildcard request is left pending or
        /// blocked; closing every socket leaves nothing pending or blocked; a
        /// destination request completes only when its route moved.
        #[test]
        fn changes_and_closes_release_everything_they_should(
            steps in proptest::collection::vec(step(), 0..30)
        ) {
            let mut h = Host::default_host();
            let socks = [tcp(&mut h), tcp(&mut h)];
            let p = h.create_io_completion_port();
            h.associate_with_port(socks[0], p, 0).unwrap();
            let mut next = 1u64;
            let d: IpAddr = "8.8.8.8".parse().unwrap();
            for st in steps {
                match st {
                    Step::Arm { socket, kind, overlapped } => {
                        let s = socks[socket];
                        if h.socket(s).is_none() {
                            continue;
                        }
                        let awaiting = match kind {
                            0 => Awaiting::AddressListChange,
                            1 => routing("0.0.0.0:0"),
                            _ => routing("8.8.8.8:0"),
                        };
                        let t = ThreadId(next);
                        let mut call = IoctlCall::new(s, IoctlCode::SIO_ROUTING_INTERFACE_CHANGE).on_thread(t);
                        if overlapped {
                            call = call.overlapped(OverlappedId(next), None, None);
                        }
                        next += 1;
                        let _ = h.finish(call, Reply::Await(awaiting), overlapped);
                    }
                    Step::Change(n) => {
                        let before = chosen_interface(h.network(), d);
                        let pending_dest: Vec<OpId> = h.asyncs.ops.iter()
                            .filter(|(_, o)| matches!(o.state, OpState::Pending(Awaiting::RoutingInterfaceChange { destination: Some(x), .. }) if !x.ip().is_unspecified()))
                            .map(|(id, _)| *id).collect();
                        if h.handle_net_change(change(n)).is_err() {
                            continue;
                        }
                        let moved = before != chosen_interface(h.network(), d);
                        for id in pending_dest {
                            let done = !matches!(h.asyncs.ops[&id].state, OpState::Pending(_));
                            proptest::prop_assert_eq!(done, moved, "{} vs route moved", id);
                        }
                        for op in h.asyncs.ops.values() {
                            let wildcard = matches!(op.state, OpState::Pending(Awaiting::RoutingInterfaceChange { destination: Some(x), .. }) if x.ip().is_unspecified());
                            proptest::prop_assert!(!wildcard, "a wildcard request survived a change");
                        }
                        for b in h.asyncs.blocked.values() {
                            let wildcard = matches!(b, BlockedCall::Ioctl { awaiting: Awaiting::RoutingInterfaceChange { destination: Some(x), .. }, .. } if x.ip().is_unspecified());
                            proptest::prop_assert!(!wildcard, "a wildcard thread stayed blocked");
                        }
                    }
                    Step::Close(i) => {
                        h.closesocket(socks[i]);
                    }
                }
            }
            for s in socks {
                h.closesocket(s);
            }
            proptest::prop_assert!(h.asyncs.blocked.is_empty());
            proptest::prop_assert!(h.asyncs.ops.values().all(|o| !matches!(o.state, OpState::Pending(_))));
            let mut packets = 0;
            while h.get_queued_completion_status(ThreadId::MAIN, p, Timeout(0)).returned().unwrap().overlapped.is_some() {
                packets += 1;
            }
            let port_ops = h.asyncs.ops.values().filter(|o| matches!(o.delivery, crate::model::Delivery::Port { .. })).count();
            proptest::prop_assert_eq!(packets, port_ops);
        }
    }
}
