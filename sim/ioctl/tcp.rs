//! SIO_LOOPBACK_FAST_PATH and SIO_TCP_INFO: the TCP-only vendor codes.
//!
//! | Code | Value | Buffers | Fidelity |
//! |---|---|---|---|
//! | SIO_LOOPBACK_FAST_PATH | 0x98000010 (`_WSAIOW(IOC_VENDOR,16)`: I, T = 3, number 16) | in: BOOL-sized int | stored |
//! | SIO_TCP_INFO | 0xD8000027 (`_WSAIORW(IOC_VENDOR,39)`: I, O, T = 3, number 39) | in: DWORD version; out: TCP_INFO_v0 (88) or v1 (136) | simulated from model state |
//!
//! SIO_LOOPBACK_FAST_PATH (Microsoft "SIO_LOOPBACK_FAST_PATH", docs/evidence.md 2): TCP only,
//! applied before connect (a listener may set it; accepted sockets would inherit it).
//! Checks: input shorter than 4 bytes, NULL or unreadable: WSAEFAULT, count untouched;
//! not a TCP socket, or already connecting/connected: WSAEINVAL, count 0. Success
//! writes 0 and stores the switch.
//!
//! SIO_TCP_INFO (Microsoft "SIO_TCP_INFO", docs/evidence.md 2): checks, in order: the input (a
//! NULL pointer or a length other than 4: WSAEMSGSIZE; a version other than 0 or 1:
//! WSAEINVAL), the output (too small or NULL for the version's structure: WSAEINVAL
//! with `*lpcbBytesReturned` = 0, as the page states; an unreadable pointer: WSAEFAULT,
//! untouched), the socket (not TCP: WSAEINVAL, count 0). Success writes the structure
//! and its size. The structure is filled from what the model knows: the state (CLOSED
//! before connect, LISTEN, SYN_SENT, ESTABLISHED, CLOSE_WAIT once the peer has closed),
//! the MSS and windows while connected (values below, chosen without evidence), and
//! SO_RCVBUF as RcvBuf. Byte counters, RTT, congestion and timing fields are 0: the
//! model does not track them.
//!
//! Choices (no evidence; docs/evidence.md 6): version 1 is accepted (mstcpip.h defines
//! TCP_INFO_v1); an unconnected TCP socket answers with its state rather than an error;
//! UDP and raw sockets get WSAEINVAL ("not applicable to the socket type"); the
//! loopback fast path's errors for UDP and after connect are WSAEINVAL; `cbOutBuffer`
//! of the fast-path call is ignored; the MSS of a connection is 65495 over loopback
//! (65535 less 40 bytes of IP and TCP headers) and 1460 otherwise (1500 less 40);
//! RcvWnd is SO_RCVBUF minus the bytes waiting to be received, and SndWnd the same
//! figure for the peer (the model has no real TCP window).

use super::fion::readable_bytes;
use super::{Ctx, InBuffer, OutBuffer, Reply};
use crate::codes::IoctlCode;
use crate::errors::ErrorCode;
use crate::model::socket::ConnState;
use crate::model::{Host, SocketState};
use crate::wire::read_u32;
use crate::wire::tcp_info::{
    TcpInfo, TcpInfoVersion, TCPSTATE_CLOSED, TCPSTATE_CLOSE_WAIT, TCPSTATE_ESTABLISHED,
    TCPSTATE_LISTEN, TCPSTATE_SYN_SENT,
};

pub(crate) fn call(ctx: &mut Ctx) -> Reply {
    match ctx.call.code {
        IoctlCode::SIO_LOOPBACK_FAST_PATH => loopback_fast_path(ctx),
        IoctlCode::SIO_TCP_INFO => tcp_info(ctx),
        _ => super::unsupported(),
    }
}

fn loopback_fast_path(ctx: &mut Ctx) -> Reply {
    let value = match ctx.input_u32() {
        Ok(v) => v,
        Err(e) => return Reply::untouched(e),
    };
    let sock = ctx.sock();
    let connecting = matches!(
        sock.state,
        ConnState::Connecting { .. } | ConnState::Connected { .. }
    );
    if !sock.is_tcp() || connecting {
        return Reply::refused(ErrorCode::WSAEINVAL);
    }
    ctx.sock_mut().options.loopback_fast_path = value != 0;
    Reply::done_empty()
}

fn tcp_info(ctx: &mut Ctx) -> Reply {
    let version = match ctx.call.input {
        InBuffer::Bytes(b) if b.len() == 4 => {
            match read_u32(b).and_then(TcpInfoVersion::from_u32) {
                Some(v) => v,
                None => return Reply::untouched(ErrorCode::WSAEINVAL),
            }
        }
        _ => return Reply::untouched(ErrorCode::WSAEMSGSIZE),
    };
    let needed = version.buffer_len() as u32;
    match ctx.call.output {
        OutBuffer::Capacity(n) if n >= needed => {}
        OutBuffer::Invalid { len } if len >= needed => {
            return Reply::untouched(ErrorCode::WSAEFAULT)
        }
        _ => return Reply::refused(ErrorCode::WSAEINVAL),
    }
    if !ctx.sock().is_tcp() {
        return Reply::refused(ErrorCode::WSAEINVAL);
    }
    let info = snapshot(ctx.host, ctx.sock(), version);
    let mut out = Vec::with_capacity(info.buffer_len());
    info.emit(&mut out);
    Reply::done(out)
}

/// The TCP_INFO the model can derive from a TCP socket's state.
fn snapshot(host: &Host, sock: &SocketState, version: TcpInfoVersion) -> TcpInfo {
    let mut info = TcpInfo::zeroed(version);
    info.rcv_buf = sock.options.rcvbuf;
    match sock.state {
        ConnState::Fresh | ConnState::Bound { .. } => info.state = TCPSTATE_CLOSED,
        ConnState::Listening { .. } => info.state = TCPSTATE_LISTEN,
        ConnState::Connecting { .. } => info.state = TCPSTATE_SYN_SENT,
        ConnState::Connected { remote, peer, .. } => {
            let peer = peer.and_then(|p| host.sockets.get(&p));
            info.state = if peer.is_some() {
                TCPSTATE_ESTABLISHED
            } else {
                TCPSTATE_CLOSE_WAIT
            };
            // Choice (no evidence): the MSS and windows of the module doc's Choices.
            info.mss = if remote.ip().is_loopback() {
                65495
            } else {
                1460
            };
            // Both sockets are TCP, so readable_bytes counts their whole stream.
            info.rcv_wnd = sock.options.rcvbuf.saturating_sub(readable_bytes(sock));
            info.snd_wnd = peer.map_or(0, |p| p.options.rcvbuf.saturating_sub(readable_bytes(p)));
        }
    }
    info
}

#[cfg(test)]
mod tests {
    use crate::codes::IoctlCode;
    use crate::errors::ErrorCode;
    use crate::ioctl::test_support::*;
    use crate::ioctl::IoctlCall;
    use crate::outcome::BytesReturned;
    use crate::winsock::MsgFlags;
    use crate::wire::read_u32;
    use crate::wire::tcp_info::{TCPSTATE_CLOSED, TCPSTATE_ESTABLISHED};

    #[test]
    fn loopback_fast_path_before_connect_is_stored() {
        let mut h = host();
        let s = tcp(&mut h);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_LOOPBACK_FAST_PATH).input(&[1, 0, 0, 0]),
        );
        assert_eq!((o.result, o.bytes_returned), (0, BytesReturned::Written(0)));
        assert!(h.socket(s).unwrap().options.loopback_fast_path);
    }

    #[test]
    fn loopback_fast_path_after_connect_or_on_udp_is_einval() {
        let mut h = host();
        let (c, _) = tcp_pair(&mut h);
        let u = udp(&mut h);
        for s in [c, u] {
            let o = run(
                &mut h,
                IoctlCall::new(s, IoctlCode::SIO_LOOPBACK_FAST_PATH).input(&[1, 0, 0, 0]),
            );
            assert_eq!(
                (o.error, o.bytes_returned),
                (ErrorCode::WSAEINVAL, BytesReturned::Written(0))
            );
        }
    }

    #[test]
    fn tcp_info_v0_on_a_connection_reports_established_and_88_bytes() {
        let mut h = host();
        let (c, s) = tcp_pair(&mut h);
        h.send(s, b"four", MsgFlags::default());
        let o = run(
            &mut h,
            IoctlCall::new(c, IoctlCode::SIO_TCP_INFO)
                .input(&[0; 4])
                .out_len(200),
        );
        assert_eq!(
            (o.result, o.bytes_returned),
            (0, BytesReturned::Written(88))
        );
        assert_eq!(o.out.len(), 88);
        assert_eq!(read_u32(&o.out), Some(TCPSTATE_ESTABLISHED));
        assert_eq!(read_u32(&o.out[4..]), Some(65495));
        assert_eq!(read_u32(&o.out[40..]), Some(65536 - 4));
    }

    #[test]
    fn tcp_info_v1_is_136_bytes_and_a_fresh_socket_is_closed() {
        let mut h = host();
        let s = tcp(&mut h);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_TCP_INFO)
                .input(&[1, 0, 0, 0])
                .out_len(136),
        );
        assert_eq!((o.result, o.out.len()), (0, 136));
        assert_eq!(read_u32(&o.out), Some(TCPSTATE_CLOSED));
    }

    #[test]
    fn tcp_info_with_a_small_output_is_einval_and_writes_zero() {
        let mut h = host();
        let s = tcp(&mut h);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_TCP_INFO)
                .input(&[1, 0, 0, 0])
                .out_len(88),
        );
        assert_eq!(
            (o.error, o.bytes_returned),
            (ErrorCode::WSAEINVAL, BytesReturned::Written(0))
        );
    }

    #[test]
    fn tcp_info_with_a_bad_input_size_is_emsgsize_before_the_output_check() {
        let mut h = host();
        let s = tcp(&mut h);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_TCP_INFO).input(&[0; 3]),
        );
        assert_eq!(
            (o.error, o.bytes_returned),
            (ErrorCode::WSAEMSGSIZE, BytesReturned::Untouched)
        );
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_TCP_INFO).out_len(88),
        );
        assert_eq!(o.error, ErrorCode::WSAEMSGSIZE);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_TCP_INFO)
                .input(&[2, 0, 0, 0])
                .out_len(136),
        );
        assert_eq!(o.error, ErrorCode::WSAEINVAL);
    }

    #[test]
    fn tcp_info_on_udp_is_einval() {
        let mut h = host();
        let s = udp(&mut h);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_TCP_INFO)
                .input(&[0; 4])
                .out_len(88),
        );
        assert_eq!(o.error, ErrorCode::WSAEINVAL);
    }
}
