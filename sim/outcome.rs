//! Outcome records: everything one call did, as data. "Not written" is a value of its
//! own, because Windows distinguishes a `lpcbBytesReturned` written with 0 from one left
//! untouched.

use crate::errors::ErrorCode;
use crate::model::{OpId, ThreadId};

/// What happened to `*lpcbBytesReturned`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BytesReturned {
    /// The call wrote this value.
    Written(u32),
    /// The call left the caller's value as it was.
    Untouched,
}

/// The complete result of one `WSAIoctl` call.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct IoctlOutcome {
    /// The return value: 0 or SOCKET_ERROR (-1).
    pub result: i32,
    /// `WSAGetLastError()` right after the call (0 after a success).
    pub error: ErrorCode,
    /// What happened to `*lpcbBytesReturned`.
    pub bytes_returned: BytesReturned,
    /// The bytes written at the start of the output buffer; the rest is untouched.
    pub out: Vec<u8>,
    /// The overlapped operation the call started, whether it completed at once or pends.
    pub op: Option<OpId>,
}

impl IoctlOutcome {
    /// SOCKET_ERROR.
    pub const SOCKET_ERROR: i32 = -1;

    /// True for a return value of 0.
    pub fn is_ok(&self) -> bool {
        self.result == 0
    }

    /// The first four output bytes as a little-endian u32, if written.
    pub fn out_u32(&self) -> Option<u32> {
        crate::wire::read_u32(&self.out)
    }
}

/// A call that may park its thread: it either returned, or its thread is blocked until
/// a later event releases it (see `Host::poll_thread`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum CallReturn<T> {
    /// The call returned with this outcome.
    Returned(T),
    /// The call blocked this thread.
    Blocked(ThreadId),
}

impl<T> CallReturn<T> {
    /// The outcome, if the call returned.
    pub fn returned(self) -> Option<T> {
        match self {
            CallReturn::Returned(t) => Some(t),
            CallReturn::Blocked(_) => None,
        }
    }

    /// True when the call blocked its thread.
    pub fn is_blocked(&self) -> bool {
        matches!(self, CallReturn::Blocked(_))
    }
}
