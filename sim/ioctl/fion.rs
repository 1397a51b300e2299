//! The Unix codes: FIONBIO, FIONREAD and SIOCATMARK (FIOASYNC stays unsupported through
//! the shared path, observations 1.4).
//!
//! | Code | Value | Layout | Fidelity |
//! |---|---|---|---|
//! | FIONBIO | 0x8004667E (`_IOW('f',126,u_long)`) | in: u_long; no output | simulated |
//! | FIONREAD | 0x4004667F (`_IOR('f',127,u_long)`) | out: u_long | simulated |
//! | SIOCATMARK | 0x40047307 (`_IOR('s',7,u_long)`) | out: BOOL (4 bytes) | simulated |
//!
//! FIONBIO (reference "FIONBIO"; W027–W041, section 2 item 7): an input shorter than a
//! u_long, or a NULL/invalid input pointer, is WSAEFAULT (W027–W029); a longer input is
//! accepted (W031); the output buffer is never looked at (W032). Success writes 0 to
//! `*lpcbBytesReturned` (W030). Non-zero sets non-blocking mode; on an event- or
//! async-selected socket that changes nothing and the selection stays (W035). Zero sets
//! blocking mode, except while a selection is active: WSAEINVAL with
//! `*lpcbBytesReturned` = 0 (W036, W039). It works in every socket state (W041).
//!
//! FIONREAD (reference "FIONREAD"; W003–W013, W023, W132–W134): a stream socket reports
//! the normal bytes queued (a waiting urgent byte is excluded unless SO_OOBINLINE put it
//! in the stream, section 2 item 11), a datagram or raw socket the size of the first
//! datagram (0 when none). Any state works, listening included (W132).
//!
//! SIOCATMARK (reference "SIOCATMARK"; W008, W012, W127–W131, section 2 item 11): TRUE
//! when no urgent byte waits to be read with MSG_OOB. With SO_OOBINLINE urgent data is
//! in the stream and the answer stays TRUE (W022, W131). After MSG_OOB sends it is FALSE
//! until the urgent byte is read (W129). Datagram sockets have no urgent data: TRUE.
//!
//! Both output codes: an output shorter than 4 bytes, NULL or invalid is WSAEFAULT with
//! `*lpcbBytesReturned` untouched (W001, W002, W004, W006); success writes the 4-byte value
//! and `*lpcbBytesReturned` = 4, overlapped or not (W011, W012, section 2 item 2). The
//! input buffer is ignored.
//!
//! Choice (no evidence): a FIONBIO input that faults (short, NULL or invalid) leaves
//! `*lpcbBytesReturned` untouched, like the other buffer checks done before the request
//! reaches the kernel (W004, W047); W029 does not look at it.

use super::{Ctx, Reply};
use crate::codes::IoctlCode;
use crate::errors::ErrorCode;
use crate::model::socket::RecvQueue;
use crate::model::{IoMode, SocketState};

pub(crate) fn call(ctx: &mut Ctx) -> Reply {
    match ctx.call.code {
        IoctlCode::FIONBIO => fionbio(ctx),
        IoctlCode::FIONREAD => {
            let n = readable_bytes(ctx.sock());
            out_u32(ctx, n)
        }
        IoctlCode::SIOCATMARK => {
            let at_mark = at_mark(ctx.sock());
            out_u32(ctx, u32::from(at_mark))
        }
        _ => super::unsupported(),
    }
}

fn fionbio(ctx: &mut Ctx) -> Reply {
    let value = match ctx.input_u32() {
        Ok(v) => v,
        Err(e) => return Reply::untouched(e),
    };
    let mode = ctx.sock().mode;
    let next = match (value != 0, mode.is_selected()) {
        // Already non-blocking through the selection, which stays (W035).
        (true, true) => mode,
        (true, false) => IoMode::NonBlocking,
        // Back to blocking is refused while a selection is active (W036, W039).
        (false, true) => return Reply::refused(ErrorCode::WSAEINVAL),
        (false, false) => IoMode::Blocking,
    };
    ctx.sock_mut().set_mode(next);
    Reply::done_empty()
}

fn out_u32(ctx: &Ctx, value: u32) -> Reply {
    if let Err(e) = ctx.check_output(4) {
        return Reply::untouched(e);
    }
    Reply::done(value.to_le_bytes().to_vec())
}

/// What FIONREAD reports: the bytes one receive can take.
pub(crate) fn readable_bytes(sock: &SocketState) -> u32 {
    let n = match &sock.rx {
        // An urgent byte held out of band is not counted; with SO_OOBINLINE it is
        // already part of `bytes`.
        RecvQueue::Stream { bytes, .. } => bytes.len(),
        RecvQueue::Datagrams(q) => q.front().map_or(0, Vec::len),
    };
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// What SIOCATMARK reports: true when no urgent byte waits out of band.
pub(crate) fn at_mark(sock: &SocketState) -> bool {
    match &sock.rx {
        RecvQueue::Stream { urgent, .. } => sock.options.oob_inline || urgent.is_none(),
        RecvQueue::Datagrams(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use crate::codes::IoctlCode;
    use crate::errors::{ErrorCode, NtStatus};
    use crate::ioctl::test_support::*;
    use crate::ioctl::{InBuffer, IoctlCall, OutBuffer};
    use crate::model::socket::NetworkEvents;
    use crate::model::{Event, IoMode};
    use crate::outcome::BytesReturned;
    use crate::winsock::MsgFlags;

    const OOB: MsgFlags = MsgFlags {
        oob: true,
        peek: false,
        dontroute: false,
    };

    fn fionread(h: &mut crate::model::Host, s: crate::model::Socket) -> u32 {
        let o = run(h, IoctlCall::new(s, IoctlCode::FIONREAD).out_len(4));
        assert_eq!(o.result, 0);
        assert_eq!(o.bytes_returned, BytesReturned::Written(4));
        o.out_u32().unwrap()
    }

    fn atmark(h: &mut crate::model::Host, s: crate::model::Socket) -> u32 {
        let o = run(h, IoctlCall::new(s, IoctlCode::SIOCATMARK).out_len(4));
        assert_eq!(o.result, 0);
        o.out_u32().unwrap()
    }

    #[test]
    fn fionbio_one_makes_the_socket_nonblocking_and_writes_zero_bytes() {
        let mut h = host();
        let s = tcp(&mut h);
        h.wsa_set_last_error(ErrorCode(0xdeadbeef));
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::FIONBIO).input(&[1, 0, 0, 0]),
        );
        assert_eq!((o.result, o.error), (0, ErrorCode::NO_ERROR));
        assert_eq!(o.bytes_returned, BytesReturned::Written(0));
        assert!(o.out.is_empty());
        assert_eq!(h.socket(s).unwrap().mode, IoMode::NonBlocking);
        assert_eq!(h.wsa_get_last_error(), ErrorCode::NO_ERROR);
        let o = run(&mut h, IoctlCall::new(s, IoctlCode::FIONBIO).input(&[0; 4]));
        assert_eq!(o.result, 0);
        assert_eq!(h.socket(s).unwrap().mode, IoMode::Blocking);
    }

    #[test]
    fn fionbio_with_a_three_byte_input_is_efault() {
        let mut h = host();
        let s = tcp(&mut h);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::FIONBIO).input(&[1, 0, 0]),
        );
        assert_eq!((o.result, o.error), (-1, ErrorCode::WSAEFAULT));
        assert_eq!(h.socket(s).unwrap().mode, IoMode::Blocking);
    }

    #[test]
    fn fionbio_accepts_a_longer_input_and_never_touches_the_output() {
        let mut h = host();
        let s = tcp(&mut h);
        let mut call = IoctlCall::new(s, IoctlCode::FIONBIO).input(&[1, 0, 0, 0, 0]);
        call.output = OutBuffer::Invalid { len: 4 };
        let o = run(&mut h, call);
        assert_eq!(o.result, 0);
        assert!(o.out.is_empty());
    }

    #[test]
    fn fionbio_through_ioctlsocket_with_a_bogus_pointer_is_efault() {
        let mut h = host();
        let s = tcp(&mut h);
        assert_eq!(h.ioctlsocket(s, IoctlCode::FIONBIO, None).0, -1);
        assert_eq!(h.wsa_get_last_error(), ErrorCode::WSAEFAULT);
    }

    #[test]
    fn fionbio_to_blocking_while_event_selected_is_einval_with_zero_bytes() {
        let mut h = host();
        let s = tcp(&mut h);
        let selected = IoMode::EventSelect {
            event: Event(7),
            mask: NetworkEvents::READ,
        };
        h.sockets.get_mut(&s).unwrap().set_mode(selected);
        let o = run(&mut h, IoctlCall::new(s, IoctlCode::FIONBIO).input(&[0; 4]));
        assert_eq!((o.result, o.error), (-1, ErrorCode::WSAEINVAL));
        assert_eq!(o.bytes_returned, BytesReturned::Written(0));
        assert_eq!(h.socket(s).unwrap().mode, selected);
    }

    #[test]
    fn fionbio_to_nonblocking_while_async_selected_keeps_the_selection() {
        let mut h = host();
        let s = tcp(&mut h);
        let selected = IoMode::AsyncSelect {
            window: 1,
            message: 0x400,
            mask: NetworkEvents::READ,
        };
        h.sockets.get_mut(&s).unwrap().set_mode(selected);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::FIONBIO).input(&[1, 0, 0, 0]),
        );
        assert_eq!(o.result, 0);
        assert_eq!(h.socket(s).unwrap().mode, selected);
        assert_eq!(h.ioctlsocket(s, IoctlCode::FIONBIO, Some(0)).0, -1);
        assert_eq!(h.wsa_get_last_error(), ErrorCode::WSAEINVAL);
    }

    #[test]
    fn fionbio_overlapped_on_a_port_completes_at_once_with_a_zero_byte_packet() {
        let mut h = host();
        let s = tcp(&mut h);
        let port = with_port(&mut h, s);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::FIONBIO)
                .input(&[1, 0, 0, 0])
                .overlapped(OV, None, None),
        );
        assert_eq!(o.result, 0);
        assert_eq!(o.bytes_returned, BytesReturned::Written(0));
        let rec = h.overlapped(OV);
        assert_eq!((rec.internal, rec.internal_high), (0, 0));
        let q = &h.asyncs.ports[&port];
        assert_eq!(q.len(), 1);
        assert_eq!((q[0].key, q[0].bytes), (123, 0));
    }

    #[test]
    fn fionread_with_a_three_byte_output_is_efault_and_leaves_bytes_untouched() {
        let mut h = host();
        let (c, _) = tcp_pair(&mut h);
        for code in [IoctlCode::FIONREAD, IoctlCode::SIOCATMARK] {
            let o = run(&mut h, IoctlCall::new(c, code).out_len(3));
            assert_eq!((o.result, o.error), (-1, ErrorCode::WSAEFAULT));
            assert_eq!(o.bytes_returned, BytesReturned::Untouched);
            assert!(o.out.is_empty());
        }
    }

    #[test]
    fn fionread_and_siocatmark_with_a_bogus_ioctlsocket_pointer_are_efault() {
        let mut h = host();
        let (c, _) = tcp_pair(&mut h);
        for code in [IoctlCode::FIONREAD, IoctlCode::SIOCATMARK] {
            assert_eq!(h.ioctlsocket(c, code, None).0, -1);
            assert_eq!(h.wsa_get_last_error(), ErrorCode::WSAEFAULT);
        }
    }

    #[test]
    fn fionread_counts_the_bytes_the_peer_sent() {
        let mut h = host();
        let (c, srv) = tcp_pair(&mut h);
        assert_eq!(fionread(&mut h, c), 0);
        assert_eq!(atmark(&mut h, c), 1);
        h.send(srv, b"hello", MsgFlags::default());
        assert_eq!(fionread(&mut h, c), 5);
        assert_eq!(atmark(&mut h, c), 1);
    }

    #[test]
    fn fionread_on_fresh_and_listening_sockets_is_zero() {
        let mut h = host();
        let s = tcp(&mut h);
        assert_eq!(
            h.ioctlsocket(s, IoctlCode::FIONREAD, Some(0xdeadbeef)),
            (0, 0)
        );
        h.bind(s, "127.0.0.1:0".parse().unwrap());
        h.listen(s);
        assert_eq!(
            h.ioctlsocket(s, IoctlCode::FIONREAD, Some(0xdeadbeef)),
            (0, 0)
        );
        assert_eq!(h.ioctlsocket(s, IoctlCode::SIOCATMARK, Some(0)), (0, 1));
    }

    #[test]
    fn fionread_on_a_closed_socket_is_enotsock_and_writes_nothing() {
        let mut h = host();
        let s = tcp(&mut h);
        h.closesocket(s);
        let o = run(&mut h, IoctlCall::new(s, IoctlCode::FIONREAD).out_len(4));
        assert_eq!((o.result, o.error), (-1, ErrorCode::WSAENOTSOCK));
        assert!(o.out.is_empty());
    }

    #[test]
    fn fionread_excludes_the_urgent_byte_and_siocatmark_turns_false() {
        let mut h = host();
        let (c, srv) = tcp_pair(&mut h);
        for _ in 0..16 {
            h.send(c, &[7u8; 128], OOB);
        }
        // Every urgent byte but the last went back into the stream.
        assert_eq!(fionread(&mut h, srv), 2047);
        assert_eq!(atmark(&mut h, srv), 0);
        let r = h.recv(srv, 8, MsgFlags::default());
        assert_eq!(r.result, 8);
        let r = h.recv(srv, 4096, MsgFlags::default());
        assert_eq!(r.result, 2039);
        assert_eq!(atmark(&mut h, srv), 0);
        let r = h.recv(srv, 1, OOB);
        assert_eq!(r.result, 1);
        assert_eq!(atmark(&mut h, srv), 1);
    }

    #[test]
    fn with_oobinline_the_urgent_byte_is_counted_and_siocatmark_stays_true() {
        let mut h = host();
        let (c, srv) = tcp_pair(&mut h);
        h.setsockopt(srv, "SO_OOBINLINE", 1);
        assert_eq!(atmark(&mut h, srv), 1);
        h.send(c, b"abc", OOB);
        assert_eq!(fionread(&mut h, srv), 3);
        assert_eq!(atmark(&mut h, srv), 1);
        h.setsockopt(srv, "SO_OOBINLINE", 0);
        assert_eq!(atmark(&mut h, srv), 1);
    }

    #[test]
    fn fionread_on_udp_reports_the_first_datagram_only() {
        let mut h = host();
        let (c, srv) = h
            .pair(
                crate::model::AddressFamily::Inet,
                crate::model::SocketType::Dgram,
            )
            .unwrap();
        assert_eq!(fionread(&mut h, srv), 0);
        h.send(c, &[1; 10], MsgFlags::default());
        h.send(c, &[2; 30], MsgFlags::default());
        assert_eq!(fionread(&mut h, srv), 10);
        assert_eq!(atmark(&mut h, srv), 1);
    }

    #[test]
    fn fionread_overlapped_writes_four_bytes_but_internal_high_zero() {
        let mut h = host();
        let s = tcp(&mut h);
        let port = with_port(&mut h, s);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::FIONREAD)
                .out_len(4)
                .overlapped(OV, None, None),
        );
        assert_eq!((o.result, o.bytes_returned), (0, BytesReturned::Written(4)));
        assert_eq!(o.out_u32(), Some(0));
        assert_eq!(h.overlapped(OV).internal_high, 0);
        assert_eq!(h.asyncs.ports[&port][0].bytes, 0);
    }

    #[test]
    fn fionread_with_a_null_output_is_efault() {
        let mut h = host();
        let s = tcp(&mut h);
        let mut call = IoctlCall::new(s, IoctlCode::FIONREAD);
        call.output = OutBuffer::Null { len: 4 };
        call.input = InBuffer::Null { len: 0 };
        let o = run(&mut h, call);
        assert_eq!((o.result, o.error), (-1, ErrorCode::WSAEFAULT));
    }

    #[test]
    fn fioasync_stays_unsupported() {
        let mut h = host();
        let s = tcp(&mut h);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::FIOASYNC).input(&[1, 0, 0, 0]),
        );
        assert_eq!((o.result, o.error), (-1, ErrorCode::WSAEOPNOTSUPP));
        assert_eq!(o.bytes_returned, BytesReturned::Written(0));
        let _port = with_port(&mut h, s);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::FIOASYNC).overlapped(OV, None, None),
        );
        assert_eq!(o.error, ErrorCode::WSA_IO_PENDING);
        assert_eq!(
            h.overlapped(OV).internal,
            u64::from(NtStatus::STATUS_NOT_SUPPORTED.0)
        );
    }
}
