//! INTERFACE_INFO, one element of the array SIO_GET_INTERFACE_LIST returns.
//!
//! ```text
//! typedef struct _INTERFACE_INFO {
//!     ULONG iiFlags;                    // offset 0
//!     sockaddr_gen iiAddress;           // offset 4
//!     sockaddr_gen iiBroadcastAddress;  // offset 28
//!     sockaddr_gen iiNetmask;           // offset 52
//! } INTERFACE_INFO;                     // 76 bytes
//! ```
//!
//! `sockaddr_gen` is a 24-byte union of `sockaddr`, `sockaddr_in` and the
//! pre-RFC 2553 `sockaddr_in6_old` (family u16, port u16 big-endian, flowinfo
//! u32, 16-byte address, and no scope id). Its largest member is 4-byte
//! aligned, so the structure has no padding. An IPv4 address fills the first
//! 16 bytes and the last 8 are zero; an IPv6 address loses its scope id.

use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};

use super::sockaddr::{emit_sockaddr, parse_sockaddr, sockaddr_family, AF_INET, AF_INET6};
use super::{check_len, read_u16_be, read_u32, WireError};

/// The interface is up.
pub const IFF_UP: u32 = 0x01;
/// The interface supports broadcast.
pub const IFF_BROADCAST: u32 = 0x02;
/// The interface is the loopback interface.
pub const IFF_LOOPBACK: u32 = 0x04;
/// The interface is a point-to-point link.
pub const IFF_POINTTOPOINT: u32 = 0x08;
/// The interface supports multicast.
pub const IFF_MULTICAST: u32 = 0x10;

/// `sizeof(sockaddr_gen)`.
pub const SOCKADDR_GEN_LEN: usize = 24;

/// Appends `addr` as a 24-byte `sockaddr_gen`.
pub fn emit_sockaddr_gen(addr: &SocketAddr, out: &mut Vec<u8>) {
    match addr {
        SocketAddr::V4(_) => {
            emit_sockaddr(addr, out);
            out.extend_from_slice(&[0; 8]);
        }
        SocketAddr::V6(v6) => {
            out.extend_from_slice(&AF_INET6.to_le_bytes());
            out.extend_from_slice(&v6.port().to_be_bytes());
            out.extend_from_slice(&v6.flowinfo().to_le_bytes());
            out.extend_from_slice(&v6.ip().octets());
        }
    }
}

/// Parses a 24-byte `sockaddr_gen`; an IPv6 address comes back with scope id 0.
pub fn parse_sockaddr_gen(bytes: &[u8]) -> Result<SocketAddr, WireError> {
    check_len(bytes, SOCKADDR_GEN_LEN)?;
    match sockaddr_family(bytes).unwrap_or(0) {
        AF_INET => parse_sockaddr(bytes),
        AF_INET6 => {
            let port = read_u16_be(&bytes[2..]).unwrap_or(0);
            let flowinfo = read_u32(&bytes[4..]).unwrap_or(0);
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&bytes[8..24]);
            Ok(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(octets),
                port,
                flowinfo,
                0,
            )))
        }
        other => Err(WireError::UnknownFamily(other)),
    }
}

/// One interface as SIO_GET_INTERFACE_LIST reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterfaceInfo {
    /// `IFF_*` bits.
    pub flags: u32,
    /// INTERFACE_INFO's address.
    pub address: SocketAddr,
    /// INTERFACE_INFO's broadcast.
    pub broadcast: SocketAddr,
    /// INTERFACE_INFO's netmask.
    pub netmask: SocketAddr,
}

impl InterfaceInfo {
    /// `sizeof(INTERFACE_INFO)`.
    pub const LEN: usize = 4 + 3 * SOCKADDR_GEN_LEN;

    /// Appends the 76-byte structure.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.flags.to_le_bytes());
        emit_sockaddr_gen(&self.address, out);
        emit_sockaddr_gen(&self.broadcast, out);
        emit_sockaddr_gen(&self.netmask, out);
    }

    /// Parses one structure from the start of `bytes`.
    pub fn parse(bytes: &[u8]) -> Result<Self, WireError> {
        check_len(bytes, Self::LEN)?;
        Ok(InterfaceInfo {
            flags: read_u32(bytes).unwrap_or(0),
            address: parse_sockaddr_gen(&bytes[4..])?,
            broadcast: parse_sockaddr_gen(&bytes[4 + SOCKADDR_GEN_LEN..])?,
            netmask: parse_sockaddr_gen(&bytes[4 + 2 * SOCKADDR_GEN_LEN..])?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn emitted(info: &InterfaceInfo) -> Vec<u8> {
        let mut out = Vec::new();
        info.emit(&mut out);
        out
    }

    #[test]
    fn loopback_interface_is_these_76_bytes() {
        let info = InterfaceInfo {
            flags: IFF_UP | IFF_LOOPBACK | IFF_MULTICAST,
            address: "127.0.0.1:0".parse().unwrap(),
            broadcast: "255.255.255.255:0".parse().unwrap(),
            netmask: "255.0.0.0:0".parse().unwrap(),
        };
        let mut bytes = vec![0x15, 0, 0, 0];
        bytes.extend_from_slice(&[2, 0, 0, 0, 127, 0, 0, 1]);
        bytes.extend_from_slice(&[0; 16]);
        bytes.extend_from_slice(&[2, 0, 0, 0, 255, 255, 255, 255]);
        bytes.extend_from_slice(&[0; 16]);
        bytes.extend_from_slice(&[2, 0, 0, 0, 255, 0, 0, 0]);
        bytes.extend_from_slice(&[0; 16]);
        assert_eq!(bytes.len(), 76);
        assert_eq!(emitted(&info), bytes);
        assert_eq!(InterfaceInfo::parse(&bytes), Ok(info));
    }

    #[test]
    fn ipv6_sockaddr_gen_is_24_bytes_without_scope_id() {
        let addr = SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::LOCALHOST, 0x1234, 7, 9));
        let mut out = Vec::new();
        emit_sockaddr_gen(&addr, &mut out);
        #[rustfmt::skip]
        let bytes = [
            23, 0, 0x12, 0x34,
            7, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
        ];
        assert_eq!(out, bytes);
        let back = SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::LOCALHOST, 0x1234, 7, 0));
        assert_eq!(parse_sockaddr_gen(&bytes), Ok(back));
    }

    #[test]
    fn flag_values_match_ws2ipdef() {
        assert_eq!(
            [
                IFF_UP,
                IFF_BROADCAST,
                IFF_LOOPBACK,
                IFF_POINTTOPOINT,
                IFF_MULTICAST
            ],
            [1, 2, 4, 8, 16]
        );
    }

    #[test]
    fn an_unknown_family_in_any_slot_is_reported() {
        let info = InterfaceInfo {
            flags: 0,
            address: "10.0.0.1:0".parse().unwrap(),
            broadcast: "10.255.255.255:0".parse().unwrap(),
            netmask: "255.0.0.0:0".parse().unwrap(),
        };
        let mut bytes = emitted(&info);
        bytes[52] = 0;
        assert_eq!(
            InterfaceInfo::parse(&bytes),
            Err(WireError::UnknownFamily(0))
        );
    }

    /// Addresses a `sockaddr_gen` can carry: IPv6 without a scope id.
    fn gen_addrs() -> impl Strategy<Value = SocketAddr> {
        any::<SocketAddr>().prop_map(|a| match a {
            SocketAddr::V6(v6) => {
                SocketAddr::V6(SocketAddrV6::new(*v6.ip(), v6.port(), v6.flowinfo(), 0))
            }
            v4 => v4,
        })
    }

    fn infos() -> impl Strategy<Value = InterfaceInfo> {
        (any::<u32>(), gen_addrs(), gen_addrs(), gen_addrs()).prop_map(
            |(flags, address, broadcast, netmask)| InterfaceInfo {
                flags,
                address,
                broadcast,
                netmask,
            },
        )
    }

    proptest! {
        #[test]
        fn emit_then_parse_gives_back_the_interface(info in infos()) {
            let mut out = vec![0xee];
            info.emit(&mut out);
            prop_assert_eq!(out.len(), 1 + InterfaceInfo::LEN);
            prop_assert_eq!(InterfaceInfo::parse(&out[1..]), Ok(info));
        }

        #[test]
        fn every_truncated_prefix_is_reported_as_truncated(info in infos()) {
            let bytes = emitted(&info);
            for cut in 0..bytes.len() {
                prop_assert_eq!(
                    InterfaceInfo::parse(&bytes[..cut]),
                    Err(WireError::Truncated { needed: InterfaceInfo::LEN, got: cut })
                );
            }
        }

        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            let _ = InterfaceInfo::parse(&bytes);
        }
    }
}
