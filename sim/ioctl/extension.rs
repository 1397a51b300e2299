//! SIO_GET_EXTENSION_FUNCTION_POINTER (0xC8000006, `_WSAIORW(IOC_WS2, 6)`): input a GUID
//! naming a Microsoft extension function, output a pointer to it.
//!
//! Fidelity: **simulated**: the function is never called, so the pointer is a fake,
//! deterministic address, distinct per function, non-zero, of the caller's pointer size.
//! Layouts: GUID (16 bytes, `wire::guid`), a pointer (8 or 4 bytes). Evidence:
//! observations W057–W062 (docs/evidence.md §1.5), the GUID table of docs/evidence.md §3.
//!
//! Checks, in order (input before output, observations section 2 item 1):
//! - NULL, invalid or fewer than 16 input bytes: WSAEFAULT, `lpcbBytesReturned`
//!   untouched. Choice (no evidence: docs/evidence.md §6 lists short input as untested);
//!   longer inputs are accepted and only the first 16 bytes read.
//! - a GUID that is not one of the nine WSAID_* functions: WSAEINVAL, untouched, with or
//!   without an OVERLAPPED, nothing queued (W060; the non-overlapped form is a choice).
//! - output NULL, invalid or smaller than a pointer: WSAEFAULT, untouched (choice, no
//!   evidence).
//! - success: the pointer, `lpcbBytesReturned` = pointer size (W058); overlapped, a
//!   synchronous completion with a 0-byte delivery (W059, W062).
//!
//! Every function is returned on every socket type (choice: the only refusals Windows
//! is known to make happen when the function is called, docs/evidence.md §3).
//!
//! Fake addresses: [`FAKE_FUNCTION_BASE`] (64-bit) or [`FAKE_FUNCTION_BASE_32`] (32-bit)
//! plus 0x10 times (the function's position in `wire::guid::EXTENSION_FUNCTIONS` + 1).

use super::{Ctx, Reply};
use crate::errors::ErrorCode;
use crate::wire::guid::{Guid, EXTENSION_FUNCTIONS};
use crate::wire::{write_ptr, PointerSize};

/// Where the fake mswsock functions live for a 64-bit caller.
pub const FAKE_FUNCTION_BASE: u64 = 0x7FFA_3E40_0000;
/// Where the fake mswsock functions live for a 32-bit caller.
pub const FAKE_FUNCTION_BASE_32: u64 = 0x71A4_0000;

/// The fake address of the extension function a GUID names, if it names one.
pub fn fake_function_address(guid: &Guid, ptr: PointerSize) -> Option<u64> {
    let pos = EXTENSION_FUNCTIONS.iter().position(|(_, g)| g == guid)?;
    let base = match ptr {
        PointerSize::Bits64 => FAKE_FUNCTION_BASE,
        PointerSize::Bits32 => FAKE_FUNCTION_BASE_32,
    };
    Some(base + 0x10 * (pos as u64 + 1))
}

pub(crate) fn call(ctx: &mut Ctx) -> Reply {
    let bytes = match ctx.read_input() {
        Ok(b) if b.len() >= Guid::LEN => b,
        _ => return Reply::untouched(ErrorCode::WSAEFAULT),
    };
    let ptr = ctx.host.config.pointer_size;
    let Some(address) = Guid::parse(bytes)
        .ok()
        .and_then(|g| fake_function_address(&g, ptr))
    else {
        return Reply::untouched(ErrorCode::WSAEINVAL);
    };
    if let Err(e) = ctx.check_output(ptr.bytes() as u32) {
        return Reply::untouched(e);
    }
    let mut out = Vec::with_capacity(ptr.bytes());
    write_ptr(address, ptr, &mut out);
    Reply::done(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::IoctlCode;
    use crate::errors::NtStatus;
    use crate::ioctl::test_support::{run, tcp, with_port};
    use crate::ioctl::IoctlCall;
    use crate::model::{Host, OverlappedId, RoutineId, ThreadId};
    use crate::outcome::BytesReturned;
    use crate::wire::guid::{WSAID_ACCEPTEX, WSAID_CONNECTEX};
    use crate::wire::read_u64;

    const CODE: IoctlCode = IoctlCode::SIO_GET_EXTENSION_FUNCTION_POINTER;

    fn guid(g: Guid) -> Vec<u8> {
        let mut out = Vec::new();
        g.emit(&mut out);
        out
    }

    #[test]
    fn acceptex_gives_a_nonzero_8_byte_pointer() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        let input = guid(WSAID_ACCEPTEX);
        let o = run(&mut h, IoctlCall::new(s, CODE).input(&input).out_len(8));
        assert_eq!((o.result, o.bytes_returned), (0, BytesReturned::Written(8)));
        assert_ne!(read_u64(&o.out), Some(0));
    }

    #[test]
    fn every_function_has_its_own_pointer() {
        let mut seen: Vec<u64> = EXTENSION_FUNCTIONS
            .iter()
            .map(|(_, g)| fake_function_address(g, PointerSize::Bits64).unwrap())
            .collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), EXTENSION_FUNCTIONS.len());
    }

    #[test]
    fn a_32_bit_caller_gets_4_bytes() {
        let mut h = Host::default_host();
        h.config.pointer_size = PointerSize::Bits32;
        let s = tcp(&mut h);
        let input = guid(WSAID_CONNECTEX);
        let o = run(&mut h, IoctlCall::new(s, CODE).input(&input).out_len(4));
        assert_eq!(o.bytes_returned, BytesReturned::Written(4));
        assert_eq!(o.out.len(), 4);
    }

    #[test]
    fn a_bogus_guid_overlapped_is_einval_untouched_and_queues_nothing() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        let port = with_port(&mut h, s);
        let input = guid(Guid::new(0xdeadbeef, 0, 0, [0; 8]));
        let ov = OverlappedId(1);
        let o = run(
            &mut h,
            IoctlCall::new(s, CODE)
                .input(&input)
                .out_len(8)
                .overlapped(ov, None, None),
        );
        assert_eq!(
            (o.error, o.bytes_returned),
            (ErrorCode::WSAEINVAL, BytesReturned::Untouched)
        );
        assert!(h.asyncs.ports[&port].is_empty());
        assert_eq!(h.overlapped(ov).op, None);
    }

    #[test]
    fn overlapped_success_queues_a_zero_byte_packet() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        let port = with_port(&mut h, s);
        let input = guid(WSAID_ACCEPTEX);
        let o = run(
            &mut h,
            IoctlCall::new(s, CODE).input(&input).out_len(8).overlapped(
                OverlappedId(1),
                None,
                None,
            ),
        );
        assert_eq!((o.result, o.bytes_returned), (0, BytesReturned::Written(8)));
        let p = h.asyncs.ports[&port][0];
        assert_eq!(
            (p.bytes, p.key, p.status),
            (0, 123, NtStatus::STATUS_SUCCESS)
        );
    }

    #[test]
    fn with_a_routine_the_apc_reports_size_0() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        let input = guid(WSAID_ACCEPTEX);
        let o = run(
            &mut h,
            IoctlCall::new(s, CODE).input(&input).out_len(8).overlapped(
                OverlappedId(1),
                None,
                Some(RoutineId(1)),
            ),
        );
        assert_eq!(o.bytes_returned, BytesReturned::Written(8));
        assert_eq!(h.asyncs.apcs[&ThreadId::MAIN][0].bytes, 0);
    }

    #[test]
    fn a_short_input_or_output_is_efault_untouched() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        let input = guid(WSAID_ACCEPTEX);
        let o = run(
            &mut h,
            IoctlCall::new(s, CODE).input(&input[..15]).out_len(8),
        );
        assert_eq!(
            (o.error, o.bytes_returned),
            (ErrorCode::WSAEFAULT, BytesReturned::Untouched)
        );
        let o = run(&mut h, IoctlCall::new(s, CODE).input(&input).out_len(7));
        assert_eq!(
            (o.error, o.bytes_returned),
            (ErrorCode::WSAEFAULT, BytesReturned::Untouched)
        );
    }
}
