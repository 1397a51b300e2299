//! QOS family: SIO_GET_QOS (0xC8000007, `_WSAIORW(IOC_WS2, 7)`) and SIO_SET_QOS
//! (0x8800000B, `_WSAIOW(IOC_WS2, 11)`).
//!
//! Fidelity: **unsupported**, as in Windows' TCP/IP provider: the reference marks
//! SIO_GET_QOS "reserved for future use with sockets" and says providers without quality
//! of service answer WSAENOPROTOOPT (docs/evidence.md §2). The Generic QoS service behind these
//! codes was removed in Windows Vista, and the TCP/IP providers no longer advertise
//! XP1_QOS_SUPPORTED, so both codes fail with WSAENOPROTOOPT whatever their buffers.
//! Layout, for the record: QOS is 80 bytes for 64-bit callers and 72 for 32-bit ones
//! (`wire::qos`); nothing is read or written.
//!
//! Choices (no evidence): the failure is synchronous even with an OVERLAPPED (nothing is
//! queued) and writes 0 to `lpcbBytesReturned`, as the unsupported-code failure does
//! (W053); no buffer check comes first.
//!
//! SIO_GET_GROUP_QOS (0xC8000008) and SIO_SET_GROUP_QOS (0x8800000C) are "reserved" in
//! the reference; they are not routed here and take the shared unsupported path
//! (WSAEOPNOTSUPP, or STATUS_NOT_SUPPORTED when overlapped).

use super::{Ctx, Reply};
use crate::errors::ErrorCode;

pub(crate) fn call(_ctx: &mut Ctx) -> Reply {
    Reply::refused(ErrorCode::WSAENOPROTOOPT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::IoctlCode;
    use crate::ioctl::IoctlCall;
    use crate::model::{AddressFamily, Host, OverlappedId, SocketType};
    use crate::outcome::BytesReturned;
    use crate::wire::qos::Qos;
    use crate::wire::PointerSize;

    #[test]
    fn get_and_set_qos_are_enoprotoopt_with_zero_bytes() {
        let mut h = Host::default_host();
        let s = h
            .socket_default(AddressFamily::Inet, SocketType::Stream)
            .unwrap();
        let mut qos = Vec::new();
        Qos::default().emit(PointerSize::Bits64, &mut qos);
        for call in [
            IoctlCall::new(s, IoctlCode::SIO_GET_QOS).out_len(80),
            IoctlCall::new(s, IoctlCode::SIO_SET_QOS).input(&qos),
            IoctlCall::new(s, IoctlCode::SIO_SET_QOS)
                .input(&qos)
                .overlapped(OverlappedId(1), None, None),
        ] {
            let o = h.wsa_ioctl(call).returned().unwrap();
            assert_eq!(o.error, ErrorCode::WSAENOPROTOOPT);
            assert_eq!(o.bytes_returned, BytesReturned::Written(0));
            assert!(o.op.is_none());
        }
        assert!(h.socket(s).unwrap().options.extra.is_none());
    }

    #[test]
    fn group_qos_takes_the_unsupported_path() {
        let mut h = Host::default_host();
        let s = h
            .socket_default(AddressFamily::Inet, SocketType::Stream)
            .unwrap();
        let o = h
            .wsa_ioctl(IoctlCall::new(s, IoctlCode::SIO_GET_GROUP_QOS))
            .returned()
            .unwrap();
        assert_eq!(o.error, ErrorCode::WSAEOPNOTSUPP);
    }
}
