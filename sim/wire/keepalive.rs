//! `struct tcp_keepalive`, the input of SIO_KEEPALIVE_VALS.
//!
//! Three ULONGs, 12 bytes, no padding: `onoff` at 0, `keepalivetime` (ms) at
//! 4, `keepaliveinterval` (ms) at 8.

use super::{check_len, read_u32, WireError};

/// Keep-alive settings; times are in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpKeepalive {
    /// Nonzero turns keep-alive on.
    pub onoff: u32,
    /// Idle time before the first probe.
    pub time: u32,
    /// Time between probes.
    pub interval: u32,
}

impl TcpKeepalive {
    /// `sizeof(struct tcp_keepalive)`.
    pub const LEN: usize = 12;

    /// Appends the 12-byte structure.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.onoff.to_le_bytes());
        out.extend_from_slice(&self.time.to_le_bytes());
        out.extend_from_slice(&self.interval.to_le_bytes());
    }

    /// Parses the structure from the start of `bytes`.
    pub fn parse(bytes: &[u8]) -> Result<Self, WireError> {
        check_len(bytes, Self::LEN)?;
        Ok(TcpKeepalive {
            onoff: read_u32(bytes).unwrap_or(0),
            time: read_u32(&bytes[4..]).unwrap_or(0),
            interval: read_u32(&bytes[8..]).unwrap_or(0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quickcheck::quickcheck;

    #[test]
    fn keepalive_on_after_two_hours_every_second_is_these_12_bytes() {
        let ka = TcpKeepalive {
            onoff: 1,
            time: 7_200_000,
            interval: 1_000,
        };
        let bytes = [1, 0, 0, 0, 0x00, 0xdd, 0x6d, 0x00, 0xe8, 0x03, 0, 0];
        let mut out = Vec::new();
        ka.emit(&mut out);
        assert_eq!(out, bytes);
        assert_eq!(TcpKeepalive::parse(&bytes), Ok(ka));
    }

    quickcheck! {
        fn emit_then_parse_gives_back_the_settings(onoff: u32, time: u32, interval: u32) -> bool {
            let ka = TcpKeepalive { onoff, time, interval };
            let mut out = vec![0xee];
            ka.emit(&mut out);
            out.len() == 1 + TcpKeepalive::LEN && TcpKeepalive::parse(&out[1..]) == Ok(ka)
        }

        fn every_truncated_prefix_is_reported_as_truncated(onoff: u32, time: u32, interval: u32) -> bool {
            let mut out = Vec::new();
            TcpKeepalive { onoff, time, interval }.emit(&mut out);
            (0..out.len()).all(|cut| {
                TcpKeepalive::parse(&out[..cut])
                    == Err(WireError::Truncated { needed: TcpKeepalive::LEN, got: cut })
            })
        }

        fn parse_never_panics(bytes: Vec<u8>) -> bool {
            let _ = TcpKeepalive::parse(&bytes);
            true
        }
    }
}
