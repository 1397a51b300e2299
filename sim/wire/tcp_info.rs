//! TCP_INFO_v0 and TCP_INFO_v1, the output of SIO_TCP_INFO. The version is
//! the ioctl's input DWORD; the output carries no version field.
//!
//! Natural C alignment: ULONG64 fields sit on 8-byte boundaries (MSVC does
//! this on x86 too, so the layout is the same for 32- and 64-bit callers),
//! BOOLEAN and UCHAR are one byte, and the size rounds up to 8.
//!
//! ```text
//! off  size  field                 off  size  field (v1 only)
//!   0     4  State (TCPSTATE)       88     4  SndLimTransRwin
//!   4     4  Mss                    92     4  SndLimTimeRwin
//!   8     8  ConnectionTimeMs       96     8  SndLimBytesRwin
//!  16     1  TimestampsEnabled     104     4  SndLimTransCwnd
//!  17     3  (padding)             108     4  SndLimTimeCwnd
//!  20     4  RttUs                 112     8  SndLimBytesCwnd
//!  24     4  MinRttUs              120     4  SndLimTransSnd
//!  28     4  BytesInFlight         124     4  SndLimTimeSnd
//!  32     4  Cwnd                  128     8  SndLimBytesSnd
//!  36     4  SndWnd                136        sizeof(TCP_INFO_v1)
//!  40     4  RcvWnd
//!  44     4  RcvBuf
//!  48     8  BytesOut
//!  56     8  BytesIn
//!  64     4  BytesReordered
//!  68     4  BytesRetrans
//!  72     4  FastRetrans
//!  76     4  DupAcksIn
//!  80     4  TimeoutEpisodes
//!  84     1  SynRetrans
//!  85     3  (padding; in v1 it aligns SndLimTransRwin)
//!  88        sizeof(TCP_INFO_v0)
//! ```

use super::{check_len, read_u32, read_u64, WireError};

/// The TCPSTATE enum that `State` holds, in declaration order from 0. CLOSED: no
/// connection (before connect, or after it is gone).
pub const TCPSTATE_CLOSED: u32 = 0;
/// Waiting for a connection request (a listening socket).
pub const TCPSTATE_LISTEN: u32 = 1;
/// A connection request sent, waiting for the matching one.
pub const TCPSTATE_SYN_SENT: u32 = 2;
/// A connection request received and answered, waiting for its acknowledgment.
pub const TCPSTATE_SYN_RCVD: u32 = 3;
/// Open: data can flow both ways.
pub const TCPSTATE_ESTABLISHED: u32 = 4;
/// Closed locally; waiting for the peer to acknowledge the FIN or close too.
pub const TCPSTATE_FIN_WAIT_1: u32 = 5;
/// Closed locally and acknowledged; waiting for the peer's FIN.
pub const TCPSTATE_FIN_WAIT_2: u32 = 6;
/// The peer has closed; waiting for the local close.
pub const TCPSTATE_CLOSE_WAIT: u32 = 7;
/// Both sides closed at once; waiting for the acknowledgment of the local FIN.
pub const TCPSTATE_CLOSING: u32 = 8;
/// Closed after the peer; waiting for the acknowledgment of the local FIN.
pub const TCPSTATE_LAST_ACK: u32 = 9;
/// Closed; waiting out stray segments before the connection is forgotten.
pub const TCPSTATE_TIME_WAIT: u32 = 10;
/// One past the last state: the number of TCPSTATE values, not a state.
pub const TCPSTATE_MAX: u32 = 11;

/// `sizeof(TCP_INFO_v0)`.
pub const TCP_INFO_V0_LEN: usize = 88;
/// `sizeof(TCP_INFO_v1)`.
pub const TCP_INFO_V1_LEN: usize = 136;

/// Which structure SIO_TCP_INFO was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpInfoVersion {
    /// TCP_INFO_v0 (input 0): 88 bytes.
    V0,
    /// TCP_INFO_v1 (input 1): 136 bytes, v0 plus the `SndLim*` counters.
    V1,
}

impl TcpInfoVersion {
    /// The version for the ioctl's input DWORD, if Windows defines it.
    pub const fn from_u32(value: u32) -> Option<Self> {
        match value {
            0 => Some(TcpInfoVersion::V0),
            1 => Some(TcpInfoVersion::V1),
            _ => None,
        }
    }

    /// The input DWORD.
    pub const fn to_u32(self) -> u32 {
        match self {
            TcpInfoVersion::V0 => 0,
            TcpInfoVersion::V1 => 1,
        }
    }

    /// The size of that version's structure.
    pub const fn buffer_len(self) -> usize {
        match self {
            TcpInfoVersion::V0 => TCP_INFO_V0_LEN,
            TcpInfoVersion::V1 => TCP_INFO_V1_LEN,
        }
    }
}

/// A TCP_INFO_v0 or TCP_INFO_v1. The `snd_lim_*` fields exist only in v1:
/// emitting v0 leaves them out and parsing v0 sets them to zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpInfo {
    /// Which structure this is; not written to the output (the ioctl's input names it).
    pub version: TcpInfoVersion,
    /// `State`: a `TCPSTATE_*` value.
    pub state: u32,
    /// `Mss`: the maximum segment size, in bytes.
    pub mss: u32,
    /// `ConnectionTimeMs`: how long the connection has existed, in milliseconds.
    pub connection_time_ms: u64,
    /// `TimestampsEnabled`, a BOOLEAN: written as 0 or 1, and any nonzero byte reads as
    /// true.
    pub timestamps_enabled: bool,
    /// `RttUs`: the current round-trip time estimate, in microseconds.
    pub rtt_us: u32,
    /// `MinRttUs`: the smallest round-trip time seen, in microseconds.
    pub min_rtt_us: u32,
    /// `BytesInFlight`: bytes sent and not yet acknowledged.
    pub bytes_in_flight: u32,
    /// `Cwnd`: the congestion window, in bytes.
    pub cwnd: u32,
    /// `SndWnd`: the window the peer advertises, in bytes.
    pub snd_wnd: u32,
    /// `RcvWnd`: the window advertised to the peer, in bytes.
    pub rcv_wnd: u32,
    /// `RcvBuf`: the receive buffer size, in bytes.
    pub rcv_buf: u32,
    /// `BytesOut`: bytes sent.
    pub bytes_out: u64,
    /// `BytesIn`: bytes received.
    pub bytes_in: u64,
    /// `BytesReordered`: bytes received out of order.
    pub bytes_reordered: u32,
    /// `BytesRetrans`: bytes retransmitted.
    pub bytes_retrans: u32,
    /// `FastRetrans`: fast retransmissions.
    pub fast_retrans: u32,
    /// `DupAcksIn`: duplicate acknowledgments received.
    pub dup_acks_in: u32,
    /// `TimeoutEpisodes`: retransmission timeout episodes.
    pub timeout_episodes: u32,
    /// `SynRetrans`: retransmissions of the SYN (a UCHAR).
    pub syn_retrans: u8,
    /// `SndLimTransRwin` (v1): times sending became limited by the peer's window.
    pub snd_lim_trans_rwin: u32,
    /// `SndLimTimeRwin` (v1): milliseconds spent limited by the peer's window.
    pub snd_lim_time_rwin: u32,
    /// `SndLimBytesRwin` (v1): bytes sent while limited by the peer's window.
    pub snd_lim_bytes_rwin: u64,
    /// `SndLimTransCwnd` (v1): times sending became limited by the congestion window.
    pub snd_lim_trans_cwnd: u32,
    /// `SndLimTimeCwnd` (v1): milliseconds spent limited by the congestion window.
    pub snd_lim_time_cwnd: u32,
    /// `SndLimBytesCwnd` (v1): bytes sent while limited by the congestion window.
    pub snd_lim_bytes_cwnd: u64,
    /// `SndLimTransSnd` (v1): times sending became limited by the sender.
    pub snd_lim_trans_snd: u32,
    /// `SndLimTimeSnd` (v1): milliseconds spent limited by the sender.
    pub snd_lim_time_snd: u32,
    /// `SndLimBytesSnd` (v1): bytes sent while limited by the sender.
    pub snd_lim_bytes_snd: u64,
}

impl TcpInfo {
    /// An all-zero record of the given version (state CLOSED).
    pub const fn zeroed(version: TcpInfoVersion) -> Self {
        TcpInfo {
            version,
            state: TCPSTATE_CLOSED,
            mss: 0,
            connection_time_ms: 0,
            timestamps_enabled: false,
            rtt_us: 0,
            min_rtt_us: 0,
            bytes_in_flight: 0,
            cwnd: 0,
            snd_wnd: 0,
            rcv_wnd: 0,
            rcv_buf: 0,
            bytes_out: 0,
            bytes_in: 0,
            bytes_reordered: 0,
            bytes_retrans: 0,
            fast_retrans: 0,
            dup_acks_in: 0,
            timeout_episodes: 0,
            syn_retrans: 0,
            snd_lim_trans_rwin: 0,
            snd_lim_time_rwin: 0,
            snd_lim_bytes_rwin: 0,
            snd_lim_trans_cwnd: 0,
            snd_lim_time_cwnd: 0,
            snd_lim_bytes_cwnd: 0,
            snd_lim_trans_snd: 0,
            snd_lim_time_snd: 0,
            snd_lim_bytes_snd: 0,
        }
    }

    /// 88 bytes for v0, 136 for v1.
    pub fn buffer_len(&self) -> usize {
        self.version.buffer_len()
    }

    /// Appends the structure of `self.version`; padding is zero.
    pub fn emit(&self, out: &mut Vec<u8>) {
        let mut b = [0u8; TCP_INFO_V1_LEN];
        let mut put32 = |at: usize, v: u32| b[at..at + 4].copy_from_slice(&v.to_le_bytes());
        put32(0, self.state);
        put32(4, self.mss);
        put32(20, self.rtt_us);
        put32(24, self.min_rtt_us);
        put32(28, self.bytes_in_flight);
        put32(32, self.cwnd);
        put32(36, self.snd_wnd);
        put32(40, self.rcv_wnd);
        put32(44, self.rcv_buf);
        put32(64, self.bytes_reordered);
        put32(68, self.bytes_retrans);
        put32(72, self.fast_retrans);
        put32(76, self.dup_acks_in);
        put32(80, self.timeout_episodes);
        put32(88, self.snd_lim_trans_rwin);
        put32(92, self.snd_lim_time_rwin);
        put32(104, self.snd_lim_trans_cwnd);
        put32(108, self.snd_lim_time_cwnd);
        put32(120, self.snd_lim_trans_snd);
        put32(124, self.snd_lim_time_snd);
        let mut put64 = |at: usize, v: u64| b[at..at + 8].copy_from_slice(&v.to_le_bytes());
        put64(8, self.connection_time_ms);
        put64(48, self.bytes_out);
        put64(56, self.bytes_in);
        put64(96, self.snd_lim_bytes_rwin);
        put64(112, self.snd_lim_bytes_cwnd);
        put64(128, self.snd_lim_bytes_snd);
        b[16] = u8::from(self.timestamps_enabled);
        b[84] = self.syn_retrans;
        out.extend_from_slice(&b[..self.buffer_len()]);
    }

    /// Parses the structure of `version` from the start of `bytes`; padding
    /// is not checked.
    pub fn parse(bytes: &[u8], version: TcpInfoVersion) -> Result<Self, WireError> {
        check_len(bytes, version.buffer_len())?;
        let u32_at = |at: usize| read_u32(&bytes[at..]).unwrap_or(0);
        let u64_at = |at: usize| read_u64(&bytes[at..]).unwrap_or(0);
        let mut info = TcpInfo {
            version,
            state: u32_at(0),
            mss: u32_at(4),
            connection_time_ms: u64_at(8),
            timestamps_enabled: bytes[16] != 0,
            rtt_us: u32_at(20),
            min_rtt_us: u32_at(24),
            bytes_in_flight: u32_at(28),
            cwnd: u32_at(32),
            snd_wnd: u32_at(36),
            rcv_wnd: u32_at(40),
            rcv_buf: u32_at(44),
            bytes_out: u64_at(48),
            bytes_in: u64_at(56),
            bytes_reordered: u32_at(64),
            bytes_retrans: u32_at(68),
            fast_retrans: u32_at(72),
            dup_acks_in: u32_at(76),
            timeout_episodes: u32_at(80),
            syn_retrans: bytes[84],
            ..TcpInfo::zeroed(version)
        };
        if version == TcpInfoVersion::V1 {
            info.snd_lim_trans_rwin = u32_at(88);
            info.snd_lim_time_rwin = u32_at(92);
            info.snd_lim_bytes_rwin = u64_at(96);
            info.snd_lim_trans_cwnd = u32_at(104);
            info.snd_lim_time_cwnd = u32_at(108);
            info.snd_lim_bytes_cwnd = u64_at(112);
            info.snd_lim_trans_snd = u32_at(120);
            info.snd_lim_time_snd = u32_at(124);
            info.snd_lim_bytes_snd = u64_at(128);
        }
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every field set to a distinct value, so a misplaced field shows.
    fn numbered(version: TcpInfoVersion) -> TcpInfo {
        TcpInfo {
            version,
            state: TCPSTATE_ESTABLISHED,
            mss: 0x0102_0304,
            connection_time_ms: 0x1112_1314_1516_1718,
            timestamps_enabled: true,
            rtt_us: 0x21,
            min_rtt_us: 0x22,
            bytes_in_flight: 0x23,
            cwnd: 0x24,
            snd_wnd: 0x25,
            rcv_wnd: 0x26,
            rcv_buf: 0x27,
            bytes_out: 0x28,
            bytes_in: 0x29,
            bytes_reordered: 0x2a,
            bytes_retrans: 0x2b,
            fast_retrans: 0x2c,
            dup_acks_in: 0x2d,
            timeout_episodes: 0x2e,
            syn_retrans: 0x2f,
            snd_lim_trans_rwin: 0x31,
            snd_lim_time_rwin: 0x32,
            snd_lim_bytes_rwin: 0x33,
            snd_lim_trans_cwnd: 0x34,
            snd_lim_time_cwnd: 0x35,
            snd_lim_bytes_cwnd: 0x36,
            snd_lim_trans_snd: 0x37,
            snd_lim_time_snd: 0x38,
            snd_lim_bytes_snd: 0x39,
        }
    }

    #[rustfmt::skip]
    const V0_BYTES: [u8; 88] = [
        4, 0, 0, 0,  0x04, 0x03, 0x02, 0x01,                  // State, Mss
        0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11,       // ConnectionTimeMs
        1, 0, 0, 0,  0x21, 0, 0, 0,                           // TimestampsEnabled + pad, RttUs
        0x22, 0, 0, 0,  0x23, 0, 0, 0,                        // MinRttUs, BytesInFlight
        0x24, 0, 0, 0,  0x25, 0, 0, 0,                        // Cwnd, SndWnd
        0x26, 0, 0, 0,  0x27, 0, 0, 0,                        // RcvWnd, RcvBuf
        0x28, 0, 0, 0, 0, 0, 0, 0,                            // BytesOut
        0x29, 0, 0, 0, 0, 0, 0, 0,                            // BytesIn
        0x2a, 0, 0, 0,  0x2b, 0, 0, 0,                        // BytesReordered, BytesRetrans
        0x2c, 0, 0, 0,  0x2d, 0, 0, 0,                        // FastRetrans, DupAcksIn
        0x2e, 0, 0, 0,  0x2f, 0, 0, 0,                        // TimeoutEpisodes, SynRetrans + pad
    ];

    #[rustfmt::skip]
    const V1_TAIL: [u8; 48] = [
        0x31, 0, 0, 0,  0x32, 0, 0, 0,                        // SndLimTransRwin, SndLimTimeRwin
        0x33, 0, 0, 0, 0, 0, 0, 0,                            // SndLimBytesRwin
        0x34, 0, 0, 0,  0x35, 0, 0, 0,                        // SndLimTransCwnd, SndLimTimeCwnd
        0x36, 0, 0, 0, 0, 0, 0, 0,                            // SndLimBytesCwnd
        0x37, 0, 0, 0,  0x38, 0, 0, 0,                        // SndLimTransSnd, SndLimTimeSnd
        0x39, 0, 0, 0, 0, 0, 0, 0,                            // SndLimBytesSnd
    ];

    #[test]
    fn tcp_info_v0_with_numbered_fields_is_these_88_bytes() {
        let info = TcpInfo {
            snd_lim_trans_rwin: 0,
            snd_lim_time_rwin: 0,
            snd_lim_bytes_rwin: 0,
            snd_lim_trans_cwnd: 0,
            snd_lim_time_cwnd: 0,
            snd_lim_bytes_cwnd: 0,
            snd_lim_trans_snd: 0,
            snd_lim_time_snd: 0,
            snd_lim_bytes_snd: 0,
            ..numbered(TcpInfoVersion::V0)
        };
        let mut out = Vec::new();
        info.emit(&mut out);
        assert_eq!(out, V0_BYTES);
        assert_eq!(TcpInfo::parse(&V0_BYTES, TcpInfoVersion::V0), Ok(info));
    }

    #[test]
    fn tcp_info_v1_with_numbered_fields_is_these_136_bytes() {
        let info = numbered(TcpInfoVersion::V1);
        let mut bytes = V0_BYTES.to_vec();
        bytes.extend_from_slice(&V1_TAIL);
        let mut out = Vec::new();
        info.emit(&mut out);
        assert_eq!(out, bytes);
        assert_eq!(TcpInfo::parse(&bytes, TcpInfoVersion::V1), Ok(info));
    }

    #[test]
    fn v0_leaves_out_the_v1_fields() {
        let mut out = Vec::new();
        numbered(TcpInfoVersion::V0).emit(&mut out);
        assert_eq!(out, V0_BYTES);
    }

    #[test]
    fn any_nonzero_boolean_byte_reads_as_true() {
        let mut bytes = V0_BYTES;
        bytes[16] = 0x80;
        let info = TcpInfo::parse(&bytes, TcpInfoVersion::V0).unwrap();
        assert!(info.timestamps_enabled);
    }

    #[test]
    fn versions_are_zero_and_one() {
        assert_eq!(TcpInfoVersion::from_u32(0), Some(TcpInfoVersion::V0));
        assert_eq!(TcpInfoVersion::from_u32(1), Some(TcpInfoVersion::V1));
        assert_eq!(TcpInfoVersion::from_u32(2), None);
        assert_eq!(TcpInfoVersion::V1.to_u32(), 1);
    }

    /// The C compiler's own layout of the header's structure, on a 64-bit
    /// host where ULONG64 is 8-byte aligned as in MSVC.
    #[cfg(target_pointer_width = "64")]
    #[test]
    fn offsets_match_the_repr_c_layout() {
        use std::mem::{offset_of, size_of};
        #[allow(dead_code)]
        #[repr(C)]
        struct TcpInfoV1 {
            state: u32,
            mss: u32,
            connection_time_ms: u64,
            timestamps_enabled: u8,
            rtt_us: u32,
            min_rtt_us: u32,
            bytes_in_flight: u32,
            cwnd: u32,
            snd_wnd: u32,
            rcv_wnd: u32,
            rcv_buf: u32,
            bytes_out: u64,
            bytes_in: u64,
            bytes_reordered: u32,
            bytes_retrans: u32,
            fast_retrans: u32,
            dup_acks_in: u32,
            timeout_episodes: u32,
            syn_retrans: u8,
            snd_lim_trans_rwin: u32,
            snd_lim_time_rwin: u32,
            snd_lim_bytes_rwin: u64,
            snd_lim_trans_cwnd: u32,
            snd_lim_time_cwnd: u32,
            snd_lim_bytes_cwnd: u64,
            snd_lim_trans_snd: u32,
            snd_lim_time_snd: u32,
            snd_lim_bytes_snd: u64,
        }
        assert_eq!(offset_of!(TcpInfoV1, timestamps_enabled), 16);
        assert_eq!(offset_of!(TcpInfoV1, rtt_us), 20);
        assert_eq!(offset_of!(TcpInfoV1, bytes_out), 48);
        assert_eq!(offset_of!(TcpInfoV1, syn_retrans), 84);
        assert_eq!(offset_of!(TcpInfoV1, snd_lim_trans_rwin), 88);
        assert_eq!(offset_of!(TcpInfoV1, snd_lim_bytes_rwin), 96);
        assert_eq!(offset_of!(TcpInfoV1, snd_lim_bytes_cwnd), 112);
        assert_eq!(offset_of!(TcpInfoV1, snd_lim_bytes_snd), 128);
        assert_eq!(size_of::<TcpInfoV1>(), TCP_INFO_V1_LEN);
        // v0 ends after SynRetrans, rounded up to the 8-byte alignment.
        assert_eq!(
            (offset_of!(TcpInfoV1, syn_retrans) + 1).next_multiple_of(8),
            TCP_INFO_V0_LEN
        );
    }

    fn versions() -> impl Strategy<Value = TcpInfoVersion> {
        prop_oneof![Just(TcpInfoVersion::V0), Just(TcpInfoVersion::V1)]
    }

    /// Records as parse would return them: v1-only fields zero in v0.
    fn infos() -> impl Strategy<Value = TcpInfo> {
        (
            versions(),
            any::<[u32; 20]>(),
            any::<[u64; 6]>(),
            any::<bool>(),
            any::<u8>(),
        )
            .prop_map(|(version, a, q, ts, syn)| {
                let v1 = version == TcpInfoVersion::V1;
                let a1 = |i: usize| if v1 { a[i] } else { 0 };
                let q1 = |i: usize| if v1 { q[i] } else { 0 };
                TcpInfo {
                    version,
                    state: a[0],
                    mss: a[1],
                    connection_time_ms: q[0],
                    timestamps_enabled: ts,
                    rtt_us: a[2],
                    min_rtt_us: a[3],
                    bytes_in_flight: a[4],
                    cwnd: a[5],
                    snd_wnd: a[6],
                    rcv_wnd: a[7],
                    rcv_buf: a[8],
                    bytes_out: q[1],
                    bytes_in: q[2],
                    bytes_reordered: a[9],
                    bytes_retrans: a[10],
                    fast_retrans: a[11],
                    dup_acks_in: a[12],
                    timeout_episodes: a[13],
                    syn_retrans: syn,
                    snd_lim_trans_rwin: a1(14),
                    snd_lim_time_rwin: a1(15),
                    snd_lim_bytes_rwin: q1(3),
                    snd_lim_trans_cwnd: a1(16),
                    snd_lim_time_cwnd: a1(17),
                    snd_lim_bytes_cwnd: q1(4),
                    snd_lim_trans_snd: a1(18),
                    snd_lim_time_snd: a1(19),
                    snd_lim_bytes_snd: q1(5),
                }
            })
    }

    proptest! {
        #[test]
        fn emit_then_parse_gives_back_the_record(info in infos()) {
            let mut out = vec![0xee];
            info.emit(&mut out);
            prop_assert_eq!(out.len(), 1 + info.buffer_len());
            prop_assert_eq!(TcpInfo::parse(&out[1..], info.version), Ok(info));
        }

        #[test]
        fn every_truncated_prefix_is_reported_as_truncated(info in infos()) {
            let mut out = Vec::new();
            info.emit(&mut out);
            for cut in 0..out.len() {
                prop_assert_eq!(
                    TcpInfo::parse(&out[..cut], info.version),
                    Err(WireError::Truncated { needed: info.buffer_len(), got: cut })
                );
            }
        }

        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..150), version in versions()) {
            let _ = TcpInfo::parse(&bytes, version);
        }
    }
}
