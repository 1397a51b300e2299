//! The byte side of scenarios: `in` forms become input bytes, `expect.out` forms are
//! checked against what the call wrote.

use std::net::{IpAddr, SocketAddr};

use serde_yaml::Value;

use crate::ioctl::OUT_BUFFER_BASE;
use crate::wire::address_list::SocketAddressList;
use crate::wire::guid::{extension_guid, Guid, EXTENSION_FUNCTIONS};
use crate::wire::interface_info::{
    InterfaceInfo, IFF_BROADCAST, IFF_LOOPBACK, IFF_MULTICAST, IFF_POINTTOPOINT, IFF_UP,
};
use crate::wire::keepalive::TcpKeepalive;
use crate::wire::sockaddr::{emit_sockaddr, parse_sockaddr};
use crate::wire::PointerSize;

/// The input buffer of a WSAIoctl step.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum InSpec {
    /// A NULL pointer with this length.
    Null(u32),
    /// These bytes (their length is `cbInBuffer`).
    Bytes(Vec<u8>),
}

/// An expected output form.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum OutForm {
    /// The first 4 bytes as a little-endian u32.
    U32(u32),
    /// The first 4 bytes as a BOOL.
    Bool(bool),
    /// The first bytes, exactly.
    Hex(Vec<u8>),
    /// A SOCKADDR_IN/IN6; `None` port ignores the port.
    Sockaddr(IpAddr, Option<u16>),
    /// A SOCKET_ADDRESS_LIST: each address, with its port when given.
    AddressList(Vec<(IpAddr, Option<u16>)>),
    /// INTERFACE_INFO entries.
    InterfaceList(Vec<IfEntry>),
    /// A SOCKET equal to a named socket's handle.
    Handle(usize),
    /// A non-null pointer-sized value.
    Nonzero,
}

/// An expected INTERFACE_INFO entry; unset fields are not checked.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct IfEntry {
    /// iiAddress.
    pub address: Option<IpAddr>,
    /// iiNetmask.
    pub netmask: Option<IpAddr>,
    /// iiBroadcastAddress.
    pub broadcast: Option<IpAddr>,
    /// iiFlags (IFF_*).
    pub flags: Option<u32>,
}

/// The IFF_* flag names the interface_list form accepts.
pub const IFF_NAMES: &[(&str, u32)] = &[
    ("up", IFF_UP),
    ("broadcast", IFF_BROADCAST),
    ("loopback", IFF_LOOPBACK),
    ("pointtopoint", IFF_POINTTOPOINT),
    ("multicast", IFF_MULTICAST),
];

/// Parses hex text (spaces allowed between bytes).
pub fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.len() % 2 != 0 {
        return Err(format!("hex text \"{s}\" has an odd number of digits"));
    }
    digits
        .chunks(2)
        .map(|p| {
            std::str::from_utf8(p)
                .ok()
                .and_then(|t| u8::from_str_radix(t, 16).ok())
                .ok_or_else(|| format!("\"{s}\" is not hex text (expected digits 0-9, a-f)"))
        })
        .collect()
}

/// Parses `ip:port` / `[v6]:port`, or with `*` as the port when `wild` is set.
pub fn parse_sockaddr_text(s: &str, wild: bool) -> Result<(IpAddr, Option<u16>), String> {
    let t = s.trim();
    if let Ok(a) = t.parse::<SocketAddr>() {
        return Ok((a.ip(), Some(a.port())));
    }
    if wild {
        if let Some(host) = t.strip_suffix(":*") {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            if let Ok(ip) = host.parse::<IpAddr>() {
                return Ok((ip, None));
            }
        }
    }
    Err(format!(
        "\"{s}\" is not a socket address (expected \"a.b.c.d:port\" or \"[v6]:port\"{})",
        if wild { ", port may be *" } else { "" }
    ))
}

fn u32_of(v: &Value, what: &str) -> Result<u32, String> {
    v.as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| format!("{what} must be a number from 0 to 4294967295"))
}

/// Encodes an `in` form. `Ok(None)` is `null`.
pub fn encode_in(v: &Value) -> Result<Option<Vec<u8>>, String> {
    const FORMS: &str = "null, { u32 }, { hex }, { zeros }, { sockaddr }, { keepalive }, { guid }";
    let map = match v {
        Value::Null => return Ok(None),
        Value::Mapping(m) if m.len() == 1 => m,
        _ => return Err(format!("`in` must be one of: {FORMS}")),
    };
    let (k, val) = map.iter().next().expect("one entry");
    let key = k.as_str().unwrap_or("");
    let mut out = Vec::new();
    match key {
        "u32" => out.extend_from_slice(&u32_of(val, "u32")?.to_le_bytes()),
        "hex" => out = parse_hex(val.as_str().ok_or("hex must be a string of hex digits")?)?,
        "zeros" => {
            let n = u32_of(val, "zeros")?;
            if n > 1 << 20 {
                return Err("zeros is limited to 1048576 bytes".into());
            }
            out.resize(n as usize, 0);
        }
        "sockaddr" => {
            let text = val
                .as_str()
                .ok_or("sockaddr must be a string such as \"127.0.0.1:0\"")?;
            let (ip, port) = parse_sockaddr_text(text, false)?;
            emit_sockaddr(&SocketAddr::new(ip, port.unwrap_or(0)), &mut out);
        }
        "keepalive" => {
            let m = val
                .as_mapping()
                .ok_or("keepalive must be a map { onoff, time, interval }")?;
            let mut ka = TcpKeepalive {
                onoff: 0,
                time: 0,
                interval: 0,
            };
            for (k, v) in m {
                match k.as_str().unwrap_or("") {
                    "onoff" => ka.onoff = u32_of(v, "onoff")?,
                    "time" => ka.time = u32_of(v, "time")?,
                    "interval" => ka.interval = u32_of(v, "interval")?,
                    other => {
                        return Err(format!(
                            "unknown keepalive field `{other}` (expected onoff, time, interval)"
                        ))
                    }
                }
            }
            ka.emit(&mut out);
        }
        "guid" => {
            let text = val
                .as_str()
                .ok_or("guid must be a name or \"{...}\" text")?;
            let g = if text.starts_with('{') {
                text.parse::<Guid>().map_err(|_| {
                    format!("\"{text}\" is not GUID text (expected {{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}})")
                })?
            } else {
                extension_guid(text).ok_or_else(|| {
                    let names: Vec<&str> = EXTENSION_FUNCTIONS.iter().map(|e| e.0).collect();
                    format!(
                        "unknown GUID name `{text}` (expected {} or {{...}} text)",
                        names.join(", ")
                    )
                })?
            };
            g.emit(&mut out);
        }
        other => return Err(format!("unknown `in` form `{other}` (expected {FORMS})")),
    }
    Ok(Some(out))
}

/// A short rendering of bytes as hex.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn flags_text(flags: u32) -> String {
    let names: Vec<&str> = IFF_NAMES
        .iter()
        .filter(|(_, f)| flags & f != 0)
        .map(|(n, _)| *n)
        .collect();
    format!("[{}]", names.join(", "))
}

/// Checks an output form against the caller's buffer as it is after the call (`buf`:
/// written bytes followed by the 0xCC fill). `handle` gives a named socket's handle.
/// On a mismatch returns (expected, actual) texts.
pub fn check_out(
    form: &OutForm,
    buf: &[u8],
    ptr: PointerSize,
    handle: impl Fn(usize) -> Option<u64>,
    name: impl Fn(usize) -> String,
) -> Result<(), (String, String)> {
    let first = |n: usize| buf.get(..n);
    let u32_at = || first(4).map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")));
    let show_u32 = |v: Option<u32>| match v {
        Some(v) => v.to_string(),
        None => format!("only {} bytes: {}", buf.len(), hex(buf)),
    };
    match form {
        OutForm::U32(n) => {
            let a = u32_at();
            (a == Some(*n))
                .then_some(())
                .ok_or((format!("u32 {n}"), format!("u32 {}", show_u32(a))))
        }
        OutForm::Bool(b) => {
            let a = u32_at();
            let ok = match a {
                Some(v) => (v != 0) == *b,
                None => false,
            };
            ok.then_some(()).ok_or((
                format!("bool {b}"),
                match a {
                    Some(v) => format!("bool {} ({v})", v != 0),
                    None => show_u32(a),
                },
            ))
        }
        OutForm::Hex(h) => {
            let a = buf.get(..h.len());
            (a == Some(h.as_slice())).then_some(()).ok_or((
                format!("hex {}", hex(h)),
                format!("hex {}", hex(&buf[..h.len().min(buf.len())])),
            ))
        }
        OutForm::Sockaddr(ip, port) => {
            let exp = match port {
                Some(p) => SocketAddr::new(*ip, *p).to_string(),
                None => format!(
                    "{}:*",
                    SocketAddr::new(*ip, 0)
                        .to_string()
                        .rsplit_once(':')
                        .map(|x| x.0)
                        .unwrap_or("")
                ),
            };
            match parse_sockaddr(buf) {
                Ok(a) if a.ip() == *ip && port.is_none_or(|p| p == a.port()) => Ok(()),
                Ok(a) => Err((format!("sockaddr {exp}"), format!("sockaddr {a}"))),
                Err(e) => Err((format!("sockaddr {exp}"), format!("no sockaddr ({e})"))),
            }
        }
        OutForm::AddressList(list) => {
            let exp = format!(
                "address_list [{}]",
                list.iter()
                    .map(|(ip, p)| match p {
                        Some(p) => SocketAddr::new(*ip, *p).to_string(),
                        None => ip.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            match SocketAddressList::parse(buf, OUT_BUFFER_BASE, ptr) {
                Ok(l) => {
                    let ok = l.addresses.len() == list.len()
                        && l.addresses
                            .iter()
                            .zip(list)
                            .all(|(a, (ip, p))| a.ip() == *ip && p.is_none_or(|p| p == a.port()));
                    let act = format!(
                        "address_list [{}]",
                        l.addresses
                            .iter()
                            .map(|a| if a.port() == 0 {
                                a.ip().to_string()
                            } else {
                                a.to_string()
                            })
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    ok.then_some(()).ok_or((exp, act))
                }
                Err(e) => Err((exp, format!("no valid SOCKET_ADDRESS_LIST ({e})"))),
            }
        }
        OutForm::InterfaceList(list) => {
            let mut entries = Vec::new();
            let mut rest = buf;
            while entries.len() < list.len() + 1 && rest.len() >= InterfaceInfo::LEN {
                match InterfaceInfo::parse(rest) {
                    Ok(e) => entries.push(e),
                    Err(_) => break,
                }
                rest = &rest[InterfaceInfo::LEN..];
            }
            let show_exp = list
                .iter()
                .map(|e| {
                    format!(
                        "{{ address: {}, netmask: {}, broadcast: {}, flags: {} }}",
                        e.address.map_or("*".into(), |a| a.to_string()),
                        e.netmask.map_or("*".into(), |a| a.to_string()),
                        e.broadcast.map_or("*".into(), |a| a.to_string()),
                        e.flags.map_or("*".into(), flags_text)
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            let show_act = entries
                .iter()
                .take(list.len() + 1)
                .map(|e| {
                    format!(
                        "{{ address: {}, netmask: {}, broadcast: {}, flags: {} }}",
                        e.address.ip(),
                        e.netmask.ip(),
                        e.broadcast.ip(),
                        flags_text(e.flags)
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            // The list is as long as the expectation: entries past it would be 0xCC
            // fill or a longer list, which the byte count in bytes_returned checks.
            let ok = entries.len() >= list.len()
                && entries.iter().zip(list).all(|(a, e)| {
                    e.address.is_none_or(|x| x == a.address.ip())
                        && e.netmask.is_none_or(|x| x == a.netmask.ip())
                        && e.broadcast.is_none_or(|x| x == a.broadcast.ip())
                        && e.flags.is_none_or(|x| x == a.flags)
                });
            ok.then_some(()).ok_or((
                format!("interface_list [{show_exp}]"),
                format!("interface_list [{show_act}]"),
            ))
        }
        OutForm::Handle(s) => {
            let n = ptr.bytes();
            let a = first(n).map(|b| {
                let mut v = [0u8; 8];
                v[..n].copy_from_slice(b);
                u64::from_le_bytes(v)
            });
            let want = handle(*s);
            match (a, want) {
                (Some(a), Some(w)) if a == w => Ok(()),
                (a, _) => Err((
                    format!("handle of {}", name(*s)),
                    match a {
                        Some(a) => format!("0x{a:X}"),
                        None => format!("only {} bytes", buf.len()),
                    },
                )),
            }
        }
        OutForm::Nonzero => {
            let n = ptr.bytes();
            match first(n) {
                Some(b) if b.iter().any(|&x| x != 0) && !b.iter().all(|&x| x == 0xCC) => Ok(()),
                Some(b) => Err(("a non-null value".into(), hex(b))),
                None => Err((
                    "a non-null value".into(),
                    format!("only {} bytes", buf.len()),
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(src: &str) -> Result<Option<Vec<u8>>, String> {
        encode_in(&serde_yaml::from_str::<Value>(src).unwrap())
    }

    #[test]
    fn u32_encodes_little_endian() {
        assert_eq!(enc("{ u32: 1 }").unwrap(), Some(vec![1, 0, 0, 0]));
    }

    #[test]
    fn a_sockaddr_in6_is_28_bytes() {
        assert_eq!(enc("{ sockaddr: \"[::1]:0\" }").unwrap().unwrap().len(), 28);
        assert_eq!(
            enc("{ sockaddr: \"127.0.0.1:0\" }").unwrap().unwrap().len(),
            16
        );
    }

    #[test]
    fn keepalive_is_twelve_bytes_in_field_order() {
        let b = enc("{ keepalive: { onoff: 1, time: 1000, interval: 100 } }")
            .unwrap()
            .unwrap();
        assert_eq!(b, [1, 0, 0, 0, 0xe8, 3, 0, 0, 100, 0, 0, 0]);
    }

    #[test]
    fn an_unknown_guid_name_is_refused_with_the_list() {
        let e = enc("{ guid: ACCEPTX }").unwrap_err();
        assert!(e.contains("unknown GUID name `ACCEPTX`"), "{e}");
    }

    #[test]
    fn odd_hex_is_refused() {
        assert!(enc("{ hex: \"012\" }").is_err());
    }

    #[test]
    fn a_wildcard_port_matches_any_port() {
        let mut b = Vec::new();
        emit_sockaddr(&"192.168.1.10:5000".parse().unwrap(), &mut b);
        let f = OutForm::Sockaddr("192.168.1.10".parse().unwrap(), None);
        assert!(check_out(&f, &b, PointerSize::Bits64, |_| None, |_| String::new()).is_ok());
    }
}
