//! The handle codes: companion-interface handles (SIO_ASSOCIATE_HANDLE,
//! SIO_TRANSLATE_HANDLE) and the base-provider handles (SIO_BASE_HANDLE,
//! SIO_BSP_HANDLE, SIO_BSP_HANDLE_SELECT, SIO_BSP_HANDLE_POLL).
//!
//! | Code | Value | Buffers | Fidelity |
//! |---|---|---|---|
//! | SIO_ASSOCIATE_HANDLE | 0x88000001 (`_WSAIOW(IOC_WS2,1)`: I, T = 1, number 1) | in: u32 interface id, then a pointer-sized handle at the next pointer-aligned offset | stored |
//! | SIO_TRANSLATE_HANDLE | 0xC800000D (`_WSAIORW(IOC_WS2,13)`: I, O, T = 1, number 13) | in: u32 interface id; out: pointer-sized handle | stored |
//! | SIO_BSP_HANDLE | 0x4800001B (`_WSAIOR(IOC_WS2,27)`) | out: SOCKET | simulated |
//! | SIO_BSP_HANDLE_SELECT | 0x4800001C (`_WSAIOR(IOC_WS2,28)`) | out: SOCKET | simulated |
//! | SIO_BSP_HANDLE_POLL | 0x4800001D (`_WSAIOR(IOC_WS2,29)`) | out: SOCKET | simulated |
//! | SIO_BASE_HANDLE | 0x48000022 (`_WSAIOR(IOC_WS2,34)`) | out: SOCKET | simulated |
//!
//! A SOCKET is pointer-sized (`HostConfig::pointer_size`: 8 bytes on x64, 4 on x86).
//! The model has no layered providers, so every base handle is the socket itself.
//!
//! SIO_BASE_HANDLE (W072–W076, section 2 item 5): synchronously it writes the socket's
//! own handle and `*lpcbBytesReturned` = sizeof(SOCKET); overlapped it pends and
//! completes with STATUS_NOT_SUPPORTED (WSA_IO_PENDING, count untouched, output
//! untouched). An output smaller than a SOCKET, NULL or unreadable: WSAEFAULT
//! (Microsoft's IOCTLs page, docs/evidence.md 2).
//!
//! SIO_BSP_HANDLE_POLL: a non-NULL `lpOverlapped` is WSAEFAULT, as is a short or NULL
//! output (Microsoft's IOCTLs page). SIO_BSP_HANDLE and SIO_BSP_HANDLE_SELECT: the
//! same output rule (same page).
//!
//! Companion interfaces (reference "SIO_ASSOCIATE_HANDLE", "SIO_TRANSLATE_HANDLE"):
//! a provider without them answers WSAENOPROTOOPT.
//!
//! Choices (no evidence):
//! - The model's provider supports companion interfaces, so that scenarios can exercise
//!   the pair: SIO_ASSOCIATE_HANDLE stores (id, handle) in the socket's out-of-line
//!   options (a later association with the same id replaces the earlier one), and
//!   SIO_TRANSLATE_HANDLE returns the stored handle, or WSAENOPROTOOPT (count 0) for an
//!   id never associated — the reference's answer "for the specified companion
//!   interface". Microsoft's own TCP/IP provider may well refuse both outright; no
//!   observation says so.
//! - An association input shorter than the id plus an aligned handle, NULL or
//!   unreadable is WSAEFAULT with the count untouched; a translation input shorter than
//!   4 bytes likewise; then the output (WSAEFAULT, untouched).
//! - SIO_BSP_HANDLE and SIO_BSP_HANDLE_SELECT behave like SIO_BASE_HANDLE when
//!   overlapped (pending, STATUS_NOT_SUPPORTED): the three are answered by the same
//!   layer. The overlapped check of SIO_BASE_HANDLE comes before its output check.
//! - Output failures leave `*lpcbBytesReturned` untouched (the buffer-check pattern of
//!   W004).

use super::{Ctx, Reply};
use crate::codes::IoctlCode;
use crate::errors::ErrorCode;
use crate::wire::{read_ptr, read_u32, write_ptr};

pub(crate) fn call(ctx: &mut Ctx) -> Reply {
    match ctx.call.code {
        IoctlCode::SIO_ASSOCIATE_HANDLE => associate(ctx),
        IoctlCode::SIO_TRANSLATE_HANDLE => translate(ctx),
        IoctlCode::SIO_BSP_HANDLE_POLL => {
            if ctx.call.overlapped.is_some() {
                return Reply::untouched(ErrorCode::WSAEFAULT);
            }
            base_handle(ctx)
        }
        IoctlCode::SIO_BASE_HANDLE
        | IoctlCode::SIO_BSP_HANDLE
        | IoctlCode::SIO_BSP_HANDLE_SELECT => {
            if ctx.is_overlapped() {
                // W074, W076: the overlapped form is not supported, reported
                // asynchronously.
                return super::unsupported();
            }
            base_handle(ctx)
        }
        _ => super::unsupported(),
    }
}

fn base_handle(ctx: &mut Ctx) -> Reply {
    let ptr = ctx.host.config.pointer_size;
    if let Err(e) = ctx.check_output(ptr.bytes() as u32) {
        return Reply::untouched(e);
    }
    let mut out = Vec::with_capacity(ptr.bytes());
    write_ptr(ctx.call.socket.0, ptr, &mut out);
    Reply::done(out)
}

fn associate(ctx: &mut Ctx) -> Reply {
    let ptr = ctx.host.config.pointer_size;
    let parsed = ctx.read_input().ok().and_then(|b| {
        let id = read_u32(b)?;
        let handle = read_ptr(b.get(ptr.bytes()..)?, ptr)?;
        Some((id, handle))
    });
    let Some((id, handle)) = parsed else {
        return Reply::untouched(ErrorCode::WSAEFAULT);
    };
    let companions = &mut ctx.sock_mut().options.extra_mut().companions;
    match companions.iter_mut().find(|(i, _)| *i == id) {
        Some(entry) => entry.1 = handle,
        None => companions.push((id, handle)),
    }
    Reply::done_empty()
}

fn translate(ctx: &mut Ctx) -> Reply {
    let id = match ctx.input_u32() {
        Ok(id) => id,
        Err(e) => return Reply::untouched(e),
    };
    let ptr = ctx.host.config.pointer_size;
    if let Err(e) = ctx.check_output(ptr.bytes() as u32) {
        return Reply::untouched(e);
    }
    let found = ctx
        .sock()
        .options
        .extra
        .as_ref()
        .and_then(|x| x.companions.iter().find(|(i, _)| *i == id))
        .map(|(_, h)| *h);
    match found {
        Some(handle) => {
            let mut out = Vec::with_capacity(ptr.bytes());
            write_ptr(handle, ptr, &mut out);
            Reply::done(out)
        }
        None => Reply::refused(ErrorCode::WSAENOPROTOOPT),
    }
}

#[cfg(test)]
mod tests {
    use crate::codes::IoctlCode;
    use crate::errors::{ErrorCode, NtStatus};
    use crate::ioctl::test_support::*;
    use crate::ioctl::IoctlCall;
    use crate::model::{Host, HostConfig, Network, RoutineId, ThreadId};
    use crate::outcome::BytesReturned;
    use crate::wire::{read_u64, PointerSize};

    #[test]
    fn base_handle_returns_the_socket_itself_in_eight_bytes() {
        let mut h = host();
        let s = tcp(&mut h);
        h.wsa_set_last_error(ErrorCode(0xdeadbeef));
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_BASE_HANDLE).out_len(8),
        );
        assert_eq!((o.result, o.bytes_returned), (0, BytesReturned::Written(8)));
        assert_eq!(read_u64(&o.out), Some(s.0));
        assert_eq!(h.wsa_get_last_error(), ErrorCode::NO_ERROR);
    }

    #[test]
    fn base_handle_on_a_32_bit_host_is_four_bytes() {
        let mut h = Host::new(
            Network::default_host(),
            HostConfig {
                pointer_size: PointerSize::Bits32,
                ..HostConfig::default()
            },
        );
        let s = udp(&mut h);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_BSP_HANDLE).out_len(4),
        );
        assert_eq!((o.result, o.out.len()), (0, 4));
        assert_eq!(o.out_u32(), Some(s.0 as u32));
    }

    #[test]
    fn base_handle_with_a_short_output_is_efault() {
        let mut h = host();
        let s = tcp(&mut h);
        for code in [
            IoctlCode::SIO_BASE_HANDLE,
            IoctlCode::SIO_BSP_HANDLE,
            IoctlCode::SIO_BSP_HANDLE_SELECT,
            IoctlCode::SIO_BSP_HANDLE_POLL,
        ] {
            let o = run(&mut h, IoctlCall::new(s, code).out_len(7));
            assert_eq!(
                (o.error, o.bytes_returned),
                (ErrorCode::WSAEFAULT, BytesReturned::Untouched)
            );
        }
    }

    #[test]
    fn base_handle_overlapped_pends_and_completes_not_supported() {
        let mut h = host();
        let s = tcp(&mut h);
        let port = with_port(&mut h, s);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_BASE_HANDLE)
                .out_len(8)
                .overlapped(OV, None, None),
        );
        assert_eq!((o.result, o.error), (-1, ErrorCode::WSA_IO_PENDING));
        assert_eq!(o.bytes_returned, BytesReturned::Untouched);
        assert!(o.out.is_empty());
        let rec = h.overlapped(OV);
        assert_eq!(rec.internal, u64::from(NtStatus::STATUS_NOT_SUPPORTED.0));
        assert_eq!(rec.internal_high, 0);
        let q = &h.asyncs.ports[&port];
        assert_eq!(
            (q.len(), q[0].key, q[0].status),
            (1, 123, NtStatus::STATUS_NOT_SUPPORTED)
        );
    }

    #[test]
    fn base_handle_with_a_completion_routine_reports_eopnotsupp_to_the_apc() {
        let mut h = host();
        let s = tcp(&mut h);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_BASE_HANDLE)
                .out_len(8)
                .overlapped(OV, None, Some(RoutineId(3))),
        );
        assert_eq!(o.error, ErrorCode::WSA_IO_PENDING);
        let apc = h.asyncs.apcs[&ThreadId::MAIN][0];
        assert_eq!((apc.error, apc.bytes), (ErrorCode::WSAEOPNOTSUPP, 0));
    }

    #[test]
    fn bsp_handle_poll_with_an_overlapped_is_efault() {
        let mut h = host();
        let s = tcp(&mut h);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_BSP_HANDLE_POLL)
                .out_len(8)
                .overlapped(OV, None, None),
        );
        assert_eq!((o.result, o.error), (-1, ErrorCode::WSAEFAULT));
        assert!(h.asyncs.ops.is_empty());
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_BSP_HANDLE_POLL).out_len(8),
        );
        assert_eq!(read_u64(&o.out), Some(s.0));
    }

    #[test]
    fn an_associated_companion_handle_translates_back() {
        let mut h = host();
        let s = tcp(&mut h);
        let mut input = 7u32.to_le_bytes().to_vec();
        input.extend_from_slice(&[0; 4]);
        input.extend_from_slice(&0x1234u64.to_le_bytes());
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_ASSOCIATE_HANDLE).input(&input),
        );
        assert_eq!((o.result, o.bytes_returned), (0, BytesReturned::Written(0)));
        let id = 7u32.to_le_bytes();
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_TRANSLATE_HANDLE)
                .input(&id)
                .out_len(8),
        );
        assert_eq!((o.result, read_u64(&o.out)), (0, Some(0x1234)));
        let other = 8u32.to_le_bytes();
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_TRANSLATE_HANDLE)
                .input(&other)
                .out_len(8),
        );
        assert_eq!(
            (o.error, o.bytes_returned),
            (ErrorCode::WSAENOPROTOOPT, BytesReturned::Written(0))
        );
    }

    #[test]
    fn a_short_association_input_is_efault() {
        let mut h = host();
        let s = tcp(&mut h);
        let o = run(
            &mut h,
            IoctlCall::new(s, IoctlCode::SIO_ASSOCIATE_HANDLE).input(&[7, 0, 0, 0, 1]),
        );
        assert_eq!(
            (o.error, o.bytes_returned),
            (ErrorCode::WSAEFAULT, BytesReturned::Untouched)
        );
    }
}
