//! Scenarios: YAML files that describe a host and a list of Winsock calls with the
//! results they must give (the contract is `docs/scenario-format.md`).
//!
//! This layer sits above the model and calls only `Host`'s public methods.
//! - [`locate`]: maps YAML paths back to line and column (serde_yaml has no spans).
//! - [`parse`]: YAML text to a typed [`Scenario`], every name resolved to an index;
//!   a bad file is a [`ScenarioError`] naming file, line and column.
//! - [`encode`]: the `in` forms and the expected `out` forms.
//! - [`run`]: replays a scenario on a fresh `Host`, compares field by field, and
//!   writes the canonical trace.
//! - [`report`]: human, JSON and JUnit reports.
//!
//! ```
//! use wsasim::scenario::{parse_scenario, run_scenario, RunOptions};
//!
//! let yaml = r#"
//! name: FIONBIO cannot return to blocking while WSAEventSelect is active
//! evidence: [Windows observation W036]
//! steps:
//!   - socket: s
//!   - event_select: s
//!     event: ev
//!     events: [read]
//!   - ioctl: s
//!     code: FIONBIO
//!     in: { u32: 0 }
//!     expect: { result: -1, error: WSAEINVAL, bytes_returned: 0 }
//! "#;
//! let scenario = parse_scenario("inline.yaml", yaml).unwrap();
//! let result = run_scenario(&scenario, RunOptions::default());
//! assert!(result.passed());
//! ```

pub mod encode;
pub mod locate;
pub mod parse;
pub mod report;
pub mod run;

use std::fmt;
use std::net::SocketAddr;

use crate::codes::IoctlCode;
use crate::errors::{ErrorCode, NtStatus};
use crate::model::socket::NetworkEvents;
use crate::model::{AddressFamily, HostConfig, Network, OverlappedId, RoutineId, SocketType};
use crate::outcome::BytesReturned;
use crate::time::Timeout;
use crate::winsock::{MsgFlags, NetChange};

pub use encode::{InSpec, OutForm};
pub use locate::Pos;
pub use parse::parse_scenario;
pub use run::{run_scenario, RunOptions, ScenarioResult, StepFailure};

/// A scenario that could not be read: the file, the position and what was expected.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ScenarioError {
    /// The file, as given.
    pub file: String,
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1.
    pub column: u32,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

impl std::error::Error for ScenarioError {}

/// The kinds of name a scenario uses; each kind has its own namespace.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum NameKind {
    /// Sockets.
    Socket,
    /// Event objects.
    Event,
    /// OVERLAPPED records.
    Overlapped,
    /// Completion routines.
    Routine,
    /// Completion ports.
    Port,
    /// Threads (`main` is index 0).
    Thread,
    /// Windows for WSAAsyncSelect.
    Window,
}

/// The names a scenario uses, by kind; a step refers to a name by its index here.
#[derive(Clone, Debug, Default)]
pub struct Names {
    /// Socket names.
    pub sockets: Vec<String>,
    /// Event names.
    pub events: Vec<String>,
    /// OVERLAPPED names.
    pub overlapped: Vec<String>,
    /// Completion routine names.
    pub routines: Vec<String>,
    /// Completion port names.
    pub ports: Vec<String>,
    /// Thread names; index 0 is `main`.
    pub threads: Vec<String>,
    /// Window names.
    pub windows: Vec<String>,
}

impl Names {
    /// The OVERLAPPED record the `i`-th overlapped name stands for (ids count from 1, so
    /// that id 0 never names a record).
    pub fn overlapped_id(i: usize) -> OverlappedId {
        OverlappedId(i as u64 + 1)
    }

    /// The completion routine the `i`-th routine name stands for (ids count from 1).
    pub fn routine_id(i: usize) -> RoutineId {
        RoutineId(i as u64 + 1)
    }

    /// The scenario's name for an OVERLAPPED id.
    pub fn overlapped_name(&self, id: OverlappedId) -> Option<&str> {
        let i = usize::try_from(id.0).ok()?.checked_sub(1)?;
        self.overlapped.get(i).map(String::as_str)
    }

    /// The scenario's name for a routine id.
    pub fn routine_name(&self, id: RoutineId) -> Option<&str> {
        let i = usize::try_from(id.0).ok()?.checked_sub(1)?;
        self.routines.get(i).map(String::as_str)
    }

    /// The list for a kind.
    pub fn of(&self, kind: NameKind) -> &Vec<String> {
        match kind {
            NameKind::Socket => &self.sockets,
            NameKind::Event => &self.events,
            NameKind::Overlapped => &self.overlapped,
            NameKind::Routine => &self.routines,
            NameKind::Port => &self.ports,
            NameKind::Thread => &self.threads,
            NameKind::Window => &self.windows,
        }
    }

    /// The list for a kind, mutably.
    pub fn of_mut(&mut self, kind: NameKind) -> &mut Vec<String> {
        match kind {
            NameKind::Socket => &mut self.sockets,
            NameKind::Event => &mut self.events,
            NameKind::Overlapped => &mut self.overlapped,
            NameKind::Routine => &mut self.routines,
            NameKind::Port => &mut self.ports,
            NameKind::Thread => &mut self.threads,
            NameKind::Window => &mut self.windows,
        }
    }
}

/// One parsed scenario file.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The file it came from.
    pub file: String,
    /// `name:`.
    pub name: String,
    /// `about:`.
    pub about: Option<String>,
    /// `evidence:`.
    pub evidence: Vec<String>,
    /// The host's settings (`seed`, `provider`, `privileged`).
    pub config: HostConfig,
    /// The host's network (`host:`, or the default host).
    pub network: Network,
    /// `backends:` (default: model and winsock).
    pub backends: Vec<String>,
    /// `allow_blocked_at_end:`.
    pub allow_blocked_at_end: bool,
    /// Every name the steps use.
    pub names: Names,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

/// One step: a call or a host change, and what it must give.
#[derive(Clone, Debug)]
pub struct Step {
    /// Where the step starts in the file.
    pub pos: Pos,
    /// The thread it runs on (index into `Names::threads`).
    pub thread: usize,
    /// `note:` (a project addition): a comment carried into reports.
    pub note: Option<String>,
    /// The call.
    pub action: Action,
    /// What it must return.
    pub expect: Expect,
}

/// Where `connect` goes.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// A named socket's bound address.
    Socket(usize),
    /// An explicit address.
    Addr(SocketAddr),
}

/// The output buffer of a WSAIoctl step.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OutSpec {
    /// No buffer: NULL, length 0.
    None,
    /// A NULL pointer with this length (`out: null`, `out_len: N`).
    Null(u32),
    /// A valid buffer of this many bytes, filled with 0xCC.
    Capacity(u32),
}

/// A WSAIoctl step's arguments.
#[derive(Clone, Debug)]
pub struct IoctlStep {
    /// The socket.
    pub socket: usize,
    /// `dwIoControlCode`.
    pub code: IoctlCode,
    /// The input buffer.
    pub input: InSpec,
    /// The output buffer.
    pub output: OutSpec,
    /// False for `bytes_returned: null`.
    pub bytes_returned: bool,
    /// `overlapped:`.
    pub overlapped: Option<usize>,
    /// `event:` (the OVERLAPPED's hEvent).
    pub event: Option<usize>,
    /// `completion:`.
    pub completion: Option<usize>,
}

/// The call a step makes.
#[derive(Clone, Debug)]
pub enum Action {
    /// WSASocket.
    Socket {
        /// Name.
        s: usize,
        /// Family.
        af: AddressFamily,
        /// Type.
        kind: SocketType,
        /// Protocol number (0: the type's default).
        protocol: i32,
        /// WSA_FLAG_OVERLAPPED.
        overlapped: bool,
    },
    /// A connected loopback pair.
    Pair {
        /// Client name.
        a: usize,
        /// Server name.
        b: usize,
        /// Family.
        af: AddressFamily,
        /// Type.
        kind: SocketType,
    },
    /// bind.
    Bind {
        /// Socket.
        s: usize,
        /// Address.
        addr: SocketAddr,
    },
    /// listen.
    Listen {
        /// Socket.
        s: usize,
    },
    /// connect.
    Connect {
        /// Socket.
        s: usize,
        /// Destination.
        to: Target,
    },
    /// accept.
    Accept {
        /// Listening socket.
        s: usize,
        /// Name of the accepted socket.
        as_: usize,
    },
    /// send.
    Send {
        /// Socket.
        s: usize,
        /// Bytes.
        data: Vec<u8>,
        /// Flags.
        flags: MsgFlags,
    },
    /// recv.
    Recv {
        /// Socket.
        s: usize,
        /// Buffer length.
        len: usize,
        /// Flags.
        flags: MsgFlags,
    },
    /// setsockopt.
    SetSockOpt {
        /// Socket.
        s: usize,
        /// Option name.
        option: String,
        /// Value.
        value: u32,
    },
    /// closesocket.
    Close {
        /// Socket.
        s: usize,
    },
    /// WSAIoctl.
    Ioctl(Box<IoctlStep>),
    /// ioctlsocket.
    IoctlSocket {
        /// Socket.
        s: usize,
        /// Command.
        cmd: IoctlCode,
        /// `*argp`, or `None` for an invalid pointer.
        arg: Option<u32>,
    },
    /// WSAEventSelect.
    EventSelect {
        /// Socket.
        s: usize,
        /// Event.
        ev: usize,
        /// Mask.
        events: NetworkEvents,
    },
    /// WSAAsyncSelect.
    AsyncSelect {
        /// Socket.
        s: usize,
        /// Window.
        window: usize,
        /// Message.
        message: u32,
        /// Mask.
        events: NetworkEvents,
    },
    /// WSAEnumNetworkEvents.
    EnumNetworkEvents {
        /// Socket.
        s: usize,
        /// Event to reset.
        ev: Option<usize>,
    },
    /// WSAResetEvent.
    ResetEvent(usize),
    /// WSASetEvent.
    SetEvent(usize),
    /// WSAWaitForMultipleEvents.
    Wait {
        /// Events.
        events: Vec<usize>,
        /// fWaitAll.
        all: bool,
        /// Timeout.
        timeout: Timeout,
        /// fAlertable.
        alertable: bool,
    },
    /// SleepEx.
    SleepEx {
        /// Timeout.
        timeout: Timeout,
        /// bAlertable.
        alertable: bool,
    },
    /// CreateIoCompletionPort (new port).
    Iocp(usize),
    /// CreateIoCompletionPort (association).
    Associate {
        /// Socket.
        s: usize,
        /// Port.
        port: usize,
        /// Completion key.
        key: u64,
    },
    /// GetQueuedCompletionStatus.
    GetQueued {
        /// Port.
        port: usize,
        /// Timeout.
        timeout: Timeout,
    },
    /// WSAGetOverlappedResult.
    GetOverlappedResult {
        /// Socket.
        s: usize,
        /// OVERLAPPED.
        ov: usize,
        /// fWait.
        wait: bool,
    },
    /// Reads OVERLAPPED.Internal/InternalHigh.
    OverlappedStatus(usize),
    /// Waits for a blocked thread's call.
    Join(usize),
    /// A host change.
    Net(NetChange),
    /// Virtual time passes.
    Advance(u64),
}

/// An expected return value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ResultVal {
    /// An integer (0, -1, a byte count, a wait code).
    Int(i64),
    /// A BOOL.
    Bool(bool),
}

impl fmt::Display for ResultVal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResultVal::Int(n) => write!(f, "{n}"),
            ResultVal::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// One expected completion-routine call.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ApcExp {
    /// The routine.
    pub routine: usize,
    /// dwError.
    pub error: Option<ErrorCode>,
    /// cbTransferred.
    pub bytes: Option<u32>,
    /// lpOverlapped.
    pub overlapped: Option<usize>,
    /// dwFlags.
    pub flags: Option<u32>,
}

/// Checked fields of an `expect:` map. `None` means "not checked".
#[derive(Clone, Debug, Default)]
pub struct Checks {
    /// `result`.
    pub result: Option<ResultVal>,
    /// `error`.
    pub error: Option<ErrorCode>,
    /// `bytes_returned`.
    pub bytes_returned: Option<BytesReturned>,
    /// `out`.
    pub out: Option<OutForm>,
    /// `out_untouched: true`.
    pub out_untouched: bool,
    /// `blocks: true`.
    pub blocks: bool,
    /// `data` (recv).
    pub data: Option<Vec<u8>>,
    /// `arg` (ioctlsocket).
    pub arg: Option<u32>,
    /// `events` (enum_network_events).
    pub events: Option<NetworkEvents>,
    /// `errors` (enum_network_events): (FD bit, error).
    pub errors: Vec<(usize, ErrorCode)>,
    /// `signaled` (wait).
    pub signaled: Option<usize>,
    /// `apcs` or `apcs_unordered`, and whether order matters.
    pub apcs: Option<(Vec<ApcExp>, bool)>,
    /// `bytes`.
    pub bytes: Option<u32>,
    /// `key`.
    pub key: Option<u64>,
    /// `overlapped` (`Some(None)`: NULL).
    pub overlapped: Option<Option<usize>>,
    /// `flags` (get_overlapped_result).
    pub flags: Option<u32>,
    /// `internal`.
    pub internal: Option<NtStatus>,
    /// `internal_high`.
    pub internal_high: Option<u64>,
}

/// What a step must give.
#[derive(Clone, Debug)]
pub enum Expect {
    /// No `expect:`: the call must succeed.
    Succeed,
    /// `expect: any`: recorded, not checked.
    Any,
    /// `expect: ok` or a map of fields.
    Check(Box<Checks>),
}

/// Reads and parses one scenario file.
pub fn load(path: &std::path::Path) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ScenarioError {
        file: file.clone(),
        line: 1,
        column: 1,
        message: format!("cannot read the file: {e}"),
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let upto = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = upto.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
        let column =
            (upto.len() - upto.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1)) as u32 + 1;
        ScenarioError {
            file: file.clone(),
            line,
            column,
            message: "the file is not UTF-8 text".into(),
        }
    })?;
    parse_scenario(&file, &text)
}

/// The known-divergences file of the differential mode, which lives among the
/// scenarios but is not one.
pub const DIVERGENCES_FILE: &str = "divergences.yaml";

/// Every `*.yaml` file under the paths (a file path is taken as is), recursively, in
/// sorted order, except [`DIVERGENCES_FILE`]. Unreadable directories are reported as
/// errors.
pub fn discover(paths: &[std::path::PathBuf]) -> (Vec<std::path::PathBuf>, Vec<ScenarioError>) {
    fn walk(
        dir: &std::path::Path,
        out: &mut Vec<std::path::PathBuf>,
        errs: &mut Vec<ScenarioError>,
    ) {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                errs.push(ScenarioError {
                    file: dir.display().to_string(),
                    line: 1,
                    column: 1,
                    message: format!("cannot read the directory: {e}"),
                });
                return;
            }
        };
        let mut list: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        list.sort();
        for p in list {
            if p.is_dir() {
                walk(&p, out, errs);
            } else if p.extension().is_some_and(|x| x == "yaml")
                && p.file_name().is_none_or(|n| n != DIVERGENCES_FILE)
            {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    let mut errs = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out, &mut errs);
        } else {
            out.push(p.clone());
        }
    }
    out.sort();
    out.dedup();
    (out, errs)
}

/// Every scenario under the paths ([`discover`]), loaded: the scenarios that read, and
/// an error for each directory or file that did not.
pub fn load_all(paths: &[std::path::PathBuf]) -> (Vec<Scenario>, Vec<ScenarioError>) {
    let (files, mut errors) = discover(paths);
    let mut list = Vec::with_capacity(files.len());
    for f in &files {
        match load(f) {
            Ok(sc) => list.push(sc),
            Err(e) => errors.push(e),
        }
    }
    (list, errors)
}

/// Replays a scenario twice and fails on the first trace line that differs, naming
/// the step; otherwise returns the first run's result.
pub fn check_determinism(sc: &Scenario, opts: RunOptions) -> ScenarioResult {
    let opts = RunOptions {
        trace: true,
        ..opts
    };
    let mut a = run_scenario(sc, opts);
    let b = run_scenario(sc, opts);
    let n = a.trace.len().max(b.trace.len());
    for i in 0..n {
        let (x, y) = (a.trace.get(i), b.trace.get(i));
        if x != y {
            let step = sc.steps.get(i);
            a.failure = Some(StepFailure {
                step: i + 1,
                line: step.map_or(1, |s| s.pos.line),
                thread: step.map_or("main".into(), |s| sc.names.threads[s.thread].clone()),
                call: "(replayed twice)".into(),
                reason: "the two replays differ: the model is not deterministic here".into(),
                fields: vec![run::FieldDiff {
                    field: "trace",
                    expected: x.cloned().unwrap_or_else(|| "(no line)".into()),
                    actual: y.cloned().unwrap_or_else(|| "(no line)".into()),
                }],
                note: step.and_then(|s| s.note.clone()),
            });
            break;
        }
    }
    a
}
