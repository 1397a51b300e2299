//! Backends: what performs a scenario's steps.
//!
//! The scenario runner ([`crate::scenario::run`]) and the differential mode
//! ([`crate::diff`]) drive a [`Backend`] one step at a time. Each step is one of the
//! runner's step kinds ([`Action`]: socket, pair, bind, listen, connect, accept, send,
//! recv, setsockopt, close, ioctl, ioctlsocket, event_select, async_select,
//! enum_network_events, set/reset_event, wait, sleep_ex, iocp, associate, get_queued,
//! get_overlapped_result, overlapped_status, join, net, advance), and every backend
//! answers with the same record, an [`Outcome`], so that two backends can be compared
//! field by field.
//!
//! - [`ModelBackend`]: the model, a thin adapter over [`Host`](crate::model::Host).
//! - `RealBackend` (only with `--features winsock` on Windows, `sim/backend/winsock.rs`):
//!   the same steps through the real Winsock API. The model's crate never depends on an
//!   OS crate: `windows-sys` is an optional, Windows-only dependency of that feature.
//!
//! A backend may refuse a step it cannot perform faithfully ([`Backend::refuse`]): the
//! runner then stops the scenario at that step with "skipped: ..." instead of hanging or
//! guessing. The model refuses nothing.

mod model;
#[cfg(all(windows, feature = "winsock"))]
#[allow(unsafe_code)]
pub mod winsock;

pub use model::ModelBackend;

use crate::errors::{ErrorCode, NtStatus};
use crate::model::overlapped::{Apc, WaitOutcome, WaitResult};
use crate::model::socket::NetworkEvents;
use crate::outcome::BytesReturned;
use crate::scenario::{Action, ResultVal, Scenario, Step};
use crate::wire::PointerSize;

/// What one step gave, field by field; `None` for fields the call does not report.
///
/// Names, not handles: an OVERLAPPED is `OverlappedId(i + 1)` and a completion routine
/// `RoutineId(i + 1)` for the scenario's `i`-th name of that kind, on every backend.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The return value.
    pub result: Option<ResultVal>,
    /// The last error after the call (0 when the call succeeded).
    pub error: Option<ErrorCode>,
    /// What happened to `*lpcbBytesReturned`.
    pub bytes_returned: Option<BytesReturned>,
    /// The output buffer after the call: written bytes, then (a window of) the 0xCC fill.
    pub out: Option<Vec<u8>>,
    /// How many leading bytes of `out` the call wrote (the model knows; a real backend
    /// reports `bytes_returned` when written, else the length before the trailing 0xCC).
    pub written: usize,
    /// The call parked its thread.
    pub blocked: bool,
    /// Bytes received (recv).
    pub data: Option<Vec<u8>>,
    /// `*argp` after ioctlsocket.
    pub arg: Option<u32>,
    /// WSAEnumNetworkEvents' lNetworkEvents.
    pub events: Option<NetworkEvents>,
    /// WSAEnumNetworkEvents' iErrorCode array.
    pub errors: Option<[ErrorCode; 10]>,
    /// For a wait: the index of the signalled event, if any.
    pub signaled: Option<Option<usize>>,
    /// Completion routines run during the call, in order.
    pub apcs: Option<Vec<Apc>>,
    /// Bytes transferred (GQCS, WSAGetOverlappedResult).
    pub bytes: Option<u32>,
    /// Completion key (GQCS).
    pub key: Option<u64>,
    /// The OVERLAPPED dequeued (GQCS; `Some(None)` for NULL).
    pub overlapped: Option<Option<crate::model::OverlappedId>>,
    /// Flags (WSAGetOverlappedResult).
    pub flags: Option<u32>,
    /// OVERLAPPED.Internal.
    pub internal: Option<NtStatus>,
    /// OVERLAPPED.InternalHigh.
    pub internal_high: Option<u64>,
    /// The call succeeded (for steps without `expect:`).
    pub ok: bool,
    /// A failure that is not a field value (a host change refused, a step skipped).
    pub problem: Option<String>,
}

/// Why a backend does not perform a step.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Refusal {
    /// One sentence, shown after "skipped: ".
    pub reason: String,
}

impl Refusal {
    /// A refusal with this reason.
    pub fn new(reason: impl Into<String>) -> Refusal {
        Refusal {
            reason: reason.into(),
        }
    }
}

/// Something that performs scenario steps and reports their outcomes.
pub trait Backend {
    /// The backend's name in reports (`model`, `wine-8.0`, `windows-10.0.22631`).
    fn name(&self) -> String;

    /// `Some` when this backend will not perform the whole scenario (for example a
    /// scenario whose `backends:` does not list it). Checked once, before any step.
    fn refuse_scenario(&self, sc: &Scenario) -> Option<Refusal> {
        let _ = sc;
        None
    }

    /// `Some` when this backend will not perform the step; the runner then stops the
    /// scenario there with "skipped: reason" and never calls [`Backend::exec`] for it.
    fn refuse(&self, sc: &Scenario, step: &Step) -> Option<Refusal> {
        let _ = (sc, step);
        None
    }

    /// Performs one step on a thread (an index into the scenario's thread names; 0 is
    /// `main`).
    fn exec(&mut self, thread: usize, action: &Action) -> Outcome;

    /// True while a thread is parked in a blocking call.
    fn is_blocked(&self, thread: usize) -> bool;

    /// The backend's clock for traces (virtual time on the model).
    fn clock(&self) -> String;

    /// The layout of pointer-bearing outputs.
    fn pointer_size(&self) -> PointerSize;

    /// The handle value of a named socket, if it exists.
    fn socket_value(&self, name: usize) -> Option<u64>;

    /// Every handle value the backend has given a named socket, with the name's index
    /// (for normalising handles in outputs; closed sockets included).
    fn socket_values(&self) -> Vec<(usize, u64)>;

    /// Releases everything the backend opened (sockets, events, ports). Idempotent.
    fn finish(&mut self) {}
}

impl Outcome {
    /// A call returning an int (0, a count or SOCKET_ERROR) with its last error: a
    /// non-negative result is a success.
    pub(crate) fn int(result: i32, error: ErrorCode) -> Outcome {
        Outcome {
            result: Some(ResultVal::Int(i64::from(result))),
            error: Some(error),
            ok: result >= 0,
            ..Outcome::default()
        }
    }

    /// A call returning a BOOL; the last error counts only when it failed.
    pub(crate) fn boolean(ok: bool, error: ErrorCode) -> Outcome {
        Outcome {
            result: Some(ResultVal::Bool(ok)),
            error: Some(if ok { ErrorCode::NO_ERROR } else { error }),
            ok,
            ..Outcome::default()
        }
    }
}

/// The outcome of `WSAWaitForMultipleEvents` (`sleep` false) or `SleepEx` (`sleep`
/// true), the same for both backends: the return value as Windows spells it (the event
/// index, WAIT_TIMEOUT or 0 for an elapsed sleep, WAIT_IO_COMPLETION, WSA_WAIT_FAILED),
/// the routines that ran, and which event was signaled when the step waited on events.
pub(crate) fn wait_outcome(w: WaitOutcome, on_events: bool, sleep: bool) -> Outcome {
    let (result, error, signaled, ok) = match w.result {
        WaitResult::Signaled(i) => (i as i64, ErrorCode::NO_ERROR, Some(i), true),
        WaitResult::Timeout if sleep => (0, ErrorCode::NO_ERROR, None, true),
        WaitResult::Timeout => (
            i64::from(ErrorCode::WAIT_TIMEOUT.0),
            ErrorCode::NO_ERROR,
            None,
            true,
        ),
        WaitResult::IoCompletion => (
            i64::from(ErrorCode::WAIT_IO_COMPLETION.0),
            ErrorCode::NO_ERROR,
            None,
            true,
        ),
        WaitResult::Failed(e) => (0xFFFF_FFFF, e, None, false),
    };
    Outcome {
        result: Some(ResultVal::Int(result)),
        error: Some(error),
        signaled: on_events.then_some(signaled),
        apcs: Some(w.apcs),
        ok,
        ..Outcome::default()
    }
}
