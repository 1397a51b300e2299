//! The real backend: each scenario step through the real Winsock API (Windows, or Wine
//! on Linux), reported as the same [`Outcome`] record as the model's.
//!
//! Only with `--features winsock` on Windows. Rules it keeps:
//! - Sockets talk to loopback only: `connect` to any address other than 127.0.0.0/8,
//!   ::1 or the unspecified address is refused (skipped), `pair` uses 127.0.0.1 / ::1,
//!   and `send` works only on connected sockets, so nothing leaves the machine.
//! - Every socket, event, port and window it opened is closed in [`Backend::finish`];
//!   the OVERLAPPED records and buffers of operations that may still complete stay
//!   alive until then (and the APCs that closing queues are drained first).
//! - WSAIoctl gets the scenario's exact buffers: an output buffer of the declared
//!   capacity filled with 0xCC (capacities above [`MAX_OUT`] are refused), NULL where
//!   the scenario says `null`, `*lpcbBytesReturned` preset to 0xDEADBEEF and reported
//!   `Untouched` when it still holds that value afterwards, and the OVERLAPPED with its
//!   event and a completion routine that records its calls.
//! - `lpSockaddr` pointers inside SOCKET_ADDRESS_LIST buffers are rebased between the
//!   real buffer's address and the model's fixed addresses ([`IN_BUFFER_BASE`],
//!   [`OUT_BUFFER_BASE`]), in the input before the call and in the output after it.
//! - Waits are capped at [`WAIT_CAP_MS`]: an `INFINITE` wait that times out is reported
//!   as a problem instead of hanging the run.
//! - Steps it cannot perform are refused with a reason: other threads, `blocks:`,
//!   `join`, host changes, virtual time, scenarios that are model-only, privileged, or
//!   laid out for a 32-bit process.

use std::cell::RefCell;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::ptr::{null, null_mut};

use windows_sys::Win32::Foundation::{
    CloseHandle, GetLastError, FARPROC, HANDLE, HWND, INVALID_HANDLE_VALUE,
};
use windows_sys::Win32::NetworkManagement::IpHelper::{
    FreeMibTable, GetAdaptersAddresses, GetIpForwardTable2, IP_ADAPTER_ADDRESSES_LH,
    MIB_IPFORWARD_TABLE2,
};
use windows_sys::Win32::Networking::WinSock as ws;
use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleA, GetProcAddress};
use windows_sys::Win32::System::Threading::SleepEx;
use windows_sys::Win32::System::IO::{
    CreateIoCompletionPort, GetQueuedCompletionStatus, OVERLAPPED,
};
use windows_sys::Win32::UI::WindowsAndMessaging::{CreateWindowExW, DestroyWindow, HWND_MESSAGE};

use super::{Backend, Outcome, Refusal};
use crate::errors::{ErrorCode, NtStatus};
use crate::ioctl::{IN_BUFFER_BASE, OUT_BUFFER_BASE};
use crate::model::net::{IfAddress, Prefix, Route};
use crate::model::overlapped::{Apc, WaitOutcome, WaitResult};
use crate::model::socket::NetworkEvents;
use crate::model::{
    AddressFamily, Interface, InterfaceKind, Network, OverlappedId, RoutineId, SocketType,
};
use crate::outcome::BytesReturned;
use crate::scenario::{
    Action, Expect, InSpec, IoctlStep, Names, OutSpec, ResultVal, Scenario, Step, Target,
};
use crate::time::Timeout;
use crate::winsock::MsgFlags;
use crate::wire::sockaddr::{emit_sockaddr, parse_sockaddr};
use crate::wire::PointerSize;

/// The largest output buffer the real backend allocates (16 MiB).
pub const MAX_OUT: u32 = 16 << 20;
/// The longest a real wait may take, in milliseconds.
pub const WAIT_CAP_MS: u32 = 2000;
/// The value `*lpcbBytesReturned` holds before each call.
pub const BYTES_SENTINEL: u32 = 0xDEAD_BEEF;
/// The handle value every call gets for a socket name after `close:` (normalisation 7 in
/// docs/differential.md). The system hands a freed SOCKET value to the next handle it
/// creates, even inside a call (Wine's WSAIoctl opens handles of its own before it
/// looks at the socket), so passing the closed value again could name a live object.
/// This value is a multiple of 4 like every kernel handle and lies above the largest
/// one a process can hold (2^24 handles, so values below 0x4000000), and it is not one
/// of the pseudo-handles near `-1`: no open object ever has it, and the call must fail
/// its socket lookup as it would for the closed value.
pub const CLOSED_SOCKET: ws::SOCKET = 0x7FFF_FFF0;

thread_local! {
    /// Completion-routine calls on this thread: (lpOverlapped, dwError, cbTransferred,
    /// dwFlags), in the order they ran.
    static APCS: RefCell<Vec<(usize, u32, u32, u32)>> = const { RefCell::new(Vec::new()) };
}

unsafe extern "system" fn completion_routine(
    error: u32,
    transferred: u32,
    overlapped: *mut OVERLAPPED,
    flags: u32,
) {
    APCS.with(|a| {
        a.borrow_mut()
            .push((overlapped as usize, error, transferred, flags))
    });
}

/// Starts Winsock 2.2 (once per process; WSAStartup counts its calls).
pub fn startup() -> Result<(), String> {
    let mut data: ws::WSADATA = unsafe { std::mem::zeroed() };
    let r = unsafe { ws::WSAStartup(0x0202, &mut data) };
    if r == 0 {
        Ok(())
    } else {
        Err(format!("WSAStartup failed with {r}"))
    }
}

fn proc_address(module: &[u8], name: &[u8]) -> FARPROC {
    // Both names end with a NUL byte.
    let m = unsafe { GetModuleHandleA(module.as_ptr()) };
    if m.is_null() {
        return None;
    }
    unsafe { GetProcAddress(m, name.as_ptr()) }
}

/// The backend's name: `wine-<version>` when ntdll exports `wine_get_version`, else
/// `windows-<major>.<minor>.<build>` from `RtlGetVersion`.
pub fn backend_name() -> String {
    if let Some(f) = proc_address(b"ntdll.dll\0", b"wine_get_version\0") {
        let f: unsafe extern "C" fn() -> *const std::ffi::c_char =
            unsafe { std::mem::transmute(f) };
        let p = unsafe { f() };
        if !p.is_null() {
            let v = unsafe { std::ffi::CStr::from_ptr(p) };
            return format!("wine-{}", v.to_string_lossy());
        }
        return "wine-unknown".into();
    }
    #[repr(C)]
    struct OsVersionInfo {
        size: u32,
        major: u32,
        minor: u32,
        build: u32,
        platform: u32,
        csd: [u16; 128],
    }
    if let Some(f) = proc_address(b"ntdll.dll\0", b"RtlGetVersion\0") {
        let f: unsafe extern "system" fn(*mut OsVersionInfo) -> i32 =
            unsafe { std::mem::transmute(f) };
        let mut v = OsVersionInfo {
            size: std::mem::size_of::<OsVersionInfo>() as u32,
            major: 0,
            minor: 0,
            build: 0,
            platform: 0,
            csd: [0; 128],
        };
        if unsafe { f(&mut v) } == 0 {
            return format!("windows-{}.{}.{}", v.major, v.minor, v.build);
        }
    }
    "windows-unknown".into()
}

fn sockaddr_from(p: *const ws::SOCKADDR, len: usize) -> Option<SocketAddr> {
    if p.is_null() || len < 2 {
        return None;
    }
    let bytes = unsafe { std::slice::from_raw_parts(p as *const u8, len) };
    parse_sockaddr(bytes).ok()
}

fn sockaddr_inet(p: &ws::SOCKADDR_INET) -> Option<IpAddr> {
    let len = std::mem::size_of::<ws::SOCKADDR_INET>();
    sockaddr_from(p as *const _ as *const ws::SOCKADDR, len).map(|a| a.ip())
}

/// The real host's network: interfaces and their addresses from
/// `GetAdaptersAddresses`, routes from `GetIpForwardTable2` (both families).
pub fn real_network() -> Result<Network, String> {
    let mut net = Network::default();
    // GetAdaptersAddresses: ask for the size, then fill.
    let mut size: u32 = 16 * 1024;
    let mut buf: Vec<u64> = Vec::new();
    for _ in 0..4 {
        buf = vec![0u64; (size as usize).div_ceil(8)];
        let r = unsafe {
            GetAdaptersAddresses(
                ws::AF_UNSPEC as u32,
                0,
                null(),
                buf.as_mut_ptr() as *mut IP_ADAPTER_ADDRESSES_LH,
                &mut size,
            )
        };
        if r == 0 {
            break;
        }
        if r != 111 {
            // Anything but ERROR_BUFFER_OVERFLOW.
            return Err(format!("GetAdaptersAddresses failed with {r}"));
        }
    }
    let mut p = buf.as_ptr() as *const IP_ADAPTER_ADDRESSES_LH;
    while !p.is_null() {
        let a = unsafe { &*p };
        let index = unsafe { a.Anonymous1.Anonymous.IfIndex };
        let index = if index != 0 { index } else { a.Ipv6IfIndex };
        let kind = match a.IfType {
            24 => InterfaceKind::Loopback,
            71 => InterfaceKind::Wireless,
            131 => InterfaceKind::Tunnel,
            _ => InterfaceKind::Ethernet,
        };
        let mut addresses = Vec::new();
        let mut u = a.FirstUnicastAddress;
        while !u.is_null() {
            let ua = unsafe { &*u };
            if let Some(sa) = sockaddr_from(
                ua.Address.lpSockaddr,
                ua.Address.iSockaddrLength.max(0) as usize,
            ) {
                addresses.push(IfAddress {
                    addr: sa.ip(),
                    prefix: ua.OnLinkPrefixLength,
                });
            }
            u = ua.Next;
        }
        if index != 0 && !net.interfaces.contains_key(&index) {
            net.add_interface(Interface {
                index,
                name: format!("if{index}"),
                kind,
                up: a.OperStatus == 1,
                addresses,
            });
        }
        p = a.Next;
    }
    let mut table: *mut MIB_IPFORWARD_TABLE2 = null_mut();
    let r = unsafe { GetIpForwardTable2(ws::AF_UNSPEC, &mut table) };
    if r == 0 && !table.is_null() {
        let t = unsafe { &*table };
        let rows = unsafe { std::slice::from_raw_parts(t.Table.as_ptr(), t.NumEntries as usize) };
        for row in rows {
            let Some(dest) = sockaddr_inet(&row.DestinationPrefix.Prefix) else {
                continue;
            };
            if !net.interfaces.contains_key(&row.InterfaceIndex) {
                continue;
            }
            let gateway = sockaddr_inet(&row.NextHop).filter(|g| !g.is_unspecified());
            net.add_route(Route {
                prefix: Prefix::new(dest, row.DestinationPrefix.PrefixLength),
                gateway,
                interface: row.InterfaceIndex,
                metric: row.Metric,
            });
        }
        unsafe { FreeMibTable(table as *const _) };
    }
    net.rebuild_index();
    Ok(net)
}

fn last_wsa() -> ErrorCode {
    ErrorCode(unsafe { ws::WSAGetLastError() } as u32)
}

fn last_win32() -> ErrorCode {
    ErrorCode(unsafe { GetLastError() })
}

/// A SOCKADDR in an aligned buffer.
struct RawAddr {
    buf: [u64; 4],
    len: i32,
}

impl RawAddr {
    fn new(a: &SocketAddr) -> RawAddr {
        let mut v = Vec::new();
        emit_sockaddr(a, &mut v);
        let mut buf = [0u64; 4];
        let bytes = unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr() as *mut u8, 32) };
        bytes[..v.len()].copy_from_slice(&v);
        RawAddr {
            buf,
            len: v.len() as i32,
        }
    }

    fn ptr(&self) -> *const ws::SOCKADDR {
        self.buf.as_ptr() as *const ws::SOCKADDR
    }
}

fn local_addr(s: ws::SOCKET) -> Option<SocketAddr> {
    let mut buf = [0u64; 16];
    let mut len: i32 = 128;
    let r = unsafe { ws::getsockname(s, buf.as_mut_ptr() as *mut ws::SOCKADDR, &mut len) };
    if r != 0 {
        return None;
    }
    sockaddr_from(buf.as_ptr() as *const ws::SOCKADDR, len as usize)
}

fn allowed_destination(ip: IpAddr) -> bool {
    ip.is_loopback() || ip.is_unspecified()
}

fn loopback(af: AddressFamily) -> SocketAddr {
    match af {
        AddressFamily::Inet => SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
        AddressFamily::Inet6 => SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 0),
    }
}

fn af_value(af: AddressFamily) -> i32 {
    match af {
        AddressFamily::Inet => ws::AF_INET as i32,
        AddressFamily::Inet6 => ws::AF_INET6 as i32,
    }
}

fn type_value(t: SocketType) -> i32 {
    match t {
        SocketType::Stream => ws::SOCK_STREAM,
        SocketType::Dgram => ws::SOCK_DGRAM,
        SocketType::Raw => ws::SOCK_RAW,
    }
}

fn msg_flags(f: MsgFlags) -> i32 {
    let mut v = 0;
    if f.oob {
        v |= ws::MSG_OOB;
    }
    if f.peek {
        v |= ws::MSG_PEEK;
    }
    if f.dontroute {
        v |= ws::MSG_DONTROUTE;
    }
    v
}

/// A capped wait: the timeout actually used, and whether the scenario's was INFINITE.
fn capped(t: Timeout) -> (u32, bool) {
    (t.0.min(WAIT_CAP_MS), t.is_infinite())
}

/// Codes whose input or output is a SOCKET_ADDRESS_LIST (pointers into the buffer).
fn holds_address_list(code: crate::codes::IoctlCode) -> bool {
    code == crate::codes::IoctlCode::SIO_ADDRESS_LIST_QUERY
        || code == crate::codes::IoctlCode::SIO_ADDRESS_LIST_SORT
}

/// Rebases the `lpSockaddr` pointers of a 64-bit SOCKET_ADDRESS_LIST from one buffer
/// address range to another. Pointers outside `[from, from + len)` are left alone.
fn rebase_list(bytes: &mut [u8], ranges: &[(u64, u64, u64)]) {
    if bytes.len() < 4 {
        return;
    }
    let count = i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]).max(0) as usize;
    for i in 0..count {
        let at = 8 + i * 16;
        if at + 8 > bytes.len() {
            break;
        }
        let mut p = [0u8; 8];
        p.copy_from_slice(&bytes[at..at + 8]);
        let v = u64::from_le_bytes(p);
        for &(from, len, to) in ranges {
            if v >= from && v < from.wrapping_add(len) {
                let nv = to.wrapping_add(v - from);
                bytes[at..at + 8].copy_from_slice(&nv.to_le_bytes());
                break;
            }
        }
    }
}

/// Per OVERLAPPED name: the record (boxed, so its address is stable) and what the last
/// call that used it passed.
struct OvSlot {
    ov: Box<OVERLAPPED>,
    routine: Option<usize>,
}

/// The real Winsock API as a [`Backend`].
pub struct RealBackend {
    name: String,
    sockets: Vec<Option<ws::SOCKET>>,
    /// Per socket name: closed by a `close:` step (calls then get [`CLOSED_SOCKET`]).
    closed: Vec<bool>,
    history: Vec<(usize, u64)>,
    open: Vec<ws::SOCKET>,
    events: Vec<Option<ws::WSAEVENT>>,
    ports: Vec<Option<HANDLE>>,
    windows: Vec<Option<HWND>>,
    overlapped: Vec<Option<OvSlot>>,
    /// Buffers of overlapped calls, kept until the end (the system may still write).
    keep: Vec<(Vec<u64>, Vec<u64>, Box<u32>)>,
    /// Whether a message-only window can be created here (checked once).
    window_ok: std::cell::Cell<Option<Result<(), u32>>>,
}

impl RealBackend {
    /// A backend for one scenario (call [`startup`] once first).
    pub fn new(sc: &Scenario, name: &str) -> RealBackend {
        APCS.with(|a| a.borrow_mut().clear());
        RealBackend {
            name: name.to_string(),
            sockets: vec![None; sc.names.sockets.len()],
            closed: vec![false; sc.names.sockets.len()],
            history: Vec::new(),
            open: Vec::new(),
            events: vec![None; sc.names.events.len()],
            ports: vec![None; sc.names.ports.len()],
            windows: vec![None; sc.names.windows.len()],
            overlapped: (0..sc.names.overlapped.len()).map(|_| None).collect(),
            keep: Vec::new(),
            window_ok: std::cell::Cell::new(None),
        }
    }

    fn is_wine(&self) -> bool {
        self.name.starts_with("wine-")
    }

    fn sock(&self, i: usize) -> ws::SOCKET {
        if self.closed[i] {
            return CLOSED_SOCKET;
        }
        self.sockets[i].unwrap_or(ws::INVALID_SOCKET)
    }

    fn set_socket(&mut self, i: usize, s: ws::SOCKET) {
        self.closed[i] = false;
        self.sockets[i] = Some(s);
        self.history.push((i, s as u64));
        self.open.push(s);
    }

    fn event(&mut self, i: usize) -> ws::WSAEVENT {
        if let Some(e) = self.events[i] {
            return e;
        }
        let e = unsafe { ws::WSACreateEvent() };
        self.events[i] = Some(e);
        e
    }

    fn new_window() -> Result<HWND, u32> {
        let class: Vec<u16> = "STATIC\0".encode_utf16().collect();
        let title: Vec<u16> = "wsasim\0".encode_utf16().collect();
        let w = unsafe {
            CreateWindowExW(
                0,
                class.as_ptr(),
                title.as_ptr(),
                0,
                0,
                0,
                0,
                0,
                HWND_MESSAGE,
                null_mut(),
                null_mut(),
                null(),
            )
        };
        if w.is_null() {
            Err(unsafe { GetLastError() })
        } else {
            Ok(w)
        }
    }

    fn window(&mut self, i: usize) -> HWND {
        if let Some(w) = self.windows[i] {
            return w;
        }
        let w = Self::new_window().unwrap_or(null_mut());
        self.windows[i] = Some(w);
        w
    }

    fn ov_slot(&mut self, i: usize) -> &mut OvSlot {
        self.overlapped[i].get_or_insert_with(|| OvSlot {
            ov: Box::new(unsafe { std::mem::zeroed() }),
            routine: None,
        })
    }

    fn ov_id(&self, p: usize) -> Option<OverlappedId> {
        self.overlapped.iter().enumerate().find_map(|(i, s)| {
            s.as_ref()
                .filter(|s| &*s.ov as *const OVERLAPPED as usize == p)
                .map(|_| Names::overlapped_id(i))
        })
    }

    /// The completion routines that ran since the last call, as the model names them.
    fn take_apcs(&self) -> Vec<Apc> {
        let raw = APCS.with(|a| std::mem::take(&mut *a.borrow_mut()));
        raw.into_iter()
            .map(|(p, error, bytes, flags)| {
                let ov = self.ov_id(p);
                let routine = ov
                    .and_then(|o| self.overlapped[o.0 as usize - 1].as_ref())
                    .and_then(|s| s.routine)
                    .map_or(RoutineId(0), Names::routine_id);
                Apc {
                    routine,
                    error: ErrorCode(error),
                    bytes,
                    overlapped: ov.unwrap_or(OverlappedId(0)),
                    flags,
                }
            })
            .collect()
    }

    fn created(ok: bool) -> Outcome {
        if ok {
            Outcome::int(0, ErrorCode::NO_ERROR)
        } else {
            Outcome::int(-1, last_wsa())
        }
    }

    fn sock_result(r: i32, data: Vec<u8>) -> Outcome {
        let error = if r >= 0 {
            ErrorCode::NO_ERROR
        } else {
            last_wsa()
        };
        Outcome {
            data: Some(data),
            ..Outcome::int(r, error)
        }
    }

    fn bool_result(ok: bool, error: ErrorCode) -> Outcome {
        Outcome::boolean(ok, error)
    }

    fn new_socket(
        af: AddressFamily,
        kind: SocketType,
        protocol: i32,
        overlapped: bool,
    ) -> ws::SOCKET {
        let flags = if overlapped {
            ws::WSA_FLAG_OVERLAPPED
        } else {
            0
        };
        unsafe { ws::WSASocketW(af_value(af), type_value(kind), protocol, null(), 0, flags) }
    }

    fn pair(&mut self, a: usize, b: usize, af: AddressFamily, kind: SocketType) -> Outcome {
        let lo = RawAddr::new(&loopback(af));
        match kind {
            SocketType::Stream => {
                let l = Self::new_socket(af, kind, 0, true);
                if l == ws::INVALID_SOCKET {
                    return Self::created(false);
                }
                let c = Self::new_socket(af, kind, 0, true);
                let out = 'make: {
                    if c == ws::INVALID_SOCKET
                        || unsafe { ws::bind(l, lo.ptr(), lo.len) } != 0
                        || unsafe { ws::listen(l, 1) } != 0
                    {
                        break 'make Self::created(false);
                    }
                    let Some(addr) = local_addr(l) else {
                        break 'make Self::created(false);
                    };
                    let ra = RawAddr::new(&addr);
                    if unsafe { ws::connect(c, ra.ptr(), ra.len) } != 0 {
                        break 'make Self::created(false);
                    }
                    let srv = unsafe { ws::accept(l, null_mut(), null_mut()) };
                    if srv == ws::INVALID_SOCKET {
                        break 'make Self::created(false);
                    }
                    self.set_socket(a, c);
                    self.set_socket(b, srv);
                    Self::created(true)
                };
                if !out.ok && c != ws::INVALID_SOCKET {
                    unsafe { ws::closesocket(c) };
                }
                unsafe { ws::closesocket(l) };
                out
            }
            _ => {
                let x = Self::new_socket(af, kind, 0, true);
                let y = Self::new_socket(af, kind, 0, true);
                let mut ok = x != ws::INVALID_SOCKET
                    && y != ws::INVALID_SOCKET
                    && unsafe { ws::bind(x, lo.ptr(), lo.len) } == 0
                    && unsafe { ws::bind(y, lo.ptr(), lo.len) } == 0;
                if ok {
                    match (local_addr(x), local_addr(y)) {
                        (Some(ax), Some(ay)) => {
                            let (rx, ry) = (RawAddr::new(&ax), RawAddr::new(&ay));
                            ok = unsafe { ws::connect(x, ry.ptr(), ry.len) } == 0
                                && unsafe { ws::connect(y, rx.ptr(), rx.len) } == 0;
                        }
                        _ => ok = false,
                    }
                }
                let out = Self::created(ok);
                if ok {
                    self.set_socket(a, x);
                    self.set_socket(b, y);
                } else {
                    for s in [x, y] {
                        if s != ws::INVALID_SOCKET {
                            unsafe { ws::closesocket(s) };
                        }
                    }
                }
                out
            }
        }
    }

    fn ioctl(&mut self, io: &IoctlStep) -> Outcome {
        let s = self.sock(io.socket);
        // Input: the scenario's bytes in an 8-aligned buffer, or NULL.
        let mut input: Vec<u64> = Vec::new();
        let (in_ptr, in_len): (*const std::ffi::c_void, u32) = match &io.input {
            InSpec::Null(len) => (null(), *len),
            InSpec::Bytes(b) => {
                input = vec![0u64; b.len().div_ceil(8).max(1)];
                let base = input.as_mut_ptr() as *mut u8;
                let bytes = unsafe { std::slice::from_raw_parts_mut(base, b.len()) };
                bytes.copy_from_slice(b);
                if holds_address_list(io.code) {
                    let len = b.len() as u64;
                    rebase_list(bytes, &[(IN_BUFFER_BASE, len, base as u64)]);
                }
                (base as *const _, b.len() as u32)
            }
        };
        // Output: the declared capacity filled with 0xCC, or NULL.
        let mut out: Vec<u64> = Vec::new();
        let (out_ptr, out_len): (*mut std::ffi::c_void, u32) = match io.output {
            OutSpec::None => (null_mut(), 0),
            OutSpec::Null(n) => (null_mut(), n),
            OutSpec::Capacity(n) => {
                out = vec![0xCCCC_CCCC_CCCC_CCCCu64; (n as usize).div_ceil(8).max(1)];
                (out.as_mut_ptr() as *mut _, n)
            }
        };
        let mut n = Box::new(BYTES_SENTINEL);
        let n_ptr: *mut u32 = if io.bytes_returned {
            &mut *n
        } else {
            null_mut()
        };
        let mut ov_ptr: *mut OVERLAPPED = null_mut();
        if let Some(o) = io.overlapped {
            let ev = io.event.map(|e| self.event(e));
            let slot = self.ov_slot(o);
            *slot.ov = unsafe { std::mem::zeroed() };
            slot.ov.hEvent = ev.map_or(null_mut(), |e| e as HANDLE);
            slot.routine = io.completion;
            ov_ptr = &mut *slot.ov;
        }
        let routine: ws::LPWSAOVERLAPPED_COMPLETION_ROUTINE =
            io.completion.map(|_| completion_routine as _);
        let r = unsafe {
            ws::WSAIoctl(
                s, io.code.0, in_ptr, in_len, out_ptr, out_len, n_ptr, ov_ptr, routine,
            )
        };
        let error = if r == 0 {
            ErrorCode::NO_ERROR
        } else {
            last_wsa()
        };
        let bytes_returned = if *n == BYTES_SENTINEL {
            BytesReturned::Untouched
        } else {
            BytesReturned::Written(*n)
        };
        let out_bytes = if let OutSpec::Capacity(cap) = io.output {
            let raw =
                unsafe { std::slice::from_raw_parts(out.as_ptr() as *const u8, cap as usize) };
            let mut v = raw.to_vec();
            if holds_address_list(io.code) {
                let mut ranges = vec![(out.as_ptr() as u64, u64::from(cap), OUT_BUFFER_BASE)];
                if let InSpec::Bytes(b) = &io.input {
                    ranges.push((in_ptr as u64, b.len() as u64, IN_BUFFER_BASE));
                }
                rebase_list(&mut v, &ranges);
            }
            Some(v)
        } else {
            None
        };
        let written = out_bytes
            .as_deref()
            .map_or(0, crate::diff::normalise::written_len);
        if io.overlapped.is_some() {
            // The system may still write into the buffers: keep them until the end.
            self.keep.push((input, out, n));
        }
        Outcome {
            result: Some(ResultVal::Int(i64::from(r))),
            error: Some(error),
            bytes_returned: Some(bytes_returned),
            out: out_bytes,
            written,
            ok: r == 0,
            ..Outcome::default()
        }
    }
}

impl RealBackend {
    /// A wait's raw return value read as the model's `WaitResult`, then the outcome both
    /// backends build from it; an INFINITE wait cut off by the cap is reported.
    fn wait_outcome(&self, r: u32, infinite: bool, events: Option<usize>, sleep: bool) -> Outcome {
        let result = match r {
            _ if r == ErrorCode::WAIT_IO_COMPLETION.0 => WaitResult::IoCompletion,
            0 if sleep => WaitResult::Timeout,
            _ if !sleep && r == ErrorCode::WAIT_TIMEOUT.0 => WaitResult::Timeout,
            0xFFFF_FFFF => WaitResult::Failed(last_wsa()),
            i => WaitResult::Signaled(i as usize),
        };
        let timed_out = result == WaitResult::Timeout;
        let apcs = self.take_apcs();
        let mut o = super::wait_outcome(WaitOutcome { result, apcs }, events.is_some(), sleep);
        if infinite && timed_out {
            o.problem = Some(format!(
                "an INFINITE wait did not return within {WAIT_CAP_MS} ms on the real backend"
            ));
        }
        o
    }

    fn perform(&mut self, action: &Action) -> Outcome {
        match action {
            Action::Socket {
                s,
                af,
                kind,
                protocol,
                overlapped,
            } => {
                let h = Self::new_socket(*af, *kind, *protocol, *overlapped);
                let ok = h != ws::INVALID_SOCKET;
                let o = Self::created(ok);
                if ok {
                    self.set_socket(*s, h);
                }
                o
            }
            Action::Pair { a, b, af, kind } => self.pair(*a, *b, *af, *kind),
            Action::Bind { s, addr } => {
                let ra = RawAddr::new(addr);
                let r = unsafe { ws::bind(self.sock(*s), ra.ptr(), ra.len) };
                Self::sock_result(r, Vec::new())
            }
            Action::Listen { s } => {
                let r = unsafe { ws::listen(self.sock(*s), ws::SOMAXCONN as i32) };
                Self::sock_result(r, Vec::new())
            }
            Action::Connect { s, to } => {
                let addr = match to {
                    Target::Addr(a) => Some(*a),
                    Target::Socket(t) => local_addr(self.sock(*t)),
                };
                match addr {
                    Some(a) if allowed_destination(a.ip()) => {
                        let ra = RawAddr::new(&a);
                        let r = unsafe { ws::connect(self.sock(*s), ra.ptr(), ra.len) };
                        Self::sock_result(r, Vec::new())
                    }
                    Some(a) => Outcome {
                        problem: Some(format!(
                            "the real backend connects only to loopback, not {a}"
                        )),
                        ..Outcome::default()
                    },
                    None => Outcome {
                        problem: Some("`to:` names a socket that is not bound, so there is no address to connect to".into()),
                        ..Outcome::default()
                    },
                }
            }
            Action::Accept { s, as_ } => {
                let h = unsafe { ws::accept(self.sock(*s), null_mut(), null_mut()) };
                let ok = h != ws::INVALID_SOCKET;
                let o = Self::created(ok);
                if ok {
                    self.set_socket(*as_, h);
                }
                o
            }
            Action::Send { s, data, flags } => {
                let r = unsafe {
                    ws::send(
                        self.sock(*s),
                        data.as_ptr(),
                        data.len() as i32,
                        msg_flags(*flags),
                    )
                };
                Self::sock_result(r, Vec::new())
            }
            Action::Recv { s, len, flags } => {
                let mut buf = vec![0u8; (*len).max(1)];
                let r = unsafe {
                    ws::recv(
                        self.sock(*s),
                        buf.as_mut_ptr(),
                        *len as i32,
                        msg_flags(*flags),
                    )
                };
                buf.truncate(r.max(0) as usize);
                Self::sock_result(r, buf)
            }
            Action::SetSockOpt { s, option, value } => {
                let name = match option.as_str() {
                    "SO_OOBINLINE" => ws::SO_OOBINLINE,
                    "SO_KEEPALIVE" => ws::SO_KEEPALIVE,
                    "SO_RCVBUF" => ws::SO_RCVBUF,
                    "SO_SNDBUF" => ws::SO_SNDBUF,
                    // An option the model does not know: an option number no provider
                    // has, so that Windows answers as the model does (WSAENOPROTOOPT).
                    _ => 0x7FFF_0000,
                };
                let v = value.to_le_bytes();
                let r =
                    unsafe { ws::setsockopt(self.sock(*s), ws::SOL_SOCKET, name, v.as_ptr(), 4) };
                Self::sock_result(r, Vec::new())
            }
            Action::Close { s } => {
                let h = self.sock(*s);
                let r = unsafe { ws::closesocket(h) };
                if r == 0 {
                    self.open.retain(|&x| x != h);
                    // From now on the name stands for a handle that is certainly closed.
                    self.closed[*s] = true;
                }
                Self::sock_result(r, Vec::new())
            }
            Action::Ioctl(io) => self.ioctl(io),
            Action::IoctlSocket { s, cmd, arg } => {
                let mut v = arg.unwrap_or(0);
                // `arg: null` passes an invalid (non-NULL) pointer, as the format says.
                let p: *mut u32 = if arg.is_some() {
                    &mut v
                } else {
                    1usize as *mut u32
                };
                let r = unsafe { ws::ioctlsocket(self.sock(*s), cmd.0 as i32, p) };
                let error = if r == 0 {
                    ErrorCode::NO_ERROR
                } else {
                    last_wsa()
                };
                Outcome {
                    result: Some(ResultVal::Int(i64::from(r))),
                    error: Some(error),
                    arg: Some(v),
                    ok: r == 0,
                    ..Outcome::default()
                }
            }
            Action::EventSelect { s, ev, events } => {
                let e = self.event(*ev);
                let r = unsafe { ws::WSAEventSelect(self.sock(*s), e, events.0 as i32) };
                Self::sock_result(r, Vec::new())
            }
            Action::AsyncSelect {
                s,
                window,
                message,
                events,
            } => {
                let w = self.window(*window);
                let r = unsafe { ws::WSAAsyncSelect(self.sock(*s), w, *message, events.0 as i32) };
                Self::sock_result(r, Vec::new())
            }
            Action::EnumNetworkEvents { s, ev } => {
                let e = ev.map_or(0, |e| self.event(e));
                let mut ne: ws::WSANETWORKEVENTS = unsafe { std::mem::zeroed() };
                let r = unsafe { ws::WSAEnumNetworkEvents(self.sock(*s), e, &mut ne) };
                if r == 0 {
                    let mut errors = [ErrorCode::NO_ERROR; 10];
                    for (i, x) in ne.iErrorCode.iter().enumerate() {
                        errors[i] = ErrorCode(*x as u32);
                    }
                    Outcome {
                        result: Some(ResultVal::Int(0)),
                        error: Some(ErrorCode::NO_ERROR),
                        events: Some(NetworkEvents(ne.lNetworkEvents as u32)),
                        errors: Some(errors),
                        ok: true,
                        ..Outcome::default()
                    }
                } else {
                    let mut o = Self::created(false);
                    o.events = Some(NetworkEvents::NONE);
                    o.errors = Some([ErrorCode::NO_ERROR; 10]);
                    o
                }
            }
            Action::ResetEvent(ev) => {
                let e = self.event(*ev);
                let ok = unsafe { ws::WSAResetEvent(e) } != 0;
                Self::bool_result(ok, last_wsa())
            }
            Action::SetEvent(ev) => {
                let e = self.event(*ev);
                let ok = unsafe { ws::WSASetEvent(e) } != 0;
                Self::bool_result(ok, last_wsa())
            }
            Action::Wait {
                events,
                all,
                timeout,
                alertable,
            } => {
                let hs: Vec<HANDLE> = events.iter().map(|e| self.event(*e) as HANDLE).collect();
                let (ms, infinite) = capped(*timeout);
                let r = unsafe {
                    ws::WSAWaitForMultipleEvents(
                        hs.len() as u32,
                        if hs.is_empty() { null() } else { hs.as_ptr() },
                        i32::from(*all),
                        ms,
                        i32::from(*alertable),
                    )
                };
                self.wait_outcome(r, infinite, Some(events.len()), false)
            }
            Action::SleepEx { timeout, alertable } => {
                let (ms, infinite) = capped(*timeout);
                let r = unsafe { SleepEx(ms, i32::from(*alertable)) };
                self.wait_outcome(r, infinite, None, true)
            }
            Action::Iocp(p) => {
                let h = unsafe { CreateIoCompletionPort(INVALID_HANDLE_VALUE, null_mut(), 0, 0) };
                let ok = !h.is_null();
                if ok {
                    self.ports[*p] = Some(h);
                }
                Self::bool_result(ok, last_win32())
            }
            Action::Associate { s, port, key } => {
                let ph = self.ports[*port].unwrap_or(null_mut());
                let r = unsafe {
                    CreateIoCompletionPort(self.sock(*s) as HANDLE, ph, *key as usize, 0)
                };
                Self::bool_result(!r.is_null(), last_win32())
            }
            Action::GetQueued { port, timeout } => {
                let ph = self.ports[*port].unwrap_or(null_mut());
                let (ms, infinite) = capped(*timeout);
                let mut bytes = 0u32;
                let mut key = 0usize;
                let mut ov: *mut OVERLAPPED = null_mut();
                let ok =
                    unsafe { GetQueuedCompletionStatus(ph, &mut bytes, &mut key, &mut ov, ms) }
                        != 0;
                let error = if ok {
                    ErrorCode::NO_ERROR
                } else {
                    last_win32()
                };
                let mut o = Outcome {
                    result: Some(ResultVal::Bool(ok)),
                    error: Some(error),
                    bytes: Some(bytes),
                    key: Some(key as u64),
                    overlapped: Some(if ov.is_null() {
                        None
                    } else {
                        Some(self.ov_id(ov as usize).unwrap_or(OverlappedId(0)))
                    }),
                    ok,
                    ..Outcome::default()
                };
                if infinite && !ok && error == ErrorCode::WAIT_TIMEOUT {
                    o.problem = Some(format!(
                        "an INFINITE GetQueuedCompletionStatus did not return within {WAIT_CAP_MS} ms on the real backend"
                    ));
                }
                o
            }
            Action::GetOverlappedResult { s, ov, wait } => {
                let slot = self.ov_slot(*ov);
                if *wait && slot.ov.Internal == NtStatus::STATUS_PENDING.0 as usize {
                    return Outcome {
                        problem: Some(
                            "WSAGetOverlappedResult(fWait = TRUE) on a pending operation would block the real backend".into(),
                        ),
                        ..Outcome::default()
                    };
                }
                let p: *const OVERLAPPED = &*slot.ov;
                let mut bytes = 0u32;
                let mut flags = 0u32;
                let ok = unsafe {
                    ws::WSAGetOverlappedResult(
                        self.sock(*s),
                        p,
                        &mut bytes,
                        i32::from(*wait),
                        &mut flags,
                    )
                } != 0;
                let error = if ok { ErrorCode::NO_ERROR } else { last_wsa() };
                Outcome {
                    result: Some(ResultVal::Bool(ok)),
                    error: Some(error),
                    bytes: Some(bytes),
                    flags: Some(flags),
                    ok,
                    ..Outcome::default()
                }
            }
            Action::OverlappedStatus(ov) => {
                let slot = self.ov_slot(*ov);
                Outcome {
                    internal: Some(NtStatus(slot.ov.Internal as u32)),
                    internal_high: Some(slot.ov.InternalHigh as u64),
                    ok: true,
                    ..Outcome::default()
                }
            }
            Action::Join(_) | Action::Net(_) | Action::Advance(_) => Outcome {
                problem: Some("skipped: model only".into()),
                ..Outcome::default()
            },
        }
    }
}

/// True when the call passes a NULL input or output buffer with a non-zero length.
fn null_with_length(io: &IoctlStep) -> bool {
    matches!(io.input, InSpec::Null(n) if n > 0) || matches!(io.output, OutSpec::Null(n) if n > 0)
}

/// Codes whose NULL buffers Wine 8.0 never dereferences: it tests them for NULL before
/// use (SIO_ROUTING_INTERFACE_QUERY, SIO_ADDRESS_LIST_QUERY), or its WSAIoctl has no
/// case for the code (or only a stub) and never looks at the buffers. Observed to run
/// without a fault under Wine 8.0 on this corpus.
fn wine_checks_null(code: crate::codes::IoctlCode) -> bool {
    use crate::codes::IoctlCode as C;
    [
        C::SIO_ROUTING_INTERFACE_QUERY,
        C::SIO_ADDRESS_LIST_QUERY,
        C::SIO_ADDRESS_LIST_SORT,
        C::SIO_ROUTING_INTERFACE_CHANGE,
        C::SIO_LOOPBACK_FAST_PATH,
        C::SIO_MULTIPOINT_LOOPBACK,
        C::SIO_SET_QOS,
        C::SIO_TCP_INFO,
        C::SIO_UDP_CONNRESET,
        C::SIO_BSP_HANDLE_SELECT,
    ]
    .contains(&code)
}

fn model_only(why: &str) -> Option<Refusal> {
    Some(Refusal::new(format!("model only: {why}")))
}

impl Backend for RealBackend {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn refuse_scenario(&self, sc: &Scenario) -> Option<Refusal> {
        if !sc.backends.iter().any(|b| b == "winsock") {
            return model_only(&format!("backends: [{}]", sc.backends.join(", ")));
        }
        if sc.config.privileged {
            return model_only("the scenario needs administrator rights (privileged: true)");
        }
        if sc.config.pointer_size != PointerSize::Bits64 {
            return model_only("the scenario lays outputs out for a 32-bit process");
        }
        None
    }

    fn refuse(&self, sc: &Scenario, step: &Step) -> Option<Refusal> {
        if step.thread != 0 {
            return model_only(&format!(
                "the step runs on thread `{}`; the real backend runs every call on one thread",
                sc.names.threads[step.thread]
            ));
        }
        if matches!(&step.expect, Expect::Check(c) if c.blocks) {
            return model_only("the step expects its call to block");
        }
        match &step.action {
            Action::Join(_) => model_only("join waits for a blocked thread"),
            Action::Net(_) => model_only("host changes are not made on a real host"),
            Action::Advance(_) => model_only("virtual time does not pass on a real host"),
            Action::Connect {
                to: Target::Addr(a),
                ..
            } if !allowed_destination(a.ip()) => Some(Refusal::new(format!(
                "the real backend connects only to loopback, not {a}"
            ))),
            Action::Ioctl(io) => match io.output {
                OutSpec::Capacity(n) if n > MAX_OUT => Some(Refusal::new(format!(
                    "out_len {n} is more than the real backend allocates ({MAX_OUT} bytes)"
                ))),
                _ if self.is_wine() && null_with_length(io) && !wine_checks_null(io.code) => Some(Refusal::new(format!(
                    "Wine 8.0's WSAIoctl reads or writes some NULL buffers that come with a length without checking them (page faults seen for SIO_BASE_HANDLE and SIO_GET_EXTENSION_FUNCTION_POINTER), which would end the whole run; {} is not called with one",
                    io.code
                ))),
                _ => None,
            },
            Action::IoctlSocket { arg: None, .. } if self.is_wine() => Some(Refusal::new(
                "Wine dereferences an invalid argp without a guard; the call would end the whole run",
            )),
            Action::AsyncSelect { .. } => {
                let state = match self.window_ok.get() {
                    Some(s) => s,
                    None => {
                        let s = RealBackend::new_window().map(|w| unsafe {
                            DestroyWindow(w);
                        });
                        self.window_ok.set(Some(s));
                        s
                    }
                };
                state.err().map(|e| {
                    Refusal::new(format!(
                        "WSAAsyncSelect needs a window and this session cannot create a message-only window (CreateWindowExW failed with {e})"
                    ))
                })
            }
            _ => None,
        }
    }

    fn exec(&mut self, _thread: usize, action: &Action) -> Outcome {
        self.perform(action)
    }

    fn is_blocked(&self, _thread: usize) -> bool {
        false
    }

    fn clock(&self) -> String {
        "real".into()
    }

    fn pointer_size(&self) -> PointerSize {
        PointerSize::Bits64
    }

    fn socket_value(&self, name: usize) -> Option<u64> {
        self.sockets.get(name).copied().flatten().map(|h| h as u64)
    }

    fn socket_values(&self) -> Vec<(usize, u64)> {
        self.history.clone()
    }

    fn finish(&mut self) {
        for s in std::mem::take(&mut self.open) {
            unsafe { ws::closesocket(s) };
        }
        // Closing cancels pending operations; their completion routines run here, while
        // the OVERLAPPED records and buffers are still alive.
        unsafe { SleepEx(0, 1) };
        APCS.with(|a| a.borrow_mut().clear());
        for e in self.events.iter_mut().filter_map(Option::take) {
            unsafe { ws::WSACloseEvent(e) };
        }
        for p in self.ports.iter_mut().filter_map(Option::take) {
            unsafe { CloseHandle(p) };
        }
        for w in self.windows.iter_mut().filter_map(Option::take) {
            if !w.is_null() {
                unsafe { DestroyWindow(w) };
            }
        }
        self.keep.clear();
        for s in self.overlapped.iter_mut() {
            *s = None;
        }
    }
}

impl Drop for RealBackend {
    fn drop(&mut self) {
        self.finish();
    }
}
