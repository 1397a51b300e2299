//! SOCKADDR_IN and SOCKADDR_IN6, with [`std::net::SocketAddr`] as the parsed form.
//!
//! SOCKADDR_IN (16 bytes): `sin_family` u16 = AF_INET (2) at 0, `sin_port` u16
//! big-endian at 2, `sin_addr` 4 bytes at 4, `sin_zero` 8 bytes at 8.
//!
//! SOCKADDR_IN6 (28 bytes): `sin6_family` u16 = AF_INET6 (23 on Windows, not
//! Linux's 10) at 0, `sin6_port` u16 big-endian at 2, `sin6_flowinfo` u32 at 4,
//! `sin6_addr` 16 bytes at 8, `sin6_scope_id` u32 at 24. Flowinfo and scope id
//! are stored as Rust's std stores them on Windows: the raw field value, so
//! little-endian on x86/x64.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use super::{check_len, read_u16, read_u16_be, read_u32, WireError};

/// No address family: what an all-zero sockaddr holds.
pub const AF_UNSPEC: u16 = 0;
/// IPv4.
pub const AF_INET: u16 = 2;
/// IPv6, with its Windows value.
pub const AF_INET6: u16 = 23;
/// `sizeof(SOCKADDR_IN)`.
pub const SOCKADDR_IN_LEN: usize = 16;
/// `sizeof(SOCKADDR_IN6)`.
pub const SOCKADDR_IN6_LEN: usize = 28;

/// The number of bytes `addr` takes as a SOCKADDR_IN or SOCKADDR_IN6.
pub fn sockaddr_len(addr: &SocketAddr) -> usize {
    match addr {
        SocketAddr::V4(_) => SOCKADDR_IN_LEN,
        SocketAddr::V6(_) => SOCKADDR_IN6_LEN,
    }
}

/// The address family in the first two bytes, if there are two bytes.
pub fn sockaddr_family(bytes: &[u8]) -> Option<u16> {
    read_u16(bytes)
}

/// Appends `addr` as SOCKADDR_IN (16 bytes, `sin_zero` cleared) or
/// SOCKADDR_IN6 (28 bytes).
pub fn emit_sockaddr(addr: &SocketAddr, out: &mut Vec<u8>) {
    match addr {
        SocketAddr::V4(v4) => {
            out.extend_from_slice(&AF_INET.to_le_bytes());
            out.extend_from_slice(&v4.port().to_be_bytes());
            out.extend_from_slice(&v4.ip().octets());
            out.extend_from_slice(&[0; 8]);
        }
        SocketAddr::V6(v6) => {
            out.extend_from_slice(&AF_INET6.to_le_bytes());
            out.extend_from_slice(&v6.port().to_be_bytes());
            out.extend_from_slice(&v6.flowinfo().to_le_bytes());
            out.extend_from_slice(&v6.ip().octets());
            out.extend_from_slice(&v6.scope_id().to_le_bytes());
        }
    }
}

/// Parses a SOCKADDR_IN or SOCKADDR_IN6 from the start of `bytes`, choosing by
/// the family field. Bytes past the structure are ignored, as Winsock ignores
/// a `namelen` larger than the structure; `sin_zero` is not checked either.
pub fn parse_sockaddr(bytes: &[u8]) -> Result<SocketAddr, WireError> {
    check_len(bytes, 2)?;
    let family = sockaddr_family(bytes).unwrap_or(AF_UNSPEC);
    match family {
        AF_INET => {
            check_len(bytes, SOCKADDR_IN_LEN)?;
            let port = read_u16_be(&bytes[2..]).unwrap_or(0);
            let ip = Ipv4Addr::new(bytes[4], bytes[5], bytes[6], bytes[7]);
            Ok(SocketAddr::V4(SocketAddrV4::new(ip, port)))
        }
        AF_INET6 => {
            check_len(bytes, SOCKADDR_IN6_LEN)?;
            let port = read_u16_be(&bytes[2..]).unwrap_or(0);
            let flowinfo = read_u32(&bytes[4..]).unwrap_or(0);
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&bytes[8..24]);
            let scope_id = read_u32(&bytes[24..]).unwrap_or(0);
            Ok(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(octets),
                port,
                flowinfo,
                scope_id,
            )))
        }
        other => Err(WireError::UnknownFamily(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn emitted(addr: &SocketAddr) -> Vec<u8> {
        let mut out = Vec::new();
        emit_sockaddr(addr, &mut out);
        out
    }

    #[test]
    fn sockaddr_in_for_loopback_port_80_is_these_16_bytes() {
        let addr: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let bytes = [2, 0, 0, 80, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(emitted(&addr), bytes);
        assert_eq!(parse_sockaddr(&bytes), Ok(addr));
    }

    #[test]
    fn sockaddr_in6_for_loopback_port_443_scope_3_is_these_28_bytes() {
        let addr = SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::LOCALHOST, 443, 0x0102_0304, 3));
        #[rustfmt::skip]
        let bytes = [
            23, 0, 0x01, 0xbb,
            0x04, 0x03, 0x02, 0x01,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
            3, 0, 0, 0,
        ];
        assert_eq!(emitted(&addr), bytes);
        assert_eq!(parse_sockaddr(&bytes), Ok(addr));
    }

    #[test]
    fn the_family_is_read_from_the_first_two_bytes() {
        assert_eq!(sockaddr_family(&[23, 0, 9]), Some(AF_INET6));
        assert_eq!(sockaddr_family(&[2]), None);
    }

    #[test]
    fn an_unknown_family_is_reported_with_its_value() {
        let mut bytes = [0u8; 28];
        bytes[0] = 10; // Linux's AF_INET6
        assert_eq!(parse_sockaddr(&bytes), Err(WireError::UnknownFamily(10)));
        assert_eq!(
            parse_sockaddr(&[0u8; 16]),
            Err(WireError::UnknownFamily(AF_UNSPEC))
        );
    }

    #[test]
    fn sin_zero_and_trailing_bytes_are_ignored() {
        let mut bytes = emitted(&"10.0.0.1:7".parse().unwrap());
        bytes[12] = 0xaa;
        bytes.extend_from_slice(&[0xff; 4]);
        assert_eq!(parse_sockaddr(&bytes), Ok("10.0.0.1:7".parse().unwrap()));
    }

    #[test]
    fn lengths_are_16_and_28() {
        assert_eq!(sockaddr_len(&"1.2.3.4:5".parse().unwrap()), 16);
        assert_eq!(sockaddr_len(&"[::1]:5".parse().unwrap()), 28);
    }

    proptest! {
        #[test]
        fn emit_then_parse_gives_back_the_address(addr in any::<SocketAddr>()) {
            let mut out = vec![0xee];
            emit_sockaddr(&addr, &mut out);
            prop_assert_eq!(out.len(), 1 + sockaddr_len(&addr));
            prop_assert_eq!(parse_sockaddr(&out[1..]), Ok(addr));
        }

        #[test]
        fn every_truncated_prefix_is_reported_as_truncated(addr in any::<SocketAddr>()) {
            let bytes = emitted(&addr);
            for cut in 0..bytes.len() {
                let is_truncated = matches!(
                    parse_sockaddr(&bytes[..cut]),
                    Err(WireError::Truncated { got, .. }) if got == cut
                );
                prop_assert!(is_truncated, "prefix of {} bytes", cut);
            }
        }

        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = parse_sockaddr(&bytes);
        }
    }
}
