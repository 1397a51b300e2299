//! Byte layouts of the structures WSAIoctl reads and writes, exactly as
//! Windows lays them out in memory on x86/x64 (little-endian).
//!
//! Each layout has a parsed representation with `parse` (never panics, returns
//! [`WireError`]), `emit` (appends exactly `buffer_len` bytes) and a length.
//! Layouts that contain pointers take a [`PointerSize`] argument, so a 64-bit
//! host can model a 32-bit caller and the other way round.
//!
//! - [`sockaddr`]: SOCKADDR_IN (16 bytes) and SOCKADDR_IN6 (28 bytes).
//! - [`PointerSize`]: the caller's pointer width, for layouts holding pointers.
//! - [`address_list`]: SOCKET_ADDRESS_LIST for SIO_ADDRESS_LIST_QUERY, pointers into itself.
//! - [`interface_info`]: INTERFACE_INFO (76 bytes) for SIO_GET_INTERFACE_LIST.
//! - [`keepalive`]: tcp_keepalive (12 bytes) for SIO_KEEPALIVE_VALS.
//! - [`guid`]: GUID (16 bytes) and the WSAID_* extension-function GUIDs.
//! - [`qos`]: FLOWSPEC (32 bytes) and QOS (80 bytes 64-bit, 72 bytes 32-bit).
//! - [`rcvall`]: RCVALL_VALUE (4 bytes) for SIO_RCVALL.
//! - [`read_u32`] and friends: bounds-checked little-endian readers.
//! - [`tcp_info`]: TCP_INFO_v0 (88 bytes) and TCP_INFO_v1 (136 bytes) for SIO_TCP_INFO.

use std::fmt;

pub mod address_list;
pub mod guid;
pub mod interface_info;
pub mod keepalive;
pub mod qos;
pub mod rcvall;
pub mod sockaddr;
pub mod tcp_info;

/// Why a byte buffer could not be parsed as a Windows structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireError {
    /// The buffer ends before the structure does.
    Truncated {
        /// Bytes the structure needs.
        needed: usize,
        /// Bytes the buffer holds.
        got: usize,
    },
    /// A sockaddr carries an address family this layer does not model.
    UnknownFamily(u16),
    /// A field holds a value the structure does not allow; the text names it.
    BadValue(&'static str),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Truncated { needed, got } => {
                write!(f, "buffer truncated: needed {needed} bytes, got {got}")
            }
            WireError::UnknownFamily(family) => write!(f, "unknown address family {family}"),
            WireError::BadValue(what) => write!(f, "bad value: {what}"),
        }
    }
}

impl std::error::Error for WireError {}

/// The caller's pointer width. Structures holding pointers (SOCKET_ADDRESS,
/// WSABUF) change size with it, and a simulated caller may be 32-bit even on
/// a 64-bit host, so it is always passed in, never taken from `cfg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PointerSize {
    /// A 64-bit process: pointers are 8 bytes and 8-byte aligned.
    Bits64,
    /// A 32-bit process (or WOW64): pointers are 4 bytes.
    Bits32,
}

impl PointerSize {
    /// The size of one pointer in bytes.
    pub const fn bytes(self) -> usize {
        match self {
            PointerSize::Bits64 => 8,
            PointerSize::Bits32 => 4,
        }
    }
}

/// Fails with `Truncated` unless `bytes` holds at least `needed` bytes.
pub fn check_len(bytes: &[u8], needed: usize) -> Result<(), WireError> {
    if bytes.len() < needed {
        Err(WireError::Truncated {
            needed,
            got: bytes.len(),
        })
    } else {
        Ok(())
    }
}

/// Reads a little-endian u16 from the start of `bytes`.
pub fn read_u16(bytes: &[u8]) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(..2)?.try_into().ok()?))
}

/// Reads a big-endian (network order) u16 from the start of `bytes`.
pub fn read_u16_be(bytes: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes(bytes.get(..2)?.try_into().ok()?))
}

/// Reads a little-endian u32 from the start of `bytes`.
pub fn read_u32(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?))
}

/// Reads a little-endian i32 (a Windows INT) from the start of `bytes`.
pub fn read_i32(bytes: &[u8]) -> Option<i32> {
    Some(i32::from_le_bytes(bytes.get(..4)?.try_into().ok()?))
}

/// Reads a little-endian u64 from the start of `bytes`.
pub fn read_u64(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?))
}

/// Reads a pointer of the given width, widened to u64.
pub fn read_ptr(bytes: &[u8], ptr: PointerSize) -> Option<u64> {
    match ptr {
        PointerSize::Bits64 => read_u64(bytes),
        PointerSize::Bits32 => read_u32(bytes).map(u64::from),
    }
}

/// Appends a pointer of the given width; a 32-bit pointer keeps only the low
/// 32 bits, as a 32-bit process would never see a higher address.
pub fn write_ptr(value: u64, ptr: PointerSize, out: &mut Vec<u8>) {
    match ptr {
        PointerSize::Bits64 => out.extend_from_slice(&value.to_le_bytes()),
        PointerSize::Bits32 => out.extend_from_slice(&(value as u32).to_le_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_sizes_are_eight_and_four_bytes() {
        assert_eq!(PointerSize::Bits64.bytes(), 8);
        assert_eq!(PointerSize::Bits32.bytes(), 4);
    }

    #[test]
    fn readers_are_little_endian_except_the_network_order_one() {
        let b = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08];
        assert_eq!(read_u16(&b), Some(0x0201));
        assert_eq!(read_u16_be(&b), Some(0x0102));
        assert_eq!(read_u32(&b), Some(0x0403_0201));
        assert_eq!(read_i32(&[0xff, 0xff, 0xff, 0xff]), Some(-1));
        assert_eq!(read_u64(&b), Some(0x0807_0605_0403_0201));
        assert_eq!(read_ptr(&b, PointerSize::Bits32), Some(0x0403_0201));
        assert_eq!(
            read_ptr(&b, PointerSize::Bits64),
            Some(0x0807_0605_0403_0201)
        );
    }

    #[test]
    fn readers_return_none_on_short_input() {
        assert_eq!(read_u16(&[1]), None);
        assert_eq!(read_u32(&[1, 2, 3]), None);
        assert_eq!(read_u64(&[0; 7]), None);
        assert_eq!(read_ptr(&[0; 7], PointerSize::Bits64), None);
    }

    #[test]
    fn a_32_bit_pointer_keeps_the_low_half() {
        let mut out = Vec::new();
        write_ptr(0x1_2345_6789, PointerSize::Bits32, &mut out);
        assert_eq!(out, [0x89, 0x67, 0x45, 0x23]);
    }

    #[test]
    fn check_len_reports_needed_and_got() {
        assert_eq!(
            check_len(&[0; 3], 4),
            Err(WireError::Truncated { needed: 4, got: 3 })
        );
        assert_eq!(check_len(&[0; 4], 4), Ok(()));
    }

    #[test]
    fn errors_display_as_sentences() {
        assert_eq!(
            WireError::Truncated { needed: 16, got: 3 }.to_string(),
            "buffer truncated: needed 16 bytes, got 3"
        );
        assert_eq!(
            WireError::UnknownFamily(99).to_string(),
            "unknown address family 99"
        );
        assert_eq!(WireError::BadValue("x").to_string(), "bad value: x");
    }
}
