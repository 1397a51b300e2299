//! The host's network configuration: interfaces, their addresses, and the route table.
//!
//! Interfaces are kept in a `BTreeMap` by index so that every listing comes out in index
//! order. Routes are a `Vec` in insertion order; lookups use longest-prefix match, then
//! the lowest metric, then the lowest interface index, and skip interfaces that are down.
//! Every address prefix also routes on-link to its own interface (the scenario contract:
//! "on-link routes for every address prefix exist implicitly").

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The kind of an interface, as Windows' interface types distinguish them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum InterfaceKind {
    /// The software loopback interface.
    Loopback,
    /// Wired Ethernet.
    Ethernet,
    /// IEEE 802.11 wireless.
    Wireless,
    /// A tunnel (point-to-point).
    Tunnel,
}

impl InterfaceKind {
    /// Parses the scenario spelling.
    pub fn parse(s: &str) -> Option<InterfaceKind> {
        Some(match s {
            "loopback" => InterfaceKind::Loopback,
            "ethernet" => InterfaceKind::Ethernet,
            "wireless" => InterfaceKind::Wireless,
            "tunnel" => InterfaceKind::Tunnel,
            _ => return None,
        })
    }
}

/// An address with its prefix length, such as `192.168.1.10/24`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct IfAddress {
    /// The address itself.
    pub addr: IpAddr,
    /// The on-link prefix length.
    pub prefix: u8,
}

impl IfAddress {
    /// Parses `addr/prefix`; a bare address gets the full-length prefix.
    pub fn parse(s: &str) -> Option<IfAddress> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.trim().parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.trim().parse::<u8>().ok().filter(|&p| p <= max)?,
            None => max,
        };
        Some(IfAddress { addr, prefix })
    }

    /// The subnet's directed broadcast address (IPv4 only).
    pub fn broadcast(&self) -> Option<Ipv4Addr> {
        match self.addr {
            IpAddr::V4(a) => {
                let mask = prefix_mask_v4(self.prefix);
                Some(Ipv4Addr::from(u32::from(a) | !mask))
            }
            IpAddr::V6(_) => None,
        }
    }

    /// The subnet mask (IPv4) as an address.
    pub fn netmask_v4(&self) -> Option<Ipv4Addr> {
        match self.addr {
            IpAddr::V4(_) => Some(Ipv4Addr::from(prefix_mask_v4(self.prefix))),
            IpAddr::V6(_) => None,
        }
    }

    /// The network prefix this address lives in.
    pub fn network(&self) -> Prefix {
        Prefix::new(self.addr, self.prefix)
    }
}

impl fmt::Display for IfAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// The IPv4 mask of a prefix length.
pub fn prefix_mask_v4(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix.min(32)))
    }
}

/// The IPv6 mask of a prefix length.
pub fn prefix_mask_v6(prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(prefix.min(128)))
    }
}

/// A network prefix, stored masked (host bits zero).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Prefix {
    /// The network address, host bits cleared.
    pub addr: IpAddr,
    /// The prefix length.
    pub len: u8,
}

impl Prefix {
    /// Builds a prefix, clearing the host bits of `addr`.
    pub fn new(addr: IpAddr, len: u8) -> Prefix {
        let addr = match addr {
            IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(u32::from(a) & prefix_mask_v4(len))),
            IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a) & prefix_mask_v6(len))),
        };
        Prefix { addr, len }
    }

    /// Parses `addr/len`.
    pub fn parse(s: &str) -> Option<Prefix> {
        let a = IfAddress::parse(s)?;
        Some(Prefix::new(a.addr, a.prefix))
    }

    /// True when `ip` lies inside the prefix (same family only).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(p), IpAddr::V4(a)) => {
                u32::from(a) & prefix_mask_v4(self.len) == u32::from(p)
            }
            (IpAddr::V6(p), IpAddr::V6(a)) => {
                u128::from(a) & prefix_mask_v6(self.len) == u128::from(p)
            }
            _ => false,
        }
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// One network interface.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Interface {
    /// The interface index (unique, non-zero).
    pub index: u32,
    /// The name scenarios use for it.
    pub name: String,
    /// What kind of link it is.
    pub kind: InterfaceKind,
    /// Whether the interface is operationally up.
    pub up: bool,
    /// Its addresses, IPv4 and IPv6, in the order they were added.
    pub addresses: Vec<IfAddress>,
}

/// One route of the table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Route {
    /// The destination prefix.
    pub prefix: Prefix,
    /// The next hop, or `None` for an on-link route.
    pub gateway: Option<IpAddr>,
    /// The index of the interface the route leaves through.
    pub interface: u32,
    /// Lower wins among routes of the same prefix length.
    pub metric: u32,
}

/// The host's interfaces and routes.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Network {
    /// Interfaces by index.
    pub interfaces: BTreeMap<u32, Interface>,
    /// Explicit routes, in the order they were added.
    pub routes: Vec<Route>,
}

/// The result of a route lookup.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct RouteChoice {
    /// The interface index chosen.
    pub interface: u32,
    /// The local address the host would send from.
    pub source: IpAddr,
    /// The next hop, if the destination is not on-link.
    pub gateway: Option<IpAddr>,
}

/// Why a lookup found no route.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RouteError {
    /// No route reaches the destination (WSAENETUNREACH).
    Unreachable,
    /// Every interface of the family is down (WSAENETDOWN).
    NetworkDown,
}

impl Network {
    /// The default host of the scenario contract: loopback (index 1: 127.0.0.1/8, ::1/128)
    /// and eth0 (index 2: 192.168.1.10/24, fe80::10/64) with a default route through
    /// 192.168.1.1 on eth0, metric 25.
    pub fn default_host() -> Network {
        let mut n = Network::default();
        n.interfaces.insert(
            1,
            Interface {
                index: 1,
                name: "loopback".into(),
                kind: InterfaceKind::Loopback,
                up: true,
                addresses: vec![
                    IfAddress::parse("127.0.0.1/8").expect("literal"),
                    IfAddress::parse("::1/128").expect("literal"),
                ],
            },
        );
        n.interfaces.insert(
            2,
            Interface {
                index: 2,
                name: "eth0".into(),
                kind: InterfaceKind::Ethernet,
                up: true,
                addresses: vec![
                    IfAddress::parse("192.168.1.10/24").expect("literal"),
                    IfAddress::parse("fe80::10/64").expect("literal"),
                ],
            },
        );
        n.routes.push(Route {
            prefix: Prefix::parse("0.0.0.0/0").expect("literal"),
            gateway: Some("192.168.1.1".parse().expect("literal")),
            interface: 2,
            metric: 25,
        });
        n
    }

    /// The interface of that name.
    pub fn interface_by_name(&self, name: &str) -> Option<&Interface> {
        self.interfaces.values().find(|i| i.name == name)
    }

    /// The interface holding this local address.
    pub fn interface_of_address(&self, ip: IpAddr) -> Option<&Interface> {
        self.interfaces
            .values()
            .find(|i| i.addresses.iter().any(|a| a.addr == ip))
    }

    /// True when `ip` is an address of some interface (up or down).
    pub fn is_local_address(&self, ip: IpAddr) -> bool {
        self.interface_of_address(ip).is_some()
    }

    /// The bindable addresses of one family, in interface-index order and then in the
    /// order each interface got them. This one rule decides what SIO_ADDRESS_LIST_QUERY
    /// lists and when SIO_ADDRESS_LIST_CHANGE completes (the list differs before and
    /// after a host change).
    ///
    /// Evidence: facts.md section 4 (Microsoft's SIO_ADDRESS_LIST_QUERY page): only the
    /// family's addresses; loopback and link-local addresses (IPv6: scope below subnet)
    /// are left out on software-loopback interfaces, kept elsewhere. Choice (no
    /// evidence): interfaces that are down are left out, following facts.md's
    /// inference from the DAD-state rule.
    pub fn bindable_addresses(&self, v6: bool) -> Vec<IpAddr> {
        self.interfaces
            .values()
            .filter(|i| i.up)
            .flat_map(|i| {
                i.addresses
                    .iter()
                    .map(|a| a.addr)
                    .filter(move |a| i.kind != InterfaceKind::Loopback || !is_local_scope(*a))
            })
            .filter(|a| a.is_ipv6() == v6)
            .collect()
    }
}

/// Loopback or link-local: the scopes a software-loopback interface does not list.
fn is_local_scope(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(a) => a.is_loopback() || a.is_link_local(),
        IpAddr::V6(a) => a.is_loopback() || (a.segments()[0] & 0xffc0) == 0xfe80,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slash_24_has_its_broadcast_at_dot_255() {
        let a = IfAddress::parse("192.168.1.10/24").unwrap();
        assert_eq!(a.broadcast(), Some(Ipv4Addr::new(192, 168, 1, 255)));
        assert_eq!(a.netmask_v4(), Some(Ipv4Addr::new(255, 255, 255, 0)));
    }

    #[test]
    fn a_prefix_contains_only_its_own_family() {
        let p = Prefix::parse("10.0.0.0/8").unwrap();
        assert!(p.contains("10.1.2.3".parse().unwrap()));
        assert!(!p.contains("11.0.0.1".parse().unwrap()));
        assert!(!p.contains("::1".parse().unwrap()));
    }

    #[test]
    fn prefixes_are_stored_masked() {
        assert_eq!(
            Prefix::parse("10.1.2.3/8").unwrap().to_string(),
            "10.0.0.0/8"
        );
    }

    #[test]
    fn bindable_addresses_leave_out_loopback_and_down_interfaces() {
        let mut n = Network::default_host();
        assert_eq!(
            n.bindable_addresses(false),
            vec!["192.168.1.10".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(
            n.bindable_addresses(true),
            vec!["fe80::10".parse::<IpAddr>().unwrap()]
        );
        n.interfaces.get_mut(&2).unwrap().up = false;
        assert!(n.bindable_addresses(false).is_empty());
    }

    #[test]
    fn bad_address_texts_are_refused() {
        assert!(IfAddress::parse("10.0.0.1/33").is_none());
        assert!(IfAddress::parse("banana").is_none());
    }
}
