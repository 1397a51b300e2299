//! The host's network configuration: interfaces, their addresses, and the route table.
//!
//! Interfaces are kept in a `BTreeMap` by index so that every listing comes out in index
//! order. Routes are a `Vec` in insertion order; lookups use longest-prefix match, then
//! the lowest metric, then the lowest interface index, and skip interfaces that are down.
//! Every address prefix also routes on-link to its own interface (the scenario contract:
//! "on-link routes for every address prefix exist implicitly").
//!
//! # Route lookup
//!
//! [`Network::route`] answers "which interface and source address would the host use to
//! reach this destination". Candidates are, per family:
//! - every explicit [`Route`];
//! - the implicit on-link route of every interface address prefix, metric
//!   [`ON_LINK_METRIC`] (Windows gives on-link routes the base metric 256);
//! - on every non-loopback interface with an address of the family, implicit on-link
//!   routes for multicast (224.0.0.0/4, ff00::/8) and, for IPv4, the limited broadcast
//!   255.255.255.255/32, with metric `ON_LINK_METRIC` plus the metric of the interface's
//!   best default route (or [`NO_DEFAULT_ROUTE_METRIC`]), so that they prefer the
//!   interface the default route uses, as Windows' interface metrics do.
//!
//! The longest matching prefix wins; among routes of that length the lowest metric, then
//! the lowest interface index. A candidate is skipped when its interface is missing, down
//! or has no usable source address for the destination; the search then continues with
//! the next candidate and the shorter prefixes. Loopback destinations (127.0.0.0/8, ::1)
//! always use the first loopback-kind interface. With no usable route the error is
//! [`RouteError::NetworkDown`] when the family has at least one non-loopback interface
//! with an address and all of them are down, else [`RouteError::Unreachable`].
//!
//! Source address: among the chosen interface's addresses of the destination's family,
//! the first (in the interface's order) whose prefix contains the gateway (or, on-link,
//! the destination), else the first one. An IPv6 link-local address (fe80::/10) is a
//! source only for a link-local destination (fe80::/10, or multicast of interface- or
//! link-local scope); otherwise it is not usable. Choice (no evidence): this is a
//! simplification of RFC 6724 source selection, whose first rules (same address, scope)
//! it keeps.
//!
//! # The index
//!
//! Lookups go through a [`RouteIndex`]: per family, one sorted table of masked prefixes
//! per prefix length present, searched from the longest length down with a binary
//! search each. Interface state (up, addresses usable as sources) is read at lookup time,
//! so bringing an interface up or down needs no rebuild. The index is derived data: the
//! mutation methods ([`Network::add_route`], [`Network::add_address`], ...) mark it stale,
//! and [`Network::ensure_index`] (called when a host is built and after every host
//! change) or [`Network::rebuild_index`] rebuild it. A stale index is never used: `route` then scans
//! every candidate (correct, but linear). Code that edits the public fields in place
//! (changing a route's metric or an address without changing any count) must call
//! [`Network::invalidate_index`] or `rebuild_index` afterwards.

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
    /// The lookup index, derived from the fields above (see the module doc).
    index: RouteIndex,
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
        n.rebuild_index();
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
    /// Evidence: docs/evidence.md section 4 (Microsoft's SIO_ADDRESS_LIST_QUERY page): only the
    /// family's addresses; loopback and link-local addresses (IPv6: scope below subnet)
    /// are left out on software-loopback interfaces, kept elsewhere. Choice (no
    /// evidence): interfaces that are down are left out, following docs/evidence.md's
    /// inference from the DAD-state rule.
    pub fn bindable_addresses(&self, v6: bool) -> Vec<IpAddr> {
        self.bindable(v6).map(|(_, a)| a).collect()
    }

    /// The bindable addresses of a family with the index of the interface holding each,
    /// in interface-index order, then the order the addresses were added.
    pub fn bindable(&self, v6: bool) -> impl Iterator<Item = (u32, IpAddr)> + '_ {
        self.interfaces
            .values()
            .filter(|i| i.up)
            .flat_map(|i| i.addresses.iter().map(move |a| (i.index, i.kind, a.addr)))
            .filter(move |(_, kind, a)| {
                a.is_ipv6() == v6 && (*kind != InterfaceKind::Loopback || !is_local_scope(*a))
            })
            .map(|(index, _, a)| (index, a))
    }
}

/// Loopback or link-local: the scopes a software-loopback interface does not list.
fn is_local_scope(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(a) => a.is_loopback() || a.is_link_local(),
        IpAddr::V6(a) => a.is_loopback() || (a.segments()[0] & 0xffc0) == 0xfe80,
    }
}

/// The metric of the implicit on-link routes (Windows' base metric for on-link routes).
pub const ON_LINK_METRIC: u32 = 256;

/// The interface metric assumed for an interface that carries no default route, when
/// ranking the implicit multicast and broadcast routes.
pub const NO_DEFAULT_ROUTE_METRIC: u32 = 1000;

/// True for destinations whose IPv6 scope is link-local or smaller: fe80::/10, and
/// multicast of interface-local (ff?1) or link-local (ff?2) scope. IPv4: 169.254.0.0/16.
pub fn is_link_local_scope(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.is_link_local(),
        IpAddr::V6(a) => {
            let seg = a.segments()[0];
            (seg & 0xffc0) == 0xfe80 || ((seg & 0xff00) == 0xff00 && matches!(seg & 0x000f, 1 | 2))
        }
    }
}

fn is_v6_link_local_unicast(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V6(a) if (a.segments()[0] & 0xffc0) == 0xfe80)
}

/// An address as a 128-bit key (IPv4 in the low 32 bits) and the mask of a length.
fn key_of(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn mask_of(v4: bool, len: u8) -> u128 {
    if v4 {
        u128::from(prefix_mask_v4(len))
    } else {
        prefix_mask_v6(len)
    }
}

/// One candidate route, explicit or implicit, as the index stores it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Entry {
    key: u128,
    len: u8,
    metric: u32,
    interface: u32,
    gateway: Option<IpAddr>,
}

/// One prefix length's sorted table: `keys[i]` is a masked prefix whose candidates are
/// `cands[starts[i]..starts[i + 1]]`, in (metric, interface index) order.
#[derive(Clone, Default)]
struct Level {
    mask: u128,
    keys: Vec<u128>,
    starts: Vec<u32>,
}

#[derive(Clone, Default)]
struct FamilyTable {
    /// Longest prefix length first.
    levels: Vec<Level>,
    cands: Vec<Entry>,
}

/// What the index was built from, to detect edits made behind its back.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Stamp {
    routes: usize,
    interfaces: usize,
    addresses: usize,
}

/// The route lookup index of a [`Network`] (see the module doc). Derived data: two
/// networks compare equal whatever their indexes hold.
#[derive(Clone, Default)]
pub struct RouteIndex {
    v4: FamilyTable,
    v6: FamilyTable,
    /// `None` until built, and after a mutation.
    built_from: Option<Stamp>,
}

impl PartialEq for RouteIndex {
    fn eq(&self, _: &RouteIndex) -> bool {
        true
    }
}

impl Eq for RouteIndex {}

impl fmt::Debug for RouteIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteIndex")
            .field("built", &self.built_from.is_some())
            .field("v4_entries", &self.v4.cands.len())
            .field("v6_entries", &self.v6.cands.len())
            .finish()
    }
}

impl FamilyTable {
    /// Builds the table from entries of one family.
    fn build(mut entries: Vec<Entry>, v4: bool) -> FamilyTable {
        // Stable: equal candidates keep insertion order, as the linear scan does.
        entries.sort_by(|a, b| {
            b.len
                .cmp(&a.len)
                .then(a.key.cmp(&b.key))
                .then(a.metric.cmp(&b.metric))
                .then(a.interface.cmp(&b.interface))
        });
        let mut levels: Vec<Level> = Vec::new();
        let mut last: Option<(u8, u128)> = None;
        for (i, e) in entries.iter().enumerate() {
            if levels.is_empty() || last.map(|(l, _)| l) != Some(e.len) {
                if let Some(level) = levels.last_mut() {
                    level.starts.push(i as u32);
                }
                levels.push(Level {
                    mask: mask_of(v4, e.len),
                    keys: Vec::new(),
                    starts: Vec::new(),
                });
                last = None;
            }
            if last != Some((e.len, e.key)) {
                let level = levels.last_mut().expect("invariant: a level was pushed");
                level.keys.push(e.key);
                level.starts.push(i as u32);
                last = Some((e.len, e.key));
            }
        }
        if let Some(level) = levels.last_mut() {
            level.starts.push(entries.len() as u32);
        }
        FamilyTable {
            levels,
            cands: entries,
        }
    }
}

impl Network {
    fn stamp(&self) -> Stamp {
        Stamp {
            routes: self.routes.len(),
            interfaces: self.interfaces.len(),
            addresses: self.interfaces.values().map(|i| i.addresses.len()).sum(),
        }
    }

    /// True when the index matches the current interfaces and routes.
    pub fn index_is_fresh(&self) -> bool {
        self.index.built_from == Some(self.stamp())
    }

    /// Marks the index stale; the next `ensure_index` rebuilds it.
    pub fn invalidate_index(&mut self) {
        self.index.built_from = None;
    }

    /// Rebuilds the lookup index from the interfaces and routes.
    pub fn rebuild_index(&mut self) {
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for (is_v4, e) in self.entries() {
            if is_v4 {
                v4.push(e);
            } else {
                v6.push(e);
            }
        }
        self.index = RouteIndex {
            v4: FamilyTable::build(v4, true),
            v6: FamilyTable::build(v6, false),
            built_from: Some(self.stamp()),
        };
    }

    /// Rebuilds the index if it is stale; cheap when it is fresh.
    pub fn ensure_index(&mut self) {
        if !self.index_is_fresh() {
            self.rebuild_index();
        }
    }

    /// Every candidate route, tagged with its family (true: IPv4), explicit routes first
    /// in table order, then the implicit ones in interface order.
    fn entries(&self) -> Vec<(bool, Entry)> {
        let mut out = Vec::with_capacity(self.routes.len() + 4 * self.interfaces.len());
        for r in &self.routes {
            out.push((
                r.prefix.addr.is_ipv4(),
                Entry {
                    key: key_of(r.prefix.addr),
                    len: r.prefix.len,
                    metric: r.metric,
                    interface: r.interface,
                    gateway: r.gateway,
                },
            ));
        }
        for iface in self.interfaces.values() {
            for a in &iface.addresses {
                let p = a.network();
                out.push((
                    p.addr.is_ipv4(),
                    Entry {
                        key: key_of(p.addr),
                        len: p.len,
                        metric: ON_LINK_METRIC,
                        interface: iface.index,
                        gateway: None,
                    },
                ));
            }
            if iface.kind == InterfaceKind::Loopback {
                continue;
            }
            for v4 in [true, false] {
                if !iface.addresses.iter().any(|a| a.addr.is_ipv4() == v4) {
                    continue;
                }
                let default_metric = self
                    .routes
                    .iter()
                    .filter(|r| {
                        r.interface == iface.index
                            && r.prefix.len == 0
                            && r.prefix.addr.is_ipv4() == v4
                    })
                    .map(|r| r.metric)
                    .min()
                    .unwrap_or(NO_DEFAULT_ROUTE_METRIC);
                let metric = ON_LINK_METRIC.saturating_add(default_metric);
                let implicit: &[(u128, u8)] = if v4 {
                    &[(0xe000_0000, 4), (0xffff_ffff, 32)]
                } else {
                    &[(0xff00 << 112, 8)]
                };
                for &(key, len) in implicit {
                    out.push((
                        v4,
                        Entry {
                            key,
                            len,
                            metric,
                            interface: iface.index,
                            gateway: None,
                        },
                    ));
                }
            }
        }
        out
    }

    /// The address of interface `index` the host would send from to `dest` through
    /// `gateway`, if the interface is up and has one (see the module doc).
    fn usable_source(&self, index: u32, dest: IpAddr, gateway: Option<IpAddr>) -> Option<IpAddr> {
        let iface = self.interfaces.get(&index)?;
        if !iface.up {
            return None;
        }
        let link_local_dest = is_link_local_scope(dest);
        let target = gateway.unwrap_or(dest);
        let mut first = None;
        for a in &iface.addresses {
            if a.addr.is_ipv4() != dest.is_ipv4()
                || (is_v6_link_local_unicast(a.addr) && !link_local_dest)
            {
                continue;
            }
            if a.network().contains(target) {
                return Some(a.addr);
            }
            first.get_or_insert(a.addr);
        }
        first
    }

    /// `route`: the interface and source address the host would use to reach `dest`
    /// (longest prefix, then metric, then interface index; see the module doc).
    pub fn route(&self, dest: IpAddr) -> Result<RouteChoice, RouteError> {
        if dest.is_loopback() {
            return self.route_loopback(dest);
        }
        let found = if self.index_is_fresh() {
            self.route_indexed(dest)
        } else {
            self.route_linear(dest)
        };
        found.ok_or_else(|| self.no_route_error(dest))
    }

    fn route_indexed(&self, dest: IpAddr) -> Option<RouteChoice> {
        let table = if dest.is_ipv4() {
            &self.index.v4
        } else {
            &self.index.v6
        };
        let key = key_of(dest);
        for level in &table.levels {
            let Ok(i) = level.keys.binary_search(&(key & level.mask)) else {
                continue;
            };
            let span = level.starts[i] as usize..level.starts[i + 1] as usize;
            for c in &table.cands[span] {
                if let Some(source) = self.usable_source(c.interface, dest, c.gateway) {
                    return Some(RouteChoice {
                        interface: c.interface,
                        source,
                        gateway: c.gateway,
                    });
                }
            }
        }
        None
    }

    /// The same answer as the index, by scanning every candidate.
    fn route_linear(&self, dest: IpAddr) -> Option<RouteChoice> {
        let key = key_of(dest);
        let v4 = dest.is_ipv4();
        let mut best: Option<(Entry, IpAddr)> = None;
        for (fam, e) in self.entries() {
            if fam != v4 || key & mask_of(v4, e.len) != e.key & mask_of(v4, e.len) {
                continue;
            }
            let better = match &best {
                None => true,
                Some((b, _)) => {
                    (std::cmp::Reverse(e.len), e.metric, e.interface)
                        < (std::cmp::Reverse(b.len), b.metric, b.interface)
                }
            };
            if !better {
                continue;
            }
            if let Some(src) = self.usable_source(e.interface, dest, e.gateway) {
                best = Some((e, src));
            }
        }
        best.map(|(e, source)| RouteChoice {
            interface: e.interface,
            source,
            gateway: e.gateway,
        })
    }

    fn route_loopback(&self, dest: IpAddr) -> Result<RouteChoice, RouteError> {
        let lo = self.interfaces.values().find(|i| {
            i.kind == InterfaceKind::Loopback
                && i.addresses
                    .iter()
                    .any(|a| a.addr.is_ipv4() == dest.is_ipv4())
        });
        let Some(lo) = lo else {
            return Err(RouteError::Unreachable);
        };
        match self.usable_source(lo.index, dest, None) {
            Some(source) => Ok(RouteChoice {
                interface: lo.index,
                source,
                gateway: None,
            }),
            None => Err(RouteError::NetworkDown),
        }
    }

    fn no_route_error(&self, dest: IpAddr) -> RouteError {
        let mut any = false;
        for i in self.interfaces.values() {
            if i.kind == InterfaceKind::Loopback
                || !i
                    .addresses
                    .iter()
                    .any(|a| a.addr.is_ipv4() == dest.is_ipv4())
            {
                continue;
            }
            if i.up {
                return RouteError::Unreachable;
            }
            any = true;
        }
        if any {
            RouteError::NetworkDown
        } else {
            RouteError::Unreachable
        }
    }

    /// Adds an interface; false (and no change) when its index is taken.
    pub fn add_interface(&mut self, iface: Interface) -> bool {
        if self.interfaces.contains_key(&iface.index) {
            return false;
        }
        self.interfaces.insert(iface.index, iface);
        self.invalidate_index();
        true
    }

    /// Removes an interface with its routes.
    pub fn remove_interface(&mut self, index: u32) -> Option<Interface> {
        let removed = self.interfaces.remove(&index)?;
        self.routes.retain(|r| r.interface != index);
        self.invalidate_index();
        Some(removed)
    }

    /// Brings an interface up or down; false when there is no such interface. The index
    /// reads interface state at lookup time, so it stays fresh.
    pub fn set_interface_up(&mut self, index: u32, up: bool) -> bool {
        match self.interfaces.get_mut(&index) {
            Some(i) => {
                i.up = up;
                true
            }
            None => false,
        }
    }

    /// Adds an address to an interface; false when there is no such interface or it
    /// already holds the address.
    pub fn add_address(&mut self, index: u32, address: IfAddress) -> bool {
        let Some(i) = self.interfaces.get_mut(&index) else {
            return false;
        };
        if i.addresses.contains(&address) {
            return false;
        }
        i.addresses.push(address);
        self.invalidate_index();
        true
    }

    /// Removes an address from an interface; false when it was not there.
    pub fn remove_address(&mut self, index: u32, address: IfAddress) -> bool {
        let Some(i) = self.interfaces.get_mut(&index) else {
            return false;
        };
        let before = i.addresses.len();
        i.addresses.retain(|a| *a != address);
        let changed = i.addresses.len() != before;
        if changed {
            self.invalidate_index();
        }
        changed
    }

    /// Adds a route at the end of the table.
    pub fn add_route(&mut self, route: Route) {
        self.routes.push(route);
        self.invalidate_index();
    }

    /// Removes every route with this prefix on this interface; false when none matched.
    pub fn remove_route(&mut self, prefix: Prefix, interface: u32) -> bool {
        let before = self.routes.len();
        self.routes
            .retain(|r| !(r.prefix == prefix && r.interface == interface));
        let changed = self.routes.len() != before;
        if changed {
            self.invalidate_index();
        }
        changed
    }

    /// Sets the metric of every route with this prefix on this interface; false when
    /// none matched.
    pub fn set_route_metric(&mut self, prefix: Prefix, interface: u32, metric: u32) -> bool {
        let mut changed = false;
        for r in self
            .routes
            .iter_mut()
            .filter(|r| r.prefix == prefix && r.interface == interface)
        {
            r.metric = metric;
            changed = true;
        }
        if changed {
            self.invalidate_index();
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn route(prefix: &str, gateway: Option<&str>, interface: u32, metric: u32) -> Route {
        Route {
            prefix: Prefix::parse(prefix).unwrap(),
            gateway: gateway.map(ip),
            interface,
            metric,
        }
    }

    fn eth(index: u32, addresses: &[&str]) -> Interface {
        Interface {
            index,
            name: format!("eth{index}"),
            kind: InterfaceKind::Ethernet,
            up: true,
            addresses: addresses
                .iter()
                .map(|a| IfAddress::parse(a).unwrap())
                .collect(),
        }
    }

    #[test]
    fn the_default_host_reaches_the_internet_through_eth0() {
        let n = Network::default_host();
        assert!(n.index_is_fresh());
        let c = n.route(ip("8.8.8.8")).unwrap();
        assert_eq!(c.interface, 2);
        assert_eq!(c.source, ip("192.168.1.10"));
        assert_eq!(c.gateway, Some(ip("192.168.1.1")));
    }

    #[test]
    fn an_on_link_destination_has_no_gateway() {
        let c = Network::default_host().route(ip("192.168.1.77")).unwrap();
        assert_eq!((c.interface, c.gateway), (2, None));
    }

    #[test]
    fn loopback_destinations_use_the_loopback_interface() {
        let n = Network::default_host();
        let c = n.route(ip("127.0.0.5")).unwrap();
        assert_eq!((c.interface, c.source), (1, ip("127.0.0.1")));
        let c = n.route(ip("::1")).unwrap();
        assert_eq!((c.interface, c.source), (1, ip("::1")));
    }

    #[test]
    fn a_longer_prefix_beats_the_default_route() {
        let mut n = Network::default_host();
        n.add_interface(eth(3, &["10.9.0.2/16"]));
        n.add_route(route("10.0.0.0/8", Some("10.9.0.1"), 3, 50));
        n.ensure_index();
        let c = n.route(ip("10.200.1.1")).unwrap();
        assert_eq!((c.interface, c.source), (3, ip("10.9.0.2")));
    }

    #[test]
    fn equal_prefixes_go_to_the_lowest_metric_then_the_lowest_index() {
        let mut n = Network::default_host();
        n.add_interface(eth(3, &["10.9.0.2/16"]));
        n.add_interface(eth(4, &["10.8.0.2/16"]));
        n.add_route(route("20.0.0.0/8", Some("10.9.0.1"), 3, 10));
        n.add_route(route("20.0.0.0/8", Some("10.8.0.1"), 4, 5));
        n.ensure_index();
        assert_eq!(n.route(ip("20.1.1.1")).unwrap().interface, 4);
        n.set_route_metric(Prefix::parse("20.0.0.0/8").unwrap(), 4, 10);
        n.ensure_index();
        assert_eq!(n.route(ip("20.1.1.1")).unwrap().interface, 3);
    }

    #[test]
    fn a_down_interface_is_skipped_for_a_shorter_prefix() {
        let mut n = Network::default_host();
        n.add_interface(eth(3, &["10.9.0.2/16"]));
        n.add_route(route("20.0.0.0/8", Some("10.9.0.1"), 3, 10));
        n.ensure_index();
        n.set_interface_up(3, false);
        assert!(n.index_is_fresh());
        let c = n.route(ip("20.1.1.1")).unwrap();
        assert_eq!((c.interface, c.gateway), (2, Some(ip("192.168.1.1"))));
    }

    #[test]
    fn every_interface_of_the_family_down_is_network_down() {
        let mut n = Network::default_host();
        n.set_interface_up(2, false);
        assert_eq!(n.route(ip("8.8.8.8")), Err(RouteError::NetworkDown));
        // The loopback interface still answers for its own destinations.
        assert!(n.route(ip("127.0.0.1")).is_ok());
    }

    #[test]
    fn no_matching_route_is_unreachable() {
        let mut n = Network::default_host();
        n.remove_route(Prefix::parse("0.0.0.0/0").unwrap(), 2);
        n.ensure_index();
        assert_eq!(n.route(ip("8.8.8.8")), Err(RouteError::Unreachable));
        // IPv6 global: eth0 only has a link-local address.
        assert_eq!(
            Network::default_host().route(ip("2001:db8::1")),
            Err(RouteError::Unreachable)
        );
    }

    #[test]
    fn link_local_sources_serve_only_link_local_destinations() {
        let mut n = Network::default_host();
        let c = n.route(ip("fe80::99")).unwrap();
        assert_eq!((c.interface, c.source), (2, ip("fe80::10")));
        n.add_route(route("::/0", Some("fe80::1"), 2, 10));
        n.ensure_index();
        assert_eq!(n.route(ip("2001:db8::1")), Err(RouteError::Unreachable));
        n.add_address(2, IfAddress::parse("2001:db8:1::10/64").unwrap());
        n.ensure_index();
        assert_eq!(
            n.route(ip("2001:db8::1")).unwrap().source,
            ip("2001:db8:1::10")
        );
    }

    #[test]
    fn the_source_is_the_address_whose_prefix_holds_the_gateway() {
        let mut n = Network::default_host();
        n.add_address(2, IfAddress::parse("10.0.0.10/24").unwrap());
        n.add_route(route("30.0.0.0/8", Some("10.0.0.1"), 2, 1));
        n.ensure_index();
        assert_eq!(n.route(ip("30.0.0.1")).unwrap().source, ip("10.0.0.10"));
        assert_eq!(n.route(ip("8.8.8.8")).unwrap().source, ip("192.168.1.10"));
    }

    #[test]
    fn multicast_and_broadcast_leave_by_the_default_route_interface() {
        let mut n = Network::default_host();
        n.add_interface(eth(3, &["172.16.0.2/16"]));
        n.ensure_index();
        assert_eq!(n.route(ip("224.0.0.251")).unwrap().interface, 2);
        assert_eq!(n.route(ip("255.255.255.255")).unwrap().interface, 2);
        n.set_interface_up(2, false);
        assert_eq!(n.route(ip("255.255.255.255")).unwrap().interface, 3);
    }

    #[test]
    fn a_stale_index_is_never_used() {
        let mut n = Network::default_host();
        n.interfaces.insert(3, eth(3, &["10.9.0.2/16"]));
        n.routes.push(route("20.0.0.0/8", Some("10.9.0.1"), 3, 10));
        assert!(!n.index_is_fresh());
        assert_eq!(n.route(ip("20.1.1.1")).unwrap().interface, 3);
        n.ensure_index();
        assert!(n.index_is_fresh());
        assert_eq!(n.route(ip("20.1.1.1")).unwrap().interface, 3);
    }

    #[test]
    fn removing_an_interface_removes_its_routes() {
        let mut n = Network::default_host();
        n.add_interface(eth(3, &["10.9.0.2/16"]));
        n.add_route(route("20.0.0.0/8", Some("10.9.0.1"), 3, 10));
        assert!(n.remove_interface(3).is_some());
        assert_eq!(n.routes.len(), 1);
        assert!(!n.add_interface(eth(2, &[])), "index 2 is taken");
    }

    fn arb_network() -> impl Strategy<Value = (Network, Vec<IpAddr>)> {
        let iface = (
            proptest::collection::vec((any::<u8>(), 8u8..=32), 0..3),
            any::<bool>(),
        );
        let rt = (any::<u8>(), 0u8..=24, 1u32..=4, 0u32..4);
        (
            proptest::collection::vec(iface, 1..4),
            proptest::collection::vec(rt, 0..40),
            proptest::collection::vec(any::<u16>(), 1..20),
        )
            .prop_map(|(ifaces, routes, dests)| {
                let mut n = Network::default_host();
                for (i, (addrs, up)) in ifaces.into_iter().enumerate() {
                    let index = i as u32 + 3;
                    let mut e = eth(index, &[]);
                    e.up = up;
                    for (b, len) in addrs {
                        e.addresses.push(IfAddress {
                            addr: IpAddr::V4(Ipv4Addr::new(10, b & 7, b >> 3, 1)),
                            prefix: len,
                        });
                    }
                    n.add_interface(e);
                }
                for (b, len, interface, metric) in routes {
                    let addr = IpAddr::V4(Ipv4Addr::new(10, b & 7, b >> 3, 0));
                    n.add_route(Route {
                        prefix: Prefix::new(addr, len),
                        gateway: None,
                        interface: interface + 1,
                        metric,
                    });
                }
                let dests = dests
                    .into_iter()
                    .map(|d| IpAddr::V4(Ipv4Addr::new(10, (d & 7) as u8, (d >> 3) as u8, 9)))
                    .collect();
                (n, dests)
            })
    }

    proptest! {
        #[test]
        fn the_index_agrees_with_the_linear_scan((net, dests) in arb_network()) {
            let mut indexed = net.clone();
            indexed.ensure_index();
            prop_assert!(indexed.index_is_fresh());
            prop_assert!(!net.index_is_fresh());
            for d in dests {
                prop_assert_eq!(indexed.route(d), net.route(d), "destination {}", d);
            }
        }
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
