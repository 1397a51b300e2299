//! GUID, the 16-byte input of SIO_GET_EXTENSION_FUNCTION_POINTER, and the
//! extension-function GUIDs from mswsock.h.
//!
//! `Data1` u32 at 0, `Data2` u16 at 4, `Data3` u16 at 6 (all little-endian),
//! `Data4` 8 bytes at 8 in string order. The text form is the registry form
//! StringFromGUID2 writes: braces, uppercase hex, groups 8-4-4-4-12.

use std::fmt;
use std::str::FromStr;

use super::{check_len, read_u16, read_u32, WireError};

/// A Windows GUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Guid {
    /// GUID field `data1`.
    pub data1: u32,
    /// GUID field `data2`.
    pub data2: u16,
    /// GUID field `data3`.
    pub data3: u16,
    /// GUID field `data4`.
    pub data4: [u8; 8],
}

impl Guid {
    /// `sizeof(GUID)`.
    pub const LEN: usize = 16;

    /// A GUID from its four fields, as the `DEFINE_GUID` macros spell it.
    pub const fn new(data1: u32, data2: u16, data3: u16, data4: [u8; 8]) -> Self {
        Guid {
            data1,
            data2,
            data3,
            data4,
        }
    }

    /// Appends the 16-byte structure.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.data1.to_le_bytes());
        out.extend_from_slice(&self.data2.to_le_bytes());
        out.extend_from_slice(&self.data3.to_le_bytes());
        out.extend_from_slice(&self.data4);
    }

    /// Parses the structure from the start of `bytes`.
    pub fn parse(bytes: &[u8]) -> Result<Self, WireError> {
        check_len(bytes, Self::LEN)?;
        let mut data4 = [0u8; 8];
        data4.copy_from_slice(&bytes[8..16]);
        Ok(Guid {
            data1: read_u32(bytes).unwrap_or(0),
            data2: read_u16(&bytes[4..]).unwrap_or(0),
            data3: read_u16(&bytes[6..]).unwrap_or(0),
            data4,
        })
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.data4;
        write!(
            f,
            "{{{:08X}-{:04X}-{:04X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}}}",
            self.data1, self.data2, self.data3, d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]
        )
    }
}

const MALFORMED: WireError =
    WireError::BadValue("GUID string is not xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx");

/// Reads `digits.len()` hex digits as one number; no signs, no spaces.
fn hex(digits: &[u8]) -> Result<u64, WireError> {
    digits.iter().try_fold(0u64, |acc, &c| {
        let v = (c as char).to_digit(16).ok_or(MALFORMED)?;
        Ok((acc << 4) | u64::from(v))
    })
}

impl FromStr for Guid {
    type Err = WireError;

    /// Accepts the 36-character form with or without surrounding braces, in
    /// any letter case.
    fn from_str(s: &str) -> Result<Self, WireError> {
        let b = s.as_bytes();
        let b = match b {
            [b'{', inner @ .., b'}'] => inner,
            _ => b,
        };
        if b.len() != 36 || [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
            return Err(MALFORMED);
        }
        let mut data4 = [0u8; 8];
        data4[0] = hex(&b[19..21])? as u8;
        data4[1] = hex(&b[21..23])? as u8;
        for (i, byte) in data4[2..].iter_mut().enumerate() {
            *byte = hex(&b[24 + 2 * i..26 + 2 * i])? as u8;
        }
        Ok(Guid {
            data1: hex(&b[0..8])? as u32,
            data2: hex(&b[9..13])? as u16,
            data3: hex(&b[14..18])? as u16,
            data4,
        })
    }
}

/// WSAID_ACCEPTEX {B5367DF1-CBAC-11CF-95CA-00805F48A192}.
pub const WSAID_ACCEPTEX: Guid = Guid::new(
    0xb5367df1,
    0xcbac,
    0x11cf,
    [0x95, 0xca, 0x00, 0x80, 0x5f, 0x48, 0xa1, 0x92],
);
/// WSAID_CONNECTEX {25A207B9-DDF3-4660-8EE9-76E58C74063E}.
pub const WSAID_CONNECTEX: Guid = Guid::new(
    0x25a207b9,
    0xddf3,
    0x4660,
    [0x8e, 0xe9, 0x76, 0xe5, 0x8c, 0x74, 0x06, 0x3e],
);
/// WSAID_DISCONNECTEX {7FDA2E11-8630-436F-A031-F536A6EEC157}.
pub const WSAID_DISCONNECTEX: Guid = Guid::new(
    0x7fda2e11,
    0x8630,
    0x436f,
    [0xa0, 0x31, 0xf5, 0x36, 0xa6, 0xee, 0xc1, 0x57],
);
/// WSAID_GETACCEPTEXSOCKADDRS {B5367DF2-CBAC-11CF-95CA-00805F48A192}.
pub const WSAID_GETACCEPTEXSOCKADDRS: Guid = Guid::new(
    0xb5367df2,
    0xcbac,
    0x11cf,
    [0x95, 0xca, 0x00, 0x80, 0x5f, 0x48, 0xa1, 0x92],
);
/// WSAID_TRANSMITFILE {B5367DF0-CBAC-11CF-95CA-00805F48A192}.
pub const WSAID_TRANSMITFILE: Guid = Guid::new(
    0xb5367df0,
    0xcbac,
    0x11cf,
    [0x95, 0xca, 0x00, 0x80, 0x5f, 0x48, 0xa1, 0x92],
);
/// WSAID_TRANSMITPACKETS {D9689DA0-1F90-11D3-9971-00C04F68C876}.
pub const WSAID_TRANSMITPACKETS: Guid = Guid::new(
    0xd9689da0,
    0x1f90,
    0x11d3,
    [0x99, 0x71, 0x00, 0xc0, 0x4f, 0x68, 0xc8, 0x76],
);
/// WSAID_WSARECVMSG {F689D7C8-6F1F-436B-8A53-E54FE351C322}.
pub const WSAID_WSARECVMSG: Guid = Guid::new(
    0xf689d7c8,
    0x6f1f,
    0x436b,
    [0x8a, 0x53, 0xe5, 0x4f, 0xe3, 0x51, 0xc3, 0x22],
);
/// WSAID_WSASENDMSG {A441E712-754F-43CA-84A7-0DEE44CF606D}.
pub const WSAID_WSASENDMSG: Guid = Guid::new(
    0xa441e712,
    0x754f,
    0x43ca,
    [0x84, 0xa7, 0x0d, 0xee, 0x44, 0xcf, 0x60, 0x6d],
);
/// WSAID_WSAPOLL {18C76F85-DC66-4964-972E-23C27238312B}.
pub const WSAID_WSAPOLL: Guid = Guid::new(
    0x18c76f85,
    0xdc66,
    0x4964,
    [0x97, 0x2e, 0x23, 0xc2, 0x72, 0x38, 0x31, 0x2b],
);

/// The extension functions SIO_GET_EXTENSION_FUNCTION_POINTER knows, by the
/// name after `WSAID_`.
pub const EXTENSION_FUNCTIONS: &[(&str, Guid)] = &[
    ("ACCEPTEX", WSAID_ACCEPTEX),
    ("CONNECTEX", WSAID_CONNECTEX),
    ("DISCONNECTEX", WSAID_DISCONNECTEX),
    ("GETACCEPTEXSOCKADDRS", WSAID_GETACCEPTEXSOCKADDRS),
    ("TRANSMITFILE", WSAID_TRANSMITFILE),
    ("TRANSMITPACKETS", WSAID_TRANSMITPACKETS),
    ("WSARECVMSG", WSAID_WSARECVMSG),
    ("WSASENDMSG", WSAID_WSASENDMSG),
    ("WSAPOLL", WSAID_WSAPOLL),
];

/// The GUID of an extension function, by name in any letter case
/// (`"AcceptEx"` and `"ACCEPTEX"` both work).
pub fn extension_guid(name: &str) -> Option<Guid> {
    EXTENSION_FUNCTIONS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, g)| g)
}

/// The name of the extension function a GUID selects, as in
/// [`EXTENSION_FUNCTIONS`].
pub fn extension_name(guid: &Guid) -> Option<&'static str> {
    EXTENSION_FUNCTIONS
        .iter()
        .find(|(_, g)| g == guid)
        .map(|&(n, _)| n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn guids() -> impl Strategy<Value = Guid> {
        any::<(u32, u16, u16, [u8; 8])>().prop_map(|(a, b, c, d)| Guid::new(a, b, c, d))
    }

    #[test]
    fn wsaid_acceptex_is_these_16_bytes() {
        #[rustfmt::skip]
        let bytes = [
            0xf1, 0x7d, 0x36, 0xb5, 0xac, 0xcb, 0xcf, 0x11,
            0x95, 0xca, 0x00, 0x80, 0x5f, 0x48, 0xa1, 0x92,
        ];
        let mut out = Vec::new();
        WSAID_ACCEPTEX.emit(&mut out);
        assert_eq!(out, bytes);
        assert_eq!(Guid::parse(&bytes), Ok(WSAID_ACCEPTEX));
    }

    #[test]
    fn guids_display_in_uppercase_with_braces() {
        assert_eq!(
            WSAID_CONNECTEX.to_string(),
            "{25A207B9-DDF3-4660-8EE9-76E58C74063E}"
        );
    }

    #[test]
    fn the_table_matches_the_mswsock_h_strings() {
        let expected = [
            ("ACCEPTEX", "b5367df1-cbac-11cf-95ca-00805f48a192"),
            ("CONNECTEX", "25a207b9-ddf3-4660-8ee9-76e58c74063e"),
            ("DISCONNECTEX", "7fda2e11-8630-436f-a031-f536a6eec157"),
            (
                "GETACCEPTEXSOCKADDRS",
                "b5367df2-cbac-11cf-95ca-00805f48a192",
            ),
            ("TRANSMITFILE", "b5367df0-cbac-11cf-95ca-00805f48a192"),
            ("TRANSMITPACKETS", "d9689da0-1f90-11d3-9971-00c04f68c876"),
            ("WSARECVMSG", "f689d7c8-6f1f-436b-8a53-e54fe351c322"),
            ("WSASENDMSG", "a441e712-754f-43ca-84a7-0dee44cf606d"),
            ("WSAPOLL", "18c76f85-dc66-4964-972e-23c27238312b"),
        ];
        assert_eq!(EXTENSION_FUNCTIONS.len(), expected.len());
        for (name, text) in expected {
            let guid: Guid = text.parse().unwrap();
            assert_eq!(extension_guid(name), Some(guid), "{name}");
            assert_eq!(extension_name(&guid), Some(name));
        }
    }

    #[test]
    fn names_are_looked_up_in_any_case() {
        assert_eq!(extension_guid("AcceptEx"), Some(WSAID_ACCEPTEX));
        assert_eq!(extension_guid("WSAID_ACCEPTEX"), None);
        assert_eq!(extension_name(&Guid::new(0, 0, 0, [0; 8])), None);
    }

    #[test]
    fn malformed_strings_are_rejected() {
        for s in [
            "",
            "{}",
            "{25a207b9-ddf3-4660-8ee9-76e58c74063e",
            "25a207b9-ddf3-4660-8ee9-76e58c74063e}",
            "25a207b9-ddf3-4660-8ee9-76e58c74063",
            "25a207b9xddf3-4660-8ee9-76e58c74063e",
            "+5a207b9-ddf3-4660-8ee9-76e58c74063e",
            "25a207b9-ddf3-4660-8ee9-76e58c74063g",
            "25a207b9-ddf3-4660-8ee9-76e58c7406é",
        ] {
            assert!(s.parse::<Guid>().is_err(), "{s:?}");
        }
    }

    proptest! {
        #[test]
        fn emit_then_parse_gives_back_the_guid(g in guids()) {
            let mut out = vec![0xee];
            g.emit(&mut out);
            prop_assert_eq!(out.len(), 1 + Guid::LEN);
            prop_assert_eq!(Guid::parse(&out[1..]), Ok(g));
        }

        #[test]
        fn display_then_from_str_gives_back_the_guid(g in guids()) {
            let text = g.to_string();
            prop_assert_eq!(text.parse::<Guid>(), Ok(g));
            prop_assert_eq!(text[1..37].to_lowercase().parse::<Guid>(), Ok(g));
        }

        #[test]
        fn every_truncated_prefix_is_reported_as_truncated(g in guids()) {
            let mut out = Vec::new();
            g.emit(&mut out);
            for cut in 0..out.len() {
                prop_assert_eq!(
                    Guid::parse(&out[..cut]),
                    Err(WireError::Truncated { needed: 16, got: cut })
                );
            }
        }

        #[test]
        fn parse_and_from_str_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..20), s in "\\PC{0,40}") {
            let _ = Guid::parse(&bytes);
            let _ = s.parse::<Guid>();
        }
    }
}
