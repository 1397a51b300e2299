//! RCVALL_VALUE, the 4-byte input of SIO_RCVALL (and its multicast/IGMP
//! siblings): a u32 enum, little-endian.

use super::{check_len, read_u32, WireError};

/// Stop receiving all packets.
pub const RCVALL_OFF: u32 = 0;
/// Receive all packets, promiscuous where the NIC allows.
pub const RCVALL_ON: u32 = 1;
/// Receive all packets that reach the socket level only.
pub const RCVALL_SOCKETLEVELONLY: u32 = 2;
/// Receive all packets at the IP level, without promiscuous mode.
pub const RCVALL_IPLEVEL: u32 = 3;

/// The modes of SIO_RCVALL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RcvallValue {
    /// RCVALL_VALUE `Off`.
    Off,
    /// RCVALL_VALUE `On`.
    On,
    /// RCVALL_VALUE `SocketLevelOnly`.
    SocketLevelOnly,
    /// RCVALL_VALUE `IpLevel`.
    IpLevel,
}

impl RcvallValue {
    /// `sizeof(RCVALL_VALUE)`.
    pub const LEN: usize = 4;

    /// The mode for a raw value, if Windows defines one.
    pub const fn from_u32(value: u32) -> Option<Self> {
        match value {
            RCVALL_OFF => Some(RcvallValue::Off),
            RCVALL_ON => Some(RcvallValue::On),
            RCVALL_SOCKETLEVELONLY => Some(RcvallValue::SocketLevelOnly),
            RCVALL_IPLEVEL => Some(RcvallValue::IpLevel),
            _ => None,
        }
    }

    /// The raw value.
    pub const fn to_u32(self) -> u32 {
        match self {
            RcvallValue::Off => RCVALL_OFF,
            RcvallValue::On => RCVALL_ON,
            RcvallValue::SocketLevelOnly => RCVALL_SOCKETLEVELONLY,
            RcvallValue::IpLevel => RCVALL_IPLEVEL,
        }
    }

    /// Appends the 4-byte value.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_u32().to_le_bytes());
    }

    /// Parses the value; one Windows does not define is a `BadValue`.
    pub fn parse(bytes: &[u8]) -> Result<Self, WireError> {
        check_len(bytes, Self::LEN)?;
        Self::from_u32(read_u32(bytes).unwrap_or(0))
            .ok_or(WireError::BadValue("RCVALL_VALUE out of range"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quickcheck::quickcheck;

    const ALL: [RcvallValue; 4] = [
        RcvallValue::Off,
        RcvallValue::On,
        RcvallValue::SocketLevelOnly,
        RcvallValue::IpLevel,
    ];

    #[test]
    fn rcvall_iplevel_is_these_4_bytes() {
        let mut out = Vec::new();
        RcvallValue::IpLevel.emit(&mut out);
        assert_eq!(out, [3, 0, 0, 0]);
        assert_eq!(RcvallValue::parse(&[3, 0, 0, 0]), Ok(RcvallValue::IpLevel));
    }

    #[test]
    fn values_are_zero_to_three_in_header_order() {
        let raw: Vec<u32> = ALL.iter().map(|v| v.to_u32()).collect();
        assert_eq!(raw, [0, 1, 2, 3]);
    }

    #[test]
    fn four_is_not_a_mode() {
        assert_eq!(RcvallValue::from_u32(4), None);
        assert!(matches!(
            RcvallValue::parse(&[4, 0, 0, 0]),
            Err(WireError::BadValue(_))
        ));
    }

    #[test]
    fn every_mode_round_trips_and_every_prefix_is_truncated() {
        for v in ALL {
            let mut out = vec![0xee];
            v.emit(&mut out);
            assert_eq!(out.len(), 1 + RcvallValue::LEN);
            assert_eq!(RcvallValue::parse(&out[1..]), Ok(v));
            for cut in 0..RcvallValue::LEN {
                assert_eq!(
                    RcvallValue::parse(&out[1..1 + cut]),
                    Err(WireError::Truncated {
                        needed: 4,
                        got: cut
                    })
                );
            }
        }
    }

    quickcheck! {
        fn from_u32_then_to_u32_is_the_identity_where_defined(raw: u32) -> bool {
            RcvallValue::from_u32(raw).is_none_or(|v| v.to_u32() == raw)
        }

        fn parse_never_panics(bytes: Vec<u8>) -> bool {
            let _ = RcvallValue::parse(&bytes);
            true
        }
    }
}
