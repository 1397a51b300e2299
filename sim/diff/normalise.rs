//! Normalisation: an [`Outcome`] as a list of `(field, text)` pairs in which only what
//! cannot match between two machines is replaced (see `docs/differential.md`,
//! "Normalisations"):
//!
//! 1. Socket handle values in outputs (SIO_BASE_HANDLE, SIO_BSP_HANDLE,
//!    SIO_BSP_HANDLE_SELECT, SIO_BSP_HANDLE_POLL, SIO_TRANSLATE_HANDLE): a value equal
//!    to a handle the backend gave a scenario socket is printed as that socket's name;
//!    any other value is printed as is.
//! 2. Function pointer values (SIO_GET_EXTENSION_FUNCTION_POINTER): printed as
//!    `pointer null` or `pointer non-null`.
//! 3. Buffer addresses inside outputs (the `lpSockaddr` pointers of a
//!    SOCKET_ADDRESS_LIST) are rebased by the real backend to the model's buffer
//!    address before the outcome is returned, so they compare as offsets.
//! 4. Completion routines a step expects as `apcs_unordered` (Windows does not define
//!    their order) are compared as sorted lists.
//! 5. Ephemeral ports: a port in a SOCKADDR output that lies in the dynamic range
//!    (49152..=65535) is printed as `ephemeral` on both sides.
//! 6. Handle or pointer fragments: when one of the codes of 1. or 2. writes fewer bytes
//!    than a pointer (an implementation that stores a whole value into a short buffer),
//!    the bytes print as `socket NAME (first N bytes)` when they are the start of a
//!    scenario socket's handle, else `handle fragment (N bytes)` or
//!    `pointer fragment (N bytes)`.
//!
//! Everything else is compared byte for byte: the output buffer is printed as the hex
//! of its bytes up to the last one that is not the 0xCC fill, then the count of fill
//! bytes after it, on both sides alike.

use crate::backend::Outcome;
use crate::codes::IoctlCode;
use crate::errors::ErrorCode;
use crate::model::OverlappedId;
use crate::scenario::encode::hex;
use crate::scenario::run::{br_text, err_text, events_text};
use crate::scenario::{Action, Scenario};
use crate::wire::PointerSize;

/// The first ephemeral port (IANA dynamic range, Windows' default since Vista).
pub const EPHEMERAL_FIRST: u16 = 49152;

/// Codes whose output starts with a SOCKET handle.
const HANDLE_OUT: [IoctlCode; 5] = [
    IoctlCode::SIO_BASE_HANDLE,
    IoctlCode::SIO_BSP_HANDLE,
    IoctlCode::SIO_BSP_HANDLE_SELECT,
    IoctlCode::SIO_BSP_HANDLE_POLL,
    IoctlCode::SIO_TRANSLATE_HANDLE,
];

/// Codes whose output is one SOCKADDR.
const SOCKADDR_OUT: [IoctlCode; 2] = [
    IoctlCode::SIO_ROUTING_INTERFACE_QUERY,
    IoctlCode::SIO_GET_BROADCAST_ADDRESS,
];

/// What a backend knows that normalisation needs.
pub struct View<'a> {
    /// The scenario (for names).
    pub sc: &'a Scenario,
    /// The backend's pointer size.
    pub ptr: PointerSize,
    /// Every handle the backend gave a socket name: (name index, value).
    pub sockets: &'a [(usize, u64)],
    /// The step expects its completion routines with `apcs_unordered`: Windows does
    /// not define their order, so both lists are compared sorted.
    pub apcs_unordered: bool,
}

fn ptr_len(ptr: PointerSize) -> usize {
    match ptr {
        PointerSize::Bits64 => 8,
        PointerSize::Bits32 => 4,
    }
}

fn read_ptr(b: &[u8], ptr: PointerSize) -> u64 {
    let mut v = [0u8; 8];
    let n = ptr_len(ptr).min(b.len());
    v[..n].copy_from_slice(&b[..n]);
    u64::from_le_bytes(v)
}

/// The number of leading bytes that are not the trailing 0xCC fill.
pub fn written_len(buf: &[u8]) -> usize {
    buf.iter().rposition(|&b| b != 0xCC).map_or(0, |p| p + 1)
}

/// The output buffer as compared text.
pub fn out_text(buf: &[u8], code: Option<IoctlCode>, view: &View) -> String {
    let n = written_len(buf);
    let fill = buf.len() - n;
    let mut body = buf[..n].to_vec();
    let mut head = String::new();
    let p = ptr_len(view.ptr);
    if let Some(code) = code {
        if HANDLE_OUT.contains(&code) && n > 0 && n < p {
            let frag = &body[..n];
            let name = view
                .sockets
                .iter()
                .rev()
                .find(|(_, h)| h.to_le_bytes()[..n] == *frag)
                .map(|(i, _)| view.sc.names.sockets[*i].clone());
            head = match name {
                Some(name) => format!("socket {name} (first {n} bytes) "),
                None => format!("handle fragment ({n} bytes) "),
            };
            body.clear();
        } else if code == IoctlCode::SIO_GET_EXTENSION_FUNCTION_POINTER && n > 0 && n < p {
            head = format!("pointer fragment ({n} bytes) ");
            body.clear();
        } else if HANDLE_OUT.contains(&code) && n >= p {
            let v = read_ptr(&body, view.ptr);
            let name = view
                .sockets
                .iter()
                .rev()
                .find(|(_, h)| *h == v)
                .map(|(i, _)| view.sc.names.sockets[*i].clone());
            head = match name {
                Some(name) => format!("socket {name} "),
                None => format!("handle 0x{v:X} "),
            };
            body.drain(..p);
        } else if code == IoctlCode::SIO_GET_EXTENSION_FUNCTION_POINTER && n >= p {
            let v = read_ptr(&body, view.ptr);
            head = if v == 0 {
                "pointer null ".into()
            } else {
                "pointer non-null ".into()
            };
            body.drain(..p);
        } else if SOCKADDR_OUT.contains(&code) && n >= 4 {
            // SOCKADDR_IN and SOCKADDR_IN6 both keep the port at bytes 2..4, big-endian.
            let port = u16::from_be_bytes([body[2], body[3]]);
            if port >= EPHEMERAL_FIRST {
                head = "(port ephemeral) ".into();
                body[2] = 0;
                body[3] = 0;
            }
        }
    }
    let mut s = format!("{head}{}", hex(&body)).trim_end().to_string();
    if fill > 0 {
        if s.is_empty() {
            s = format!("{fill} bytes 0xCC");
        } else {
            s.push_str(&format!(" +{fill}x CC"));
        }
    }
    if s.is_empty() {
        s = "empty".into();
    }
    s
}

fn ov_name(sc: &Scenario, o: OverlappedId) -> String {
    sc.names
        .overlapped_name(o)
        .map_or_else(|| o.to_string(), str::to_string)
}

/// The outcome as `(field, text)` pairs, normalised, in a fixed order.
pub fn fields(o: &Outcome, action: &Action, view: &View) -> Vec<(&'static str, String)> {
    let sc = view.sc;
    let mut v: Vec<(&'static str, String)> = Vec::new();
    if o.blocked {
        v.push(("blocked", "true".into()));
        return v;
    }
    if let Some(p) = &o.problem {
        v.push(("problem", p.clone()));
    }
    if let Some(r) = o.result {
        // A BOOL and an int compare by value.
        let n = match r {
            crate::scenario::ResultVal::Int(n) => n,
            crate::scenario::ResultVal::Bool(b) => i64::from(b),
        };
        v.push(("result", n.to_string()));
    }
    if let Some(e) = o.error {
        v.push(("error", err_text(e)));
    }
    if let Some(b) = o.bytes_returned {
        v.push(("bytes_returned", br_text(b)));
    }
    if let Some(buf) = &o.out {
        let code = match action {
            Action::Ioctl(io) => Some(io.code),
            _ => None,
        };
        v.push(("out", out_text(buf, code, view)));
    }
    if let Some(d) = &o.data {
        v.push(("data", hex(d)));
    }
    if let Some(a) = o.arg {
        v.push(("arg", a.to_string()));
    }
    if let Some(e) = o.events {
        v.push(("events", events_text(e)));
    }
    if let Some(errs) = &o.errors {
        let list: Vec<String> = errs
            .iter()
            .enumerate()
            .filter(|(_, e)| **e != ErrorCode::NO_ERROR)
            .map(|(i, e)| {
                format!(
                    "{}: {}",
                    crate::model::socket::NetworkEvents::NAMED[i].0,
                    err_text(*e)
                )
            })
            .collect();
        v.push(("errors", format!("[{}]", list.join(", "))));
    }
    if let Some(s) = o.signaled {
        let text = match (s, action) {
            (Some(i), Action::Wait { events, .. }) => events
                .get(i)
                .map_or(format!("index {i}"), |e| sc.names.events[*e].clone()),
            (Some(i), _) => format!("index {i}"),
            (None, _) => "none".into(),
        };
        v.push(("signaled", text));
    }
    if let Some(apcs) = &o.apcs {
        let mut items: Vec<String> = apcs
            .iter()
            .map(|g| {
                format!(
                    "{}({}, {}, {}, {})",
                    sc.names.routine_name(g.routine).unwrap_or("?"),
                    err_text(g.error),
                    g.bytes,
                    ov_name(sc, g.overlapped),
                    g.flags
                )
            })
            .collect();
        if view.apcs_unordered {
            items.sort();
        }
        v.push(("apcs", format!("[{}]", items.join(", "))));
    }
    if let Some(b) = o.bytes {
        v.push(("bytes", b.to_string()));
    }
    if let Some(k) = o.key {
        v.push(("key", k.to_string()));
    }
    if let Some(ov) = o.overlapped {
        v.push(("overlapped", ov.map_or("null".into(), |x| ov_name(sc, x))));
    }
    if let Some(f) = o.flags {
        v.push(("flags", f.to_string()));
    }
    if let Some(i) = o.internal {
        v.push(("internal", i.to_string()));
    }
    if let Some(h) = o.internal_high {
        v.push(("internal_high", h.to_string()));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parse_scenario;

    fn sc() -> Scenario {
        parse_scenario("t.yaml", "name: x\nsteps:\n  - socket: a\n  - socket: b\n").unwrap()
    }

    fn view<'a>(sc: &'a Scenario, sockets: &'a [(usize, u64)]) -> View<'a> {
        View {
            sc,
            ptr: PointerSize::Bits64,
            sockets,
            apcs_unordered: false,
        }
    }

    #[test]
    fn a_handle_in_a_base_handle_output_is_printed_as_the_socket_name() {
        let sc = sc();
        let model = [(0, 0x10u64), (1, 0x14)];
        let real = [(0, 0x1A4u64), (1, 0x1B0)];
        let mut m = 0x14u64.to_le_bytes().to_vec();
        m.extend([0xCC; 8]);
        let mut r = 0x1B0u64.to_le_bytes().to_vec();
        r.extend([0xCC; 8]);
        let code = Some(IoctlCode::SIO_BASE_HANDLE);
        let a = out_text(&m, code, &view(&sc, &model));
        let b = out_text(&r, code, &view(&sc, &real));
        assert_eq!(a, b);
        assert!(a.starts_with("socket b"), "{a}");
    }

    #[test]
    fn a_handle_of_another_socket_still_differs() {
        let sc = sc();
        let model = [(0, 0x10u64), (1, 0x14)];
        let real = [(0, 0x1A4u64), (1, 0x1B0)];
        let code = Some(IoctlCode::SIO_BASE_HANDLE);
        let a = out_text(&0x14u64.to_le_bytes(), code, &view(&sc, &model));
        let b = out_text(&0x1A4u64.to_le_bytes(), code, &view(&sc, &real));
        assert_ne!(a, b);
    }

    #[test]
    fn a_handle_cut_short_by_a_small_buffer_prints_as_a_fragment_of_that_socket() {
        let sc = sc();
        let real = [(0, 0x58u64), (1, 0x5Cu64)];
        let code = Some(IoctlCode::SIO_BASE_HANDLE);
        let a = out_text(&[0x5C, 0, 0, 0], code, &view(&sc, &real));
        assert_eq!(a, "socket b (first 4 bytes)");
        let b = out_text(&[0x77, 0, 0, 0], code, &view(&sc, &real));
        assert_eq!(b, "handle fragment (4 bytes)");
        let untouched = out_text(&[0xCC; 4], code, &view(&sc, &real));
        assert_eq!(untouched, "4 bytes 0xCC");
    }

    #[test]
    fn a_pointer_cut_short_by_a_small_buffer_prints_as_a_fragment() {
        let sc = sc();
        let code = Some(IoctlCode::SIO_GET_EXTENSION_FUNCTION_POINTER);
        let a = out_text(&[0xF0, 0xBC, 0xF7, 0x70], code, &view(&sc, &[]));
        assert_eq!(a, "pointer fragment (4 bytes)");
    }

    #[test]
    fn function_pointers_compare_only_as_null_or_not() {
        let sc = sc();
        let code = Some(IoctlCode::SIO_GET_EXTENSION_FUNCTION_POINTER);
        let a = out_text(&0x7FF0_1234u64.to_le_bytes(), code, &view(&sc, &[]));
        let b = out_text(&0x1_0000_0040u64.to_le_bytes(), code, &view(&sc, &[]));
        let z = out_text(&0u64.to_le_bytes(), code, &view(&sc, &[]));
        assert_eq!(a, b);
        assert_ne!(a, z);
    }

    #[test]
    fn other_outputs_compare_byte_for_byte_including_the_fill() {
        let sc = sc();
        let code = Some(IoctlCode::FIONREAD);
        let a = out_text(&[4, 0, 0, 0, 0xCC, 0xCC], code, &view(&sc, &[]));
        assert_eq!(a, "04000000 +2x CC");
        let b = out_text(&[0xCC; 4], code, &view(&sc, &[]));
        assert_eq!(b, "4 bytes 0xCC");
        assert_ne!(
            a,
            out_text(&[5, 0, 0, 0, 0xCC, 0xCC], code, &view(&sc, &[]))
        );
    }

    #[test]
    fn an_ephemeral_port_in_a_sockaddr_output_is_normalised_but_a_fixed_one_is_not() {
        let sc = sc();
        let code = Some(IoctlCode::SIO_ROUTING_INTERFACE_QUERY);
        let sa = |port: u16| {
            let mut b = vec![2, 0];
            b.extend(port.to_be_bytes());
            b.extend([127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
            b
        };
        let v = view(&sc, &[]);
        assert_eq!(
            out_text(&sa(50000), code, &v),
            out_text(&sa(61000), code, &v)
        );
        assert_ne!(out_text(&sa(80), code, &v), out_text(&sa(81), code, &v));
    }
}
