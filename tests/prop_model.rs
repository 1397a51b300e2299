//! Property test: random call sequences on a host never panic and keep the model's
//! invariants: a closed socket answers WSAENOTSOCK, FIONREAD equals what a receive can
//! read, and a successful WSAIoctl leaves the last error at 0.

use proptest::prelude::*;
use wsasim::codes::IoctlCode;
use wsasim::errors::ErrorCode;
use wsasim::ioctl::{InBuffer, IoctlCall, OutBuffer};
use wsasim::model::{AddressFamily, Host, HostConfig, Network, OverlappedId, Socket, SocketType};
use wsasim::winsock::MsgFlags;

#[derive(Clone, Debug)]
enum Op {
    Socket(u8, bool),
    Pair(bool),
    Send(usize, Vec<u8>, bool),
    Recv(usize, usize, bool, bool),
    OobInline(usize, bool),
    Ioctl(usize, u8, Vec<u8>, u32, bool),
    Close(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..4, any::<bool>()).prop_map(|(k, ov)| Op::Socket(k, ov)),
        any::<bool>().prop_map(Op::Pair),
        (
            any::<usize>(),
            prop::collection::vec(any::<u8>(), 0..40),
            any::<bool>()
        )
            .prop_map(|(s, d, oob)| Op::Send(s, d, oob)),
        (any::<usize>(), 0usize..64, any::<bool>(), any::<bool>())
            .prop_map(|(s, n, oob, peek)| Op::Recv(s, n, oob, peek)),
        (any::<usize>(), any::<bool>()).prop_map(|(s, on)| Op::OobInline(s, on)),
        (
            any::<usize>(),
            0u8..8,
            prop::collection::vec(any::<u8>(), 0..16),
            0u32..200,
            any::<bool>()
        )
            .prop_map(|(s, c, i, o, ov)| Op::Ioctl(s, c, i, o, ov)),
        any::<usize>().prop_map(Op::Close),
    ]
}

fn code(i: u8, raw: &[u8]) -> IoctlCode {
    match i {
        0 => IoctlCode::FIONBIO,
        1 => IoctlCode::FIONREAD,
        2 => IoctlCode::SIOCATMARK,
        3 => IoctlCode::SIO_KEEPALIVE_VALS,
        4 => IoctlCode::SIO_TCP_INFO,
        5 => IoctlCode::SIO_BASE_HANDLE,
        // Any code of the table, or any number at all.
        6 => {
            let table = wsasim::codes::CODES;
            table[raw.first().copied().unwrap_or(0) as usize % table.len()].code
        }
        _ => IoctlCode(u32::from_le_bytes([
            raw.first().copied().unwrap_or(0),
            raw.get(1).copied().unwrap_or(0),
            raw.get(2).copied().unwrap_or(0),
            raw.get(3).copied().unwrap_or(0),
        ])),
    }
}

fn fionread(h: &mut Host, s: Socket) -> Option<u32> {
    let o = h
        .wsa_ioctl(IoctlCall::new(s, IoctlCode::FIONREAD).out_len(4))
        .returned()?;
    o.is_ok()
        .then(|| o.out_u32().expect("FIONREAD wrote 4 bytes"))
}

fn check_fionread_matches_a_peek(h: &mut Host, s: Socket) {
    let Some(n) = fionread(h, s) else { return };
    let peek = MsgFlags {
        peek: true,
        ..MsgFlags::default()
    };
    let r = h.recv(s, 1 << 20, peek);
    let readable = if r.result >= 0 { r.result as u32 } else { 0 };
    assert_eq!(n, readable, "FIONREAD on {s} disagrees with a peek: {r:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_call_sequences_keep_the_invariants(
        privileged in any::<bool>(),
        ops in prop::collection::vec(op(), 1..40),
    ) {
        let mut h = Host::new(Network::default_host(), HostConfig { privileged, ..HostConfig::default() });
        let mut open: Vec<Socket> = Vec::new();
        let mut closed: Vec<Socket> = Vec::new();
        let mut next_ov = 1;
        let pick = |open: &[Socket], i: usize| (!open.is_empty()).then(|| open[i % open.len()]);
        for op in ops {
            match op {
                Op::Socket(k, ov) => {
                    let (kind, proto) = match k {
                        0 => (SocketType::Stream, 0),
                        1 => (SocketType::Dgram, 0),
                        2 => (SocketType::Raw, 0),
                        _ => (SocketType::Raw, 17),
                    };
                    if let Ok(s) = h.wsa_socket(AddressFamily::Inet, kind, proto, ov) {
                        open.push(s);
                    }
                }
                Op::Pair(stream) => {
                    let kind = if stream { SocketType::Stream } else { SocketType::Dgram };
                    let (a, b) = h.pair(AddressFamily::Inet, kind).expect("a loopback pair");
                    open.push(a);
                    open.push(b);
                }
                Op::Send(i, data, oob) => {
                    if let Some(s) = pick(&open, i) {
                        h.send(s, &data, MsgFlags { oob, ..MsgFlags::default() });
                    }
                }
                Op::Recv(i, n, oob, peek) => {
                    if let Some(s) = pick(&open, i) {
                        h.recv(s, n, MsgFlags { oob, peek, ..MsgFlags::default() });
                    }
                }
                Op::OobInline(i, on) => {
                    if let Some(s) = pick(&open, i) {
                        prop_assert_eq!(h.setsockopt(s, "SO_OOBINLINE", u32::from(on)).result, 0);
                    }
                }
                Op::Ioctl(i, c, input, out, ov) => {
                    let target = if i % 7 == 0 && !closed.is_empty() {
                        Some((closed[i % closed.len()], true))
                    } else {
                        pick(&open, i).map(|s| (s, false))
                    };
                    let Some((s, is_closed)) = target else { continue };
                    let mut call = IoctlCall::new(s, code(c, &input));
                    call.input = if i % 5 == 0 { InBuffer::Null { len: input.len() as u32 } } else { InBuffer::Bytes(&input) };
                    call.output = if i % 11 == 0 { OutBuffer::Invalid { len: out } } else { OutBuffer::Capacity(out) };
                    if ov {
                        call = call.overlapped(OverlappedId(next_ov), None, None);
                        next_ov += 1;
                    }
                    h.wsa_set_last_error(ErrorCode(0xdeadbeef));
                    if let Some(o) = h.wsa_ioctl(call).returned() {
                        if is_closed {
                            prop_assert_eq!(o.error, ErrorCode::WSAENOTSOCK);
                        }
                        if o.is_ok() {
                            prop_assert_eq!(o.error, ErrorCode::NO_ERROR);
                            prop_assert_eq!(h.wsa_get_last_error(), ErrorCode::NO_ERROR);
                        } else {
                            prop_assert_eq!(h.wsa_get_last_error(), o.error);
                        }
                    }
                }
                Op::Close(i) => {
                    if let Some(s) = pick(&open, i) {
                        prop_assert_eq!(h.closesocket(s).result, 0);
                        open.retain(|x| *x != s);
                        closed.push(s);
                        prop_assert_eq!(h.closesocket(s).error, ErrorCode::WSAENOTSOCK);
                    }
                }
            }
            for s in open.clone() {
                check_fionread_matches_a_peek(&mut h, s);
            }
        }
    }
}
