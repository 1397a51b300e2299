//! FLOWSPEC and QOS, as SIO_GET_QOS / SIO_SET_QOS and WSAConnect carry them.
//!
//! FLOWSPEC is eight ULONGs, 32 bytes: TokenRate at 0, TokenBucketSize at 4,
//! PeakBandwidth at 8, Latency at 12, DelayVariation at 16, ServiceType at 20,
//! MaxSduSize at 24, MinimumPolicedSize at 28.
//!
//! QOS is SendingFlowspec at 0, ReceivingFlowspec at 32, then ProviderSpecific,
//! a WSABUF `{ ULONG len; CHAR *buf; }` at 64. WSABUF holds a pointer, so it
//! is 16 bytes on 64-bit (len, 4 padding bytes, 8-byte pointer; QOS = 80) and
//! 8 bytes on 32-bit (len, 4-byte pointer; QOS = 72).

use super::{check_len, read_ptr, read_u32, write_ptr, PointerSize, WireError};

/// A FLOWSPEC field with no requirement.
pub const QOS_NOT_SPECIFIED: u32 = 0xFFFF_FFFF;
/// A token rate with no limit.
pub const POSITIVE_INFINITY_RATE: u32 = 0xFFFF_FFFE;

/// No data in this direction.
pub const SERVICETYPE_NOTRAFFIC: u32 = 0x0000_0000;
/// Best effort.
pub const SERVICETYPE_BESTEFFORT: u32 = 0x0000_0001;
/// Controlled load.
pub const SERVICETYPE_CONTROLLEDLOAD: u32 = 0x0000_0002;
/// Guaranteed.
pub const SERVICETYPE_GUARANTEED: u32 = 0x0000_0003;
/// Tells the application the network is unavailable.
pub const SERVICETYPE_NETWORK_UNAVAILABLE: u32 = 0x0000_0004;
/// IntServ "General Parameters".
pub const SERVICETYPE_GENERAL_INFORMATION: u32 = 0x0000_0005;
/// The flowspec does not change the previous one.
pub const SERVICETYPE_NOCHANGE: u32 = 0x0000_0006;
/// Non-conforming traffic.
pub const SERVICETYPE_NONCONFORMING: u32 = 0x0000_0009;
/// Network control traffic.
pub const SERVICETYPE_NETWORK_CONTROL: u32 = 0x0000_000A;
/// Qualitative service.
pub const SERVICETYPE_QUALITATIVE: u32 = 0x0000_000D;
/// Flag ORed into ServiceType: no traffic control for this flow.
pub const SERVICE_NO_TRAFFIC_CONTROL: u32 = 0x8100_0000;
/// Flag ORed into ServiceType: no RSVP signalling for this flow.
pub const SERVICE_NO_QOS_SIGNALING: u32 = 0x4000_0000;

/// One direction's flow requirements; every field is a ULONG.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flowspec {
    /// The FLOWSPEC/QOS field `token_rate`.
    pub token_rate: u32,
    /// The FLOWSPEC/QOS field `token_bucket_size`.
    pub token_bucket_size: u32,
    /// The FLOWSPEC/QOS field `peak_bandwidth`.
    pub peak_bandwidth: u32,
    /// The FLOWSPEC/QOS field `latency`.
    pub latency: u32,
    /// The FLOWSPEC/QOS field `delay_variation`.
    pub delay_variation: u32,
    /// A `SERVICETYPE_*` value, possibly with `SERVICE_*` flags.
    pub service_type: u32,
    /// The FLOWSPEC/QOS field `max_sdu_size`.
    pub max_sdu_size: u32,
    /// The FLOWSPEC/QOS field `minimum_policed_size`.
    pub minimum_policed_size: u32,
}

impl Flowspec {
    /// `sizeof(FLOWSPEC)`.
    pub const LEN: usize = 32;

    fn fields(&self) -> [u32; 8] {
        [
            self.token_rate,
            self.token_bucket_size,
            self.peak_bandwidth,
            self.latency,
            self.delay_variation,
            self.service_type,
            self.max_sdu_size,
            self.minimum_policed_size,
        ]
    }

    /// Appends the 32-byte structure.
    pub fn emit(&self, out: &mut Vec<u8>) {
        for field in self.fields() {
            out.extend_from_slice(&field.to_le_bytes());
        }
    }

    /// Parses the structure from the start of `bytes`.
    pub fn parse(bytes: &[u8]) -> Result<Self, WireError> {
        check_len(bytes, Self::LEN)?;
        let f = |i: usize| read_u32(&bytes[4 * i..]).unwrap_or(0);
        Ok(Flowspec {
            token_rate: f(0),
            token_bucket_size: f(1),
            peak_bandwidth: f(2),
            latency: f(3),
            delay_variation: f(4),
            service_type: f(5),
            max_sdu_size: f(6),
            minimum_policed_size: f(7),
        })
    }
}

/// QOS: two flowspecs and the provider-specific WSABUF, kept as raw length
/// and pointer because this layer never follows pointers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Qos {
    /// The FLOWSPEC/QOS field `sending`.
    pub sending: Flowspec,
    /// The FLOWSPEC/QOS field `receiving`.
    pub receiving: Flowspec,
    /// `ProviderSpecific.len`.
    pub provider_specific_len: u32,
    /// `ProviderSpecific.buf`; on 32-bit only the low 32 bits are written.
    pub provider_specific_ptr: u64,
}

impl Qos {
    /// `sizeof(QOS)`: 80 on 64-bit, 72 on 32-bit.
    pub const fn buffer_len(ptr: PointerSize) -> usize {
        2 * Flowspec::LEN + wsabuf_len(ptr)
    }

    /// Appends the structure for the given pointer width; padding is zero.
    pub fn emit(&self, ptr: PointerSize, out: &mut Vec<u8>) {
        self.sending.emit(out);
        self.receiving.emit(out);
        out.extend_from_slice(&self.provider_specific_len.to_le_bytes());
        if ptr == PointerSize::Bits64 {
            out.extend_from_slice(&[0; 4]);
        }
        write_ptr(self.provider_specific_ptr, ptr, out);
    }

    /// Parses the structure for the given pointer width; padding is not checked.
    pub fn parse(bytes: &[u8], ptr: PointerSize) -> Result<Self, WireError> {
        check_len(bytes, Self::buffer_len(ptr))?;
        let wsabuf = &bytes[2 * Flowspec::LEN..];
        let ptr_at = wsabuf_len(ptr) - ptr.bytes();
        Ok(Qos {
            sending: Flowspec::parse(bytes)?,
            receiving: Flowspec::parse(&bytes[Flowspec::LEN..])?,
            provider_specific_len: read_u32(wsabuf).unwrap_or(0),
            provider_specific_ptr: read_ptr(&wsabuf[ptr_at..], ptr).unwrap_or(0),
        })
    }
}

/// `sizeof(WSABUF)`: the ULONG is padded up to the pointer's alignment.
const fn wsabuf_len(ptr: PointerSize) -> usize {
    2 * ptr.bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> Qos {
        Qos {
            sending: Flowspec {
                token_rate: 1,
                token_bucket_size: 2,
                peak_bandwidth: 3,
                latency: 4,
                delay_variation: 5,
                service_type: SERVICETYPE_GUARANTEED,
                max_sdu_size: 7,
                minimum_policed_size: 8,
            },
            receiving: Flowspec {
                service_type: SERVICETYPE_NOTRAFFIC,
                ..Flowspec::default()
            },
            provider_specific_len: 0x20,
            provider_specific_ptr: 0x1122_3344_5566_7788,
        }
    }

    fn expected_prefix() -> Vec<u8> {
        let mut bytes = Vec::new();
        for v in [1u8, 2, 3, 4, 5, 3, 7, 8] {
            bytes.extend_from_slice(&[v, 0, 0, 0]);
        }
        bytes.extend_from_slice(&[0; 32]);
        bytes.extend_from_slice(&[0x20, 0, 0, 0]);
        bytes
    }

    #[test]
    fn qos_on_64_bit_is_these_80_bytes() {
        let mut bytes = expected_prefix();
        bytes.extend_from_slice(&[0, 0, 0, 0]);
        bytes.extend_from_slice(&[0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]);
        let mut out = Vec::new();
        sample().emit(PointerSize::Bits64, &mut out);
        assert_eq!(out.len(), 80);
        assert_eq!(out, bytes);
        assert_eq!(Qos::parse(&bytes, PointerSize::Bits64), Ok(sample()));
    }

    #[test]
    fn qos_on_32_bit_is_these_72_bytes_with_the_low_pointer_half() {
        let mut bytes = expected_prefix();
        bytes.extend_from_slice(&[0x88, 0x77, 0x66, 0x55]);
        let mut out = Vec::new();
        sample().emit(PointerSize::Bits32, &mut out);
        assert_eq!(out.len(), 72);
        assert_eq!(out, bytes);
        let back = Qos {
            provider_specific_ptr: 0x5566_7788,
            ..sample()
        };
        assert_eq!(Qos::parse(&bytes, PointerSize::Bits32), Ok(back));
    }

    #[test]
    fn an_unspecified_flowspec_is_all_ff() {
        let f = Flowspec {
            token_rate: QOS_NOT_SPECIFIED,
            token_bucket_size: QOS_NOT_SPECIFIED,
            peak_bandwidth: QOS_NOT_SPECIFIED,
            latency: QOS_NOT_SPECIFIED,
            delay_variation: QOS_NOT_SPECIFIED,
            service_type: QOS_NOT_SPECIFIED,
            max_sdu_size: QOS_NOT_SPECIFIED,
            minimum_policed_size: QOS_NOT_SPECIFIED,
        };
        let mut out = Vec::new();
        f.emit(&mut out);
        assert_eq!(out, [0xff; 32]);
        assert_eq!(Flowspec::parse(&out), Ok(f));
    }

    #[test]
    fn service_types_match_qos_h() {
        assert_eq!(
            [
                SERVICETYPE_NOTRAFFIC,
                SERVICETYPE_BESTEFFORT,
                SERVICETYPE_CONTROLLEDLOAD,
                SERVICETYPE_GUARANTEED,
                SERVICETYPE_NETWORK_UNAVAILABLE,
                SERVICETYPE_GENERAL_INFORMATION,
                SERVICETYPE_NOCHANGE,
                SERVICETYPE_NONCONFORMING,
                SERVICETYPE_NETWORK_CONTROL,
                SERVICETYPE_QUALITATIVE,
            ],
            [0, 1, 2, 3, 4, 5, 6, 9, 10, 13]
        );
    }

    fn flowspecs() -> impl Strategy<Value = Flowspec> {
        any::<[u32; 8]>().prop_map(|f| Flowspec {
            token_rate: f[0],
            token_bucket_size: f[1],
            peak_bandwidth: f[2],
            latency: f[3],
            delay_variation: f[4],
            service_type: f[5],
            max_sdu_size: f[6],
            minimum_policed_size: f[7],
        })
    }

    /// A QOS and a pointer width whose pointer fits it.
    fn qos_and_width() -> impl Strategy<Value = (Qos, PointerSize)> {
        (
            flowspecs(),
            flowspecs(),
            any::<u32>(),
            any::<u64>(),
            any::<bool>(),
        )
            .prop_map(|(sending, receiving, len, p, wide)| {
                let (ptr, p) = if wide {
                    (PointerSize::Bits64, p)
                } else {
                    (PointerSize::Bits32, p & 0xffff_ffff)
                };
                let qos = Qos {
                    sending,
                    receiving,
                    provider_specific_len: len,
                    provider_specific_ptr: p,
                };
                (qos, ptr)
            })
    }

    proptest! {
        #[test]
        fn emit_then_parse_gives_back_the_qos((qos, ptr) in qos_and_width()) {
            let mut out = vec![0xee];
            qos.emit(ptr, &mut out);
            prop_assert_eq!(out.len(), 1 + Qos::buffer_len(ptr));
            prop_assert_eq!(Qos::parse(&out[1..], ptr), Ok(qos));
        }

        #[test]
        fn every_truncated_prefix_is_reported_as_truncated((qos, ptr) in qos_and_width()) {
            let mut out = Vec::new();
            qos.emit(ptr, &mut out);
            for cut in 0..out.len() {
                prop_assert_eq!(
                    Qos::parse(&out[..cut], ptr),
                    Err(WireError::Truncated { needed: Qos::buffer_len(ptr), got: cut })
                );
                if cut < Flowspec::LEN {
                    prop_assert_eq!(
                        Flowspec::parse(&out[..cut]),
                        Err(WireError::Truncated { needed: Flowspec::LEN, got: cut })
                    );
                }
            }
        }

        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..90)) {
            let _ = Flowspec::parse(&bytes);
            let _ = Qos::parse(&bytes, PointerSize::Bits64);
            let _ = Qos::parse(&bytes, PointerSize::Bits32);
        }
    }
}
