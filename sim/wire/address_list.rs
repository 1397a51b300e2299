//! SOCKET_ADDRESS_LIST, the output of SIO_ADDRESS_LIST_QUERY.
//!
//! ```text
//! typedef struct _SOCKET_ADDRESS { LPSOCKADDR lpSockaddr; INT iSockaddrLength; } SOCKET_ADDRESS;
//! typedef struct _SOCKET_ADDRESS_LIST { INT iAddressCount; SOCKET_ADDRESS Address[1]; } SOCKET_ADDRESS_LIST;
//! ```
//!
//! The entries hold pointers, so the layout depends on the caller's pointer
//! width. 64-bit: `iAddressCount` at 0, 4 padding bytes, entries of 16 bytes
//! from offset 8 (pointer at 0, length at 8, 4 padding bytes). 32-bit:
//! `iAddressCount` at 0, entries of 8 bytes from offset 4 (pointer, length).
//! Windows returns the sockaddrs in the same buffer, right after the entry
//! array and in entry order, and points each `lpSockaddr` at its own copy,
//! which is why emitting and parsing need the buffer's address.

use std::net::SocketAddr;

use super::sockaddr::{
    emit_sockaddr, parse_sockaddr, sockaddr_family, sockaddr_len, AF_INET, AF_INET6,
    SOCKADDR_IN6_LEN, SOCKADDR_IN_LEN,
};
use super::{check_len, read_i32, read_ptr, write_ptr, PointerSize, WireError};

/// The addresses of a SOCKET_ADDRESS_LIST, in entry order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SocketAddressList {
    /// The addresses.
    pub addresses: Vec<SocketAddr>,
}

/// `FIELD_OFFSET(SOCKET_ADDRESS_LIST, Address[0])`: 8 on 64-bit (the INT is
/// padded up to the entries' pointer alignment), 4 on 32-bit.
pub const fn header_len(ptr: PointerSize) -> usize {
    match ptr {
        PointerSize::Bits64 => 8,
        PointerSize::Bits32 => 4,
    }
}

/// `sizeof(SOCKET_ADDRESS)`: 16 on 64-bit, 8 on 32-bit.
pub const fn entry_len(ptr: PointerSize) -> usize {
    match ptr {
        PointerSize::Bits64 => 16,
        PointerSize::Bits32 => 8,
    }
}

/// The bytes a list of `count` entries whose sockaddrs total
/// `sum_sockaddr_lens` bytes needs; this is what Windows reports as the
/// required size when the output buffer is too small. Saturates instead of
/// overflowing.
pub fn required_len(count: usize, sum_sockaddr_lens: usize, ptr: PointerSize) -> usize {
    header_len(ptr)
        .saturating_add(count.saturating_mul(entry_len(ptr)))
        .saturating_add(sum_sockaddr_lens)
}

/// The sockaddr length a family requires, if this layer models the family.
fn family_len(family: u16) -> Option<usize> {
    match family {
        AF_INET => Some(SOCKADDR_IN_LEN),
        AF_INET6 => Some(SOCKADDR_IN6_LEN),
        _ => None,
    }
}

impl SocketAddressList {
    /// The bytes [`emit`](Self::emit) appends for this pointer width.
    pub fn buffer_len(&self, ptr: PointerSize) -> usize {
        let sum = self.addresses.iter().map(sockaddr_len).sum();
        required_len(self.addresses.len(), sum, ptr)
    }

    /// Appends the list as it would sit at `base_address` in the caller's
    /// memory: count, entries pointing into this same buffer, then the
    /// sockaddrs packed in order. Padding is zero. A count above `i32::MAX`
    /// is clamped (no real list gets there).
    pub fn emit(&self, base_address: u64, ptr: PointerSize, out: &mut Vec<u8>) {
        let count = i32::try_from(self.addresses.len()).unwrap_or(i32::MAX);
        out.extend_from_slice(&count.to_le_bytes());
        out.resize(out.len() + header_len(ptr) - 4, 0);

        let mut offset = required_len(self.addresses.len(), 0, ptr);
        for addr in &self.addresses {
            let len = sockaddr_len(addr);
            write_ptr(base_address.wrapping_add(offset as u64), ptr, out);
            out.extend_from_slice(&(len as i32).to_le_bytes());
            out.resize(out.len() + entry_len(ptr) - ptr.bytes() - 4, 0);
            offset += len;
        }
        for addr in &self.addresses {
            emit_sockaddr(addr, out);
        }
    }

    /// Parses a list that sits at `base_address`. Each `lpSockaddr` must point
    /// at the next sockaddr in the packed area after the entries (the layout
    /// Windows writes), and each `iSockaddrLength` must be exactly the size of
    /// that sockaddr's family. Padding bytes are not checked.
    pub fn parse(bytes: &[u8], base_address: u64, ptr: PointerSize) -> Result<Self, WireError> {
        check_len(bytes, header_len(ptr))?;
        let count = read_i32(bytes).unwrap_or(0);
        let count =
            usize::try_from(count).map_err(|_| WireError::BadValue("negative iAddressCount"))?;
        let entries_end = required_len(count, 0, ptr);
        check_len(bytes, entries_end)?;

        // `count` is now bounded by the buffer, so this cannot be huge.
        let mut addresses = Vec::with_capacity(count);
        let mut offset = entries_end;
        for i in 0..count {
            let entry = &bytes[header_len(ptr) + i * entry_len(ptr)..];
            let pointer = read_ptr(entry, ptr).unwrap_or(0);
            let len = read_i32(&entry[ptr.bytes()..]).unwrap_or(0);
            let expected = base_address.wrapping_add(offset as u64);
            let expected = match ptr {
                PointerSize::Bits64 => expected,
                PointerSize::Bits32 => u64::from(expected as u32),
            };
            if pointer != expected {
                return Err(WireError::BadValue(
                    "lpSockaddr does not point at the next sockaddr in the buffer",
                ));
            }
            let len = usize::try_from(len)
                .map_err(|_| WireError::BadValue("negative iSockaddrLength"))?;
            let end = offset.saturating_add(len);
            check_len(bytes, end)?;
            let sockaddr = &bytes[offset..end];
            let family = sockaddr_family(sockaddr).ok_or(WireError::BadValue(
                "iSockaddrLength is shorter than a family",
            ))?;
            if family_len(family).ok_or(WireError::UnknownFamily(family))? != len {
                return Err(WireError::BadValue(
                    "iSockaddrLength does not match the sockaddr family",
                ));
            }
            addresses.push(parse_sockaddr(sockaddr)?);
            offset = end;
        }
        Ok(SocketAddressList { addresses })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const BASE: u64 = 0x1000;

    fn list(addrs: &[&str]) -> SocketAddressList {
        SocketAddressList {
            addresses: addrs.iter().map(|a| a.parse().unwrap()).collect(),
        }
    }

    fn emitted(list: &SocketAddressList, base: u64, ptr: PointerSize) -> Vec<u8> {
        let mut out = Vec::new();
        list.emit(base, ptr, &mut out);
        out
    }

    #[test]
    fn one_ipv4_address_on_64_bit_is_these_40_bytes() {
        let l = list(&["192.168.1.10:0"]);
        #[rustfmt::skip]
        let bytes = [
            1, 0, 0, 0, 0, 0, 0, 0,                           // iAddressCount, padding
            0x18, 0x10, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, // BASE + 24, 16, padding
            2, 0, 0, 0, 192, 168, 1, 10, 0, 0, 0, 0, 0, 0, 0, 0,   // SOCKADDR_IN
        ];
        assert_eq!(l.buffer_len(PointerSize::Bits64), 40);
        assert_eq!(emitted(&l, BASE, PointerSize::Bits64), bytes);
        assert_eq!(
            SocketAddressList::parse(&bytes, BASE, PointerSize::Bits64),
            Ok(l)
        );
    }

    #[test]
    fn one_ipv4_address_on_32_bit_is_these_28_bytes() {
        let l = list(&["192.168.1.10:0"]);
        #[rustfmt::skip]
        let bytes = [
            1, 0, 0, 0,                          // iAddressCount
            0x0c, 0x10, 0, 0, 16, 0, 0, 0,       // BASE + 12, 16
            2, 0, 0, 0, 192, 168, 1, 10, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(l.buffer_len(PointerSize::Bits32), 28);
        assert_eq!(emitted(&l, BASE, PointerSize::Bits32), bytes);
        assert_eq!(
            SocketAddressList::parse(&bytes, BASE, PointerSize::Bits32),
            Ok(l)
        );
    }

    #[test]
    fn an_empty_list_is_just_the_header() {
        let l = SocketAddressList::default();
        assert_eq!(emitted(&l, BASE, PointerSize::Bits64), [0; 8]);
        assert_eq!(emitted(&l, BASE, PointerSize::Bits32), [0; 4]);
    }

    #[test]
    fn second_pointer_skips_the_first_sockaddr() {
        let l = list(&["[::1]:0", "10.0.0.1:0"]);
        let bytes = emitted(&l, BASE, PointerSize::Bits64);
        assert_eq!(bytes.len(), 8 + 2 * 16 + 28 + 16);
        assert_eq!(read_ptr(&bytes[8..], PointerSize::Bits64), Some(BASE + 40));
        assert_eq!(read_i32(&bytes[16..]), Some(28));
        assert_eq!(read_ptr(&bytes[24..], PointerSize::Bits64), Some(BASE + 68));
        assert_eq!(read_i32(&bytes[32..]), Some(16));
    }

    #[test]
    fn required_len_is_header_plus_entries_plus_sockaddrs() {
        assert_eq!(required_len(2, 44, PointerSize::Bits64), 8 + 32 + 44);
        assert_eq!(required_len(2, 44, PointerSize::Bits32), 4 + 16 + 44);
        assert_eq!(required_len(usize::MAX, 1, PointerSize::Bits64), usize::MAX);
    }

    #[test]
    fn a_pointer_elsewhere_is_rejected() {
        let bytes = emitted(&list(&["1.2.3.4:5"]), BASE, PointerSize::Bits64);
        assert!(matches!(
            SocketAddressList::parse(&bytes, BASE + 8, PointerSize::Bits64),
            Err(WireError::BadValue(_))
        ));
    }

    #[test]
    fn a_length_that_disagrees_with_the_family_is_rejected() {
        let mut bytes = emitted(&list(&["1.2.3.4:5"]), BASE, PointerSize::Bits64);
        bytes[16] = 8;
        assert!(matches!(
            SocketAddressList::parse(&bytes, BASE, PointerSize::Bits64),
            Err(WireError::BadValue(_))
        ));
        bytes[16] = 1;
        assert!(matches!(
            SocketAddressList::parse(&bytes, BASE, PointerSize::Bits64),
            Err(WireError::BadValue(_))
        ));
    }

    #[test]
    fn a_negative_count_is_rejected() {
        assert_eq!(
            SocketAddressList::parse(&[0xff; 8], BASE, PointerSize::Bits64),
            Err(WireError::BadValue("negative iAddressCount"))
        );
    }

    #[test]
    fn a_huge_count_is_truncated_not_allocated() {
        let bytes = [0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0];
        assert!(matches!(
            SocketAddressList::parse(&bytes, BASE, PointerSize::Bits64),
            Err(WireError::Truncated { .. })
        ));
    }

    fn pointer_sizes() -> impl Strategy<Value = PointerSize> {
        prop_oneof![Just(PointerSize::Bits64), Just(PointerSize::Bits32)]
    }

    fn lists() -> impl Strategy<Value = SocketAddressList> {
        proptest::collection::vec(any::<SocketAddr>(), 0..6)
            .prop_map(|addresses| SocketAddressList { addresses })
    }

    proptest! {
        #[test]
        fn emit_then_parse_gives_back_the_list(l in lists(), base in any::<u64>(), ptr in pointer_sizes()) {
            let mut out = vec![0xee; 3];
            l.emit(base, ptr, &mut out);
            prop_assert_eq!(out.len(), 3 + l.buffer_len(ptr));
            prop_assert_eq!(SocketAddressList::parse(&out[3..], base, ptr), Ok(l));
        }

        #[test]
        fn every_truncated_prefix_is_reported_as_truncated(l in lists(), base in any::<u64>(), ptr in pointer_sizes()) {
            let bytes = emitted(&l, base, ptr);
            for cut in 0..bytes.len() {
                let is_truncated = matches!(
                    SocketAddressList::parse(&bytes[..cut], base, ptr),
                    Err(WireError::Truncated { got, .. }) if got == cut
                );
                prop_assert!(is_truncated, "prefix of {} bytes", cut);
            }
        }

        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..120), base in any::<u64>(), ptr in pointer_sizes()) {
            let _ = SocketAddressList::parse(&bytes, base, ptr);
        }
    }
}
