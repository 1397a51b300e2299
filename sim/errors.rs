//! Error codes and status values: one table each, and the one place where NTSTATUS
//! values map to the errors a caller sees.
//!
//! `ErrorCode` is what `WSAGetLastError`/`GetLastError` return, so it holds Winsock
//! errors (100xx), the Win32 errors that overlapped I/O reports (ERROR_IO_PENDING and
//! friends) and the wait results scenarios compare against (WAIT_TIMEOUT,
//! WAIT_IO_COMPLETION). `NtStatus` is what the kernel writes into
//! `OVERLAPPED.Internal`. Unknown values of either stay representable and print as
//! numbers.

use std::fmt;

/// A last-error value (`WSAGetLastError`, `GetLastError`) or a wait result.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct ErrorCode(pub u32);

/// A kernel status, as found in `OVERLAPPED.Internal`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct NtStatus(pub u32);

macro_rules! table {
    ($ty:ident, $list:ident, $( $(#[doc = $doc:literal])* $name:ident = $value:literal; )*) => {
        impl $ty {
            $(
                $(#[doc = $doc])*
                pub const $name: $ty = $ty($value);
            )*
        }

        /// Every named value: name, value, one-line meaning.
        pub const $list: &[(&str, $ty, &str)] = &[
            $( (stringify!($name), $ty($value), concat!($($doc),*)), )*
        ];
    };
}

table! { ErrorCode, ERROR_CODES,
    /// No error: a successful call resets the last error to this.
    NO_ERROR = 0;
    /// The handle is not valid (Win32; WSA_INVALID_HANDLE has the same value).
    ERROR_INVALID_HANDLE = 6;
    /// A parameter is not valid (Win32; WSA_INVALID_PARAMETER has the same value).
    ERROR_INVALID_PARAMETER = 87;
    /// The request is not supported (Win32; what GQCS reports for STATUS_NOT_SUPPORTED).
    ERROR_NOT_SUPPORTED = 50;
    /// The data area passed to a call is too small (Win32).
    ERROR_INSUFFICIENT_BUFFER = 122;
    /// More data is available than the buffer took (Win32; from STATUS_BUFFER_OVERFLOW).
    ERROR_MORE_DATA = 234;
    /// Invalid access to a memory location (Win32; from STATUS_ACCESS_VIOLATION).
    ERROR_NOACCESS = 998;
    /// The wait timed out.
    WAIT_TIMEOUT = 258;
    /// The I/O operation was aborted because of a thread exit or an application request.
    ERROR_OPERATION_ABORTED = 995;
    /// Overlapped I/O event is not in a signaled state (`WSAGetOverlappedResult` while pending).
    WSA_IO_INCOMPLETE = 996;
    /// Overlapped I/O operation is in progress.
    WSA_IO_PENDING = 997;
    /// An alertable wait returned because it ran one or more completion routines.
    WAIT_IO_COMPLETION = 0xC0;
    /// A blocking call was interrupted.
    WSAEINTR = 10004;
    /// A handle is not valid for this call.
    WSAEBADF = 10009;
    /// Permission denied (for example, receive-all mode without administrator rights).
    WSAEACCES = 10013;
    /// A pointer or length does not describe a valid buffer, or a buffer is too small.
    WSAEFAULT = 10014;
    /// An argument is not valid, or the command does not apply to this socket.
    WSAEINVAL = 10022;
    /// Too many open sockets.
    WSAEMFILE = 10024;
    /// The socket is non-blocking and the operation would block.
    WSAEWOULDBLOCK = 10035;
    /// A blocking operation is in progress.
    WSAEINPROGRESS = 10036;
    /// The operation is already in progress on a non-blocking socket.
    WSAEALREADY = 10037;
    /// The descriptor is not a socket.
    WSAENOTSOCK = 10038;
    /// A required destination address was omitted.
    WSAEDESTADDRREQ = 10039;
    /// A datagram was larger than the buffer, or than the protocol allows.
    WSAEMSGSIZE = 10040;
    /// The protocol does not fit the socket type.
    WSAEPROTOTYPE = 10041;
    /// The option or ioctl is not supported by this provider.
    WSAENOPROTOOPT = 10042;
    /// The protocol is not supported.
    WSAEPROTONOSUPPORT = 10043;
    /// The socket type is not supported in this address family.
    WSAESOCKTNOSUPPORT = 10044;
    /// The operation is not supported for this socket or command.
    WSAEOPNOTSUPP = 10045;
    /// The protocol family is not supported.
    WSAEPFNOSUPPORT = 10046;
    /// The address family is not supported by the protocol family.
    WSAEAFNOSUPPORT = 10047;
    /// The address is already in use.
    WSAEADDRINUSE = 10048;
    /// The address is not valid in its context.
    WSAEADDRNOTAVAIL = 10049;
    /// The network subsystem has failed, or every interface is down.
    WSAENETDOWN = 10050;
    /// No interface can reach the destination.
    WSAENETUNREACH = 10051;
    /// The connection was aborted.
    WSAECONNABORTED = 10053;
    /// The connection was reset by the peer.
    WSAECONNRESET = 10054;
    /// No buffer space is available.
    WSAENOBUFS = 10055;
    /// The socket is already connected.
    WSAEISCONN = 10056;
    /// The socket is not connected.
    WSAENOTCONN = 10057;
    /// The socket has been shut down.
    WSAESHUTDOWN = 10058;
    /// The connection was refused.
    WSAECONNREFUSED = 10061;
    /// WSAStartup has not been called.
    WSANOTINITIALISED = 10093;
    /// The overlapped operation was cancelled (Winsock's name for ERROR_OPERATION_ABORTED).
    WSA_OPERATION_ABORTED = 995;
    /// An event handle is not valid (Winsock's name for ERROR_INVALID_HANDLE).
    WSA_INVALID_HANDLE = 6;
    /// A parameter is not valid (Winsock's name for ERROR_INVALID_PARAMETER).
    WSA_INVALID_PARAMETER = 87;
}

table! { NtStatus, NT_STATUSES,
    /// The operation completed successfully.
    STATUS_SUCCESS = 0x0000_0000;
    /// The operation is still in progress.
    STATUS_PENDING = 0x0000_0103;
    /// The data did not fit; part of it was returned (a warning status).
    STATUS_BUFFER_OVERFLOW = 0x8000_0005;
    /// A pointer was not valid.
    STATUS_ACCESS_VIOLATION = 0xC000_0005;
    /// A handle was not valid.
    STATUS_INVALID_HANDLE = 0xC000_0008;
    /// A parameter was not valid.
    STATUS_INVALID_PARAMETER = 0xC000_000D;
    /// The buffer is too small for the data.
    STATUS_BUFFER_TOO_SMALL = 0xC000_0023;
    /// The object is not of the type the call needs.
    STATUS_OBJECT_TYPE_MISMATCH = 0xC000_0024;
    /// The device is not ready (a non-blocking operation would block).
    STATUS_DEVICE_NOT_READY = 0xC000_00A3;
    /// The request is not supported.
    STATUS_NOT_SUPPORTED = 0xC000_00BB;
    /// The operation was cancelled.
    STATUS_CANCELLED = 0xC000_0120;
    /// The request is not implemented.
    STATUS_NOT_IMPLEMENTED = 0xC000_0002;
    /// The connection is not valid (not connected).
    STATUS_INVALID_CONNECTION = 0xC000_0140;
    /// The connection was reset.
    STATUS_CONNECTION_RESET = 0xC000_020D;
    /// The connection was aborted.
    STATUS_CONNECTION_ABORTED = 0xC000_0241;
    /// The network is unreachable.
    STATUS_NETWORK_UNREACHABLE = 0xC000_023C;
}

impl ErrorCode {
    /// The name of a known value. Values shared by two names (995) print by the first.
    pub fn name(self) -> Option<&'static str> {
        ERROR_CODES.iter().find(|e| e.1 == self).map(|e| e.0)
    }

    /// Looks a value up by name.
    pub fn from_name(name: &str) -> Option<ErrorCode> {
        ERROR_CODES.iter().find(|e| e.0 == name).map(|e| e.1)
    }

    /// True for the success value 0.
    pub fn is_ok(self) -> bool {
        self.0 == 0
    }
}

impl NtStatus {
    /// The name of a known status.
    pub fn name(self) -> Option<&'static str> {
        NT_STATUSES.iter().find(|e| e.1 == self).map(|e| e.0)
    }

    /// Looks a status up by name.
    pub fn from_name(name: &str) -> Option<NtStatus> {
        NT_STATUSES.iter().find(|e| e.0 == name).map(|e| e.1)
    }

    /// NT_SUCCESS: the success and informational severities (top bit clear). Warnings
    /// such as STATUS_BUFFER_OVERFLOW are not successes (`WSAGetOverlappedResult` returns
    /// FALSE for them, observations section 2 item 9).
    pub fn is_success(self) -> bool {
        self.0 & 0x8000_0000 == 0
    }

    /// True for the error severity (the top two bits are 11).
    pub fn is_error(self) -> bool {
        self.0 >> 30 == 3
    }

    /// What an application sees for this status through the Winsock paths: a completion
    /// routine's `dwError` and `WSAGetOverlappedResult`'s last error.
    ///
    /// Evidence: Windows observations section 2, item 9 (Wine's `map_status`, which the
    /// conformance tests check against Windows) and item 8 (APCs get Winsock codes).
    pub fn to_winsock(self) -> ErrorCode {
        match self {
            NtStatus::STATUS_SUCCESS => ErrorCode::NO_ERROR,
            NtStatus::STATUS_PENDING => ErrorCode::WSA_IO_INCOMPLETE,
            NtStatus::STATUS_NOT_SUPPORTED | NtStatus::STATUS_NOT_IMPLEMENTED => {
                ErrorCode::WSAEOPNOTSUPP
            }
            NtStatus::STATUS_BUFFER_TOO_SMALL | NtStatus::STATUS_ACCESS_VIOLATION => {
                ErrorCode::WSAEFAULT
            }
            NtStatus::STATUS_BUFFER_OVERFLOW => ErrorCode::WSAEMSGSIZE,
            NtStatus::STATUS_CANCELLED => ErrorCode::ERROR_OPERATION_ABORTED,
            NtStatus::STATUS_INVALID_HANDLE | NtStatus::STATUS_OBJECT_TYPE_MISMATCH => {
                ErrorCode::WSAENOTSOCK
            }
            NtStatus::STATUS_DEVICE_NOT_READY => ErrorCode::WSAEWOULDBLOCK,
            NtStatus::STATUS_INVALID_CONNECTION => ErrorCode::WSAENOTCONN,
            NtStatus::STATUS_CONNECTION_RESET => ErrorCode::WSAECONNRESET,
            NtStatus::STATUS_CONNECTION_ABORTED => ErrorCode::WSAECONNABORTED,
            NtStatus::STATUS_NETWORK_UNREACHABLE => ErrorCode::WSAENETUNREACH,
            // Warnings (severity 2) are failures too: NT_SUCCESS is the top bit clear.
            s if s.is_success() => ErrorCode::NO_ERROR,
            _ => ErrorCode::WSAEINVAL,
        }
    }

    /// What `GetQueuedCompletionStatus` reports through `GetLastError` for a failed
    /// packet: the Win32 error of the status (the kernel's status-to-DOS-error table,
    /// for the statuses the model produces).
    ///
    /// Evidence: observations W054 (STATUS_NOT_SUPPORTED → ERROR_NOT_SUPPORTED), W102
    /// (cancellation → ERROR_OPERATION_ABORTED), section 2 item 5 (STATUS_BUFFER_TOO_SMALL
    /// → ERROR_INSUFFICIENT_BUFFER).
    pub fn to_win32(self) -> ErrorCode {
        match self {
            NtStatus::STATUS_SUCCESS => ErrorCode::NO_ERROR,
            NtStatus::STATUS_PENDING => ErrorCode::WSA_IO_PENDING,
            NtStatus::STATUS_NOT_SUPPORTED => ErrorCode::ERROR_NOT_SUPPORTED,
            NtStatus::STATUS_BUFFER_TOO_SMALL => ErrorCode::ERROR_INSUFFICIENT_BUFFER,
            NtStatus::STATUS_CANCELLED => ErrorCode::ERROR_OPERATION_ABORTED,
            NtStatus::STATUS_ACCESS_VIOLATION => ErrorCode::ERROR_NOACCESS,
            NtStatus::STATUS_INVALID_PARAMETER => ErrorCode::ERROR_INVALID_PARAMETER,
            NtStatus::STATUS_INVALID_HANDLE => ErrorCode::ERROR_INVALID_HANDLE,
            NtStatus::STATUS_BUFFER_OVERFLOW => ErrorCode::ERROR_MORE_DATA,
            other => other.to_winsock(),
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "{}", self.0),
        }
    }
}

impl fmt::Display for NtStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "0x{:08X}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancellation_reaches_gqcs_as_operation_aborted() {
        assert_eq!(
            NtStatus::STATUS_CANCELLED.to_win32(),
            ErrorCode::ERROR_OPERATION_ABORTED
        );
    }

    #[test]
    fn not_supported_reaches_an_apc_as_eopnotsupp_and_gqcs_as_error_not_supported() {
        assert_eq!(
            NtStatus::STATUS_NOT_SUPPORTED.to_winsock(),
            ErrorCode::WSAEOPNOTSUPP
        );
        assert_eq!(
            NtStatus::STATUS_NOT_SUPPORTED.to_win32(),
            ErrorCode::ERROR_NOT_SUPPORTED
        );
    }

    #[test]
    fn buffer_too_small_is_efault_for_winsock_and_insufficient_buffer_for_win32() {
        assert_eq!(
            NtStatus::STATUS_BUFFER_TOO_SMALL.to_winsock(),
            ErrorCode::WSAEFAULT
        );
        assert_eq!(
            NtStatus::STATUS_BUFFER_TOO_SMALL.to_win32(),
            ErrorCode::ERROR_INSUFFICIENT_BUFFER
        );
    }

    #[test]
    fn an_unlisted_error_status_maps_to_einval() {
        assert_eq!(NtStatus(0xC000_0999).to_winsock(), ErrorCode::WSAEINVAL);
    }

    #[test]
    fn an_unlisted_warning_status_also_maps_to_einval() {
        assert_eq!(NtStatus(0x8000_0999).to_winsock(), ErrorCode::WSAEINVAL);
        assert!(!NtStatus::STATUS_BUFFER_OVERFLOW.is_success());
        assert!(NtStatus::STATUS_SUCCESS.is_success());
    }

    #[test]
    fn pending_reads_as_io_incomplete() {
        assert_eq!(
            NtStatus::STATUS_PENDING.to_winsock(),
            ErrorCode::WSA_IO_INCOMPLETE
        );
    }

    #[test]
    fn names_round_trip() {
        for (name, value, _) in ERROR_CODES {
            assert_eq!(ErrorCode::from_name(name).map(|v| v.0), Some(value.0));
        }
        for (name, value, _) in NT_STATUSES {
            assert_eq!(NtStatus::from_name(name), Some(*value));
        }
    }

    #[test]
    fn unknown_values_print_as_numbers() {
        assert_eq!(ErrorCode(12345).to_string(), "12345");
        assert_eq!(NtStatus(0xC0001234).to_string(), "0xC0001234");
    }
}
