//! YAML text to a typed [`Scenario`]. The file is parsed once with serde_yaml into a
//! `Value`, then walked; every error names the file, line and column (through
//! [`Locator`]) and says what was expected. Names are resolved here, so a name used
//! before it exists, an unknown key, code, error or GUID name all stop the file before
//! anything runs.

use std::net::{IpAddr, SocketAddr};

use serde_yaml::{Mapping, Value};

use super::encode::{
    encode_in, parse_hex, parse_sockaddr_text, IfEntry, InSpec, OutForm, IFF_NAMES,
};
use super::locate::{Locator, Pos, Seg};
use super::{
    Action, ApcExp, Checks, Expect, IoctlStep, NameKind, Names, OutSpec, ResultVal, Scenario,
    ScenarioError, Step, Target,
};
use crate::codes::IoctlCode;
use crate::errors::{ErrorCode, NtStatus};
use crate::model::net::{IfAddress, Interface, InterfaceKind, Prefix, Route};
use crate::model::socket::{protocol, NetworkEvents};
use crate::model::{AddressFamily, ChangeNotify, HostConfig, Network, SocketType};
use crate::outcome::BytesReturned;
use crate::time::Timeout;
use crate::winsock::{MsgFlags, NetChange};
use crate::wire::PointerSize;

use Seg::{Index as I, Key as K};

const TOP_KEYS: &[&str] = &[
    "name",
    "about",
    "evidence",
    "seed",
    "provider",
    "host",
    "backends",
    "steps",
    "privileged",
    "allow_blocked_at_end",
];

const ACTIONS: &[&str] = &[
    "socket",
    "pair",
    "bind",
    "listen",
    "connect",
    "accept",
    "send",
    "recv",
    "setsockopt",
    "close",
    "ioctl",
    "ioctlsocket",
    "event_select",
    "async_select",
    "enum_network_events",
    "reset_event",
    "set_event",
    "wait",
    "sleep_ex",
    "iocp",
    "associate",
    "get_queued",
    "get_overlapped_result",
    "overlapped_status",
    "join",
    "net",
    "advance",
];

fn params(action: &str) -> &'static [&'static str] {
    match action {
        "socket" => &["af", "type", "protocol", "overlapped"],
        "pair" => &["af", "type"],
        "bind" => &["addr"],
        "connect" => &["to"],
        "accept" => &["as"],
        "send" => &["data", "hex", "bytes", "flags"],
        "recv" => &["len", "flags"],
        "setsockopt" => &["option", "value"],
        "ioctl" => &[
            "code",
            "in",
            "in_len",
            "out_len",
            "out",
            "bytes_returned",
            "overlapped",
            "event",
            "completion",
        ],
        "ioctlsocket" => &["cmd", "arg"],
        "event_select" => &["event", "events"],
        "async_select" => &["window", "message", "events"],
        "enum_network_events" => &["event"],
        "wait" => &["all", "timeout", "alertable"],
        "sleep_ex" => &["alertable"],
        "associate" => &["port", "key"],
        "get_queued" => &["timeout"],
        "get_overlapped_result" => &["overlapped", "wait"],
        _ => &[],
    }
}

const BLOCKING: &[&str] = &[
    "ioctl",
    "wait",
    "sleep_ex",
    "get_queued",
    "get_overlapped_result",
];

fn expect_keys(action: &str) -> &'static [&'static str] {
    match action {
        "ioctl" => &[
            "result",
            "error",
            "bytes_returned",
            "out",
            "out_untouched",
            "pending",
            "blocks",
        ],
        "ioctlsocket" => &["result", "error", "arg"],
        "recv" => &["result", "error", "data"],
        "enum_network_events" => &["result", "error", "events", "errors"],
        "wait" | "sleep_ex" => &[
            "result",
            "error",
            "signaled",
            "apcs",
            "apcs_unordered",
            "blocks",
        ],
        "get_queued" => &["result", "error", "bytes", "key", "overlapped", "blocks"],
        "get_overlapped_result" => &["result", "error", "bytes", "flags", "blocks"],
        "overlapped_status" => &["internal", "internal_high"],
        "join" => &[
            "result",
            "error",
            "bytes_returned",
            "out",
            "out_untouched",
            "pending",
            "signaled",
            "apcs",
            "apcs_unordered",
            "bytes",
            "key",
            "overlapped",
            "flags",
        ],
        _ => &["result", "error"],
    }
}

/// Edit distance, for "did you mean" hints.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

fn hint(word: &str, choices: &[&str]) -> String {
    let best = choices
        .iter()
        .map(|c| (distance(word, c), *c))
        .min()
        .filter(|(d, _)| *d <= 2);
    match best {
        Some((_, c)) => format!("did you mean `{c}`? "),
        None => String::new(),
    }
}

fn kind_word(kind: NameKind) -> &'static str {
    match kind {
        NameKind::Socket => "socket",
        NameKind::Event => "event",
        NameKind::Overlapped => "overlapped record",
        NameKind::Routine => "completion routine",
        NameKind::Port => "completion port",
        NameKind::Thread => "thread",
        NameKind::Window => "window",
    }
}

fn valid_name(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a map",
        Value::Tagged(_) => "a tagged value",
    }
}

/// Text of a scalar (numbers and booleans as written).
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

struct Parser<'s> {
    file: String,
    loc: Locator<'s>,
    names: Names,
}

type R<T> = Result<T, ScenarioError>;

impl<'s> Parser<'s> {
    fn err(&self, pos: Pos, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            file: self.file.clone(),
            line: pos.line.max(1),
            column: pos.col.max(1),
            message: message.into(),
        }
    }

    fn check_keys(&self, m: &Mapping, allowed: &[&str], path: &[Seg], what: &str) -> R<()> {
        for k in m.keys() {
            let Some(key) = k.as_str() else {
                return Err(self.err(self.loc.key(path), format!("{what}: keys must be strings")));
            };
            if !allowed.contains(&key) {
                let mut p = path.to_vec();
                p.push(K(key));
                return Err(self.err(
                    self.loc.key(&p),
                    format!(
                        "unknown key `{key}` in {what}; {}expected one of: {}",
                        hint(key, allowed),
                        allowed.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    fn want<T>(&self, v: Option<T>, path: &[Seg], expected: &str, got: &Value) -> R<T> {
        v.ok_or_else(|| {
            let key = path.iter().rev().find_map(|s| match s {
                K(k) => Some(*k),
                I(_) => None,
            });
            let what = match key {
                Some(k) => format!("`{k}`: "),
                None => String::new(),
            };
            self.err(
                self.loc.value(path),
                format!("{what}expected {expected}, found {}", type_name(got)),
            )
        })
    }

    fn str<'v>(&self, v: &'v Value, path: &[Seg]) -> R<&'v str> {
        self.want(v.as_str(), path, "a string", v)
    }

    fn u64(&self, v: &Value, path: &[Seg]) -> R<u64> {
        if let Some(s) = v.as_str() {
            let t = s.trim();
            let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                Some(h) => u64::from_str_radix(&h.replace('_', ""), 16).ok(),
                None => None,
            };
            return self.want(parsed, path, "a non-negative number", v);
        }
        self.want(v.as_u64(), path, "a non-negative number", v)
    }

    fn u32(&self, v: &Value, path: &[Seg]) -> R<u32> {
        let n = self.u64(v, path)?;
        u32::try_from(n)
            .map_err(|_| self.err(self.loc.value(path), format!("{n} does not fit in 32 bits")))
    }

    fn bool(&self, v: &Value, path: &[Seg]) -> R<bool> {
        self.want(v.as_bool(), path, "true or false", v)
    }

    fn timeout(&self, v: &Value, path: &[Seg]) -> R<Timeout> {
        if v.as_str() == Some("infinite") {
            return Ok(Timeout::INFINITE);
        }
        let n = v.as_u64().and_then(|n| u32::try_from(n).ok());
        self.want(n.map(Timeout), path, "milliseconds or `infinite`", v)
    }

    /// A name of this kind; `define` adds it when new, otherwise it must exist.
    fn name(&mut self, v: &Value, path: &[Seg], kind: NameKind, define: bool) -> R<usize> {
        let s = self.str(v, path)?;
        if !valid_name(s) {
            return Err(self.err(
                self.loc.value(path),
                format!("`{s}` is not a valid name (expected [A-Za-z_][A-Za-z0-9_]*)"),
            ));
        }
        if let Some(i) = self.names.of(kind).iter().position(|n| n == s) {
            return Ok(i);
        }
        if define {
            let list = self.names.of_mut(kind);
            list.push(s.to_string());
            return Ok(list.len() - 1);
        }
        Err(self.err(
            self.loc.value(path),
            format!(
                "{} `{s}` is used before it exists (create it first{})",
                kind_word(kind),
                match kind {
                    NameKind::Socket => " with `socket:`, `pair:` or `accept: ... as:`",
                    NameKind::Port => " with `iocp:`",
                    NameKind::Overlapped => " by passing it to an `ioctl` step",
                    NameKind::Routine => " by passing it as `completion:`",
                    NameKind::Thread => " by running a step with `thread:`",
                    _ => "",
                }
            ),
        ))
    }

    fn error_code(&self, v: &Value, path: &[Seg]) -> R<ErrorCode> {
        if let Some(n) = v.as_u64().and_then(|n| u32::try_from(n).ok()) {
            return Ok(ErrorCode(n));
        }
        let s = self.want(v.as_str(), path, "an error name or number", v)?;
        let named = error_alias(s).or_else(|| ErrorCode::from_name(s));
        named.ok_or_else(|| {
            let names: Vec<&str> = crate::errors::ERROR_CODES.iter().map(|e| e.0).collect();
            self.err(
                self.loc.value(path),
                format!(
                    "unknown error name `{s}`; {}expected a name such as WSAEINVAL or WSA_IO_PENDING, or a number",
                    hint(s, &names)
                ),
            )
        })
    }

    fn result(&self, v: &Value, path: &[Seg]) -> R<ResultVal> {
        if let Some(b) = v.as_bool() {
            return Ok(ResultVal::Bool(b));
        }
        if let Some(n) = v.as_i64() {
            return Ok(ResultVal::Int(n));
        }
        let s = self.want(
            v.as_str(),
            path,
            "a return value (number, true/false or a name)",
            v,
        )?;
        let n = match s {
            "SOCKET_ERROR" | "INVALID_SOCKET" => -1,
            "TRUE" => return Ok(ResultVal::Bool(true)),
            "FALSE" => return Ok(ResultVal::Bool(false)),
            "WSA_WAIT_FAILED" | "WAIT_FAILED" => 0xFFFF_FFFF,
            "WSA_WAIT_EVENT_0" | "WAIT_OBJECT_0" => 0,
            other => match error_alias(other).or_else(|| ErrorCode::from_name(other)) {
                Some(e) => i64::from(e.0),
                None => {
                    return Err(self.err(
                        self.loc.value(path),
                        format!("unknown result name `{other}` (expected a number, true/false, SOCKET_ERROR, WAIT_TIMEOUT, WAIT_IO_COMPLETION or WSA_WAIT_FAILED)"),
                    ))
                }
            },
        };
        Ok(ResultVal::Int(n))
    }

    fn code(&self, v: &Value, path: &[Seg], what: &str) -> R<IoctlCode> {
        if let Some(n) = v.as_u64() {
            return u32::try_from(n).map(IoctlCode).map_err(|_| {
                self.err(
                    self.loc.value(path),
                    format!("{what} {n} does not fit in 32 bits"),
                )
            });
        }
        let s = self.want(v.as_str(), path, "a code name or number", v)?;
        IoctlCode::parse(s).ok_or_else(|| {
            let names: Vec<&str> = crate::codes::CODES.iter().map(|c| c.name).collect();
            self.err(
                self.loc.value(path),
                format!(
                    "unknown {what} name `{s}`; {}expected a name from `wsasim codes` or a number such as 0x48000016",
                    hint(s, &names)
                ),
            )
        })
    }

    fn events(&self, v: &Value, path: &[Seg]) -> R<NetworkEvents> {
        let seq = self.want(v.as_sequence(), path, "a list of event names", v)?;
        let mut set = NetworkEvents::NONE;
        for (i, e) in seq.iter().enumerate() {
            let mut p = path.to_vec();
            p.push(I(i));
            let s = self.str(e, &p)?;
            let ev = NetworkEvents::from_name(s).ok_or_else(|| {
                let names: Vec<&str> = NetworkEvents::NAMED.iter().map(|n| n.0).collect();
                self.err(
                    self.loc.key(&p),
                    format!(
                        "unknown event name `{s}`; {}expected one of: {}",
                        hint(s, &names),
                        names.join(", ")
                    ),
                )
            })?;
            set = set | ev;
        }
        Ok(set)
    }

    fn flags(&self, v: &Value, path: &[Seg], allowed: &[&str]) -> R<MsgFlags> {
        let seq = self.want(v.as_sequence(), path, "a list of flags", v)?;
        let mut f = MsgFlags::default();
        for (i, e) in seq.iter().enumerate() {
            let mut p = path.to_vec();
            p.push(I(i));
            match self.str(e, &p)? {
                "oob" if allowed.contains(&"oob") => f.oob = true,
                "peek" if allowed.contains(&"peek") => f.peek = true,
                "dontroute" if allowed.contains(&"dontroute") => f.dontroute = true,
                other => {
                    return Err(self.err(
                        self.loc.key(&p),
                        format!("unknown flag `{other}` (expected {})", allowed.join(", ")),
                    ))
                }
            }
        }
        Ok(f)
    }

    fn sockaddr(&self, v: &Value, path: &[Seg]) -> R<SocketAddr> {
        let s = self.str(v, path)?;
        parse_sockaddr_text(s, false)
            .map(|(ip, p)| SocketAddr::new(ip, p.unwrap_or(0)))
            .map_err(|e| self.err(self.loc.value(path), e))
    }

    /// A string value parsed by `parse`; a failure says what was expected there.
    fn parsed<T>(
        &self,
        v: &Value,
        path: &[Seg],
        parse: impl Fn(&str) -> Option<T>,
        expected: &str,
    ) -> R<T> {
        let s = self.str(v, path)?;
        parse(s).ok_or_else(|| self.err(self.loc.value(path), format!("\"{s}\" is not {expected}")))
    }

    fn ip(&self, v: &Value, path: &[Seg]) -> R<IpAddr> {
        self.parsed(v, path, |s| s.parse().ok(), "an IP address")
    }

    fn if_address(&self, v: &Value, path: &[Seg]) -> R<IfAddress> {
        self.parsed(
            v,
            path,
            IfAddress::parse,
            "an address with prefix (expected \"a.b.c.d/n\")",
        )
    }

    fn prefix(&self, v: &Value, path: &[Seg]) -> R<Prefix> {
        self.parsed(v, path, Prefix::parse, "a prefix (expected \"a.b.c.d/n\")")
    }

    fn map<'v>(&self, v: &'v Value, path: &[Seg], what: &str) -> R<&'v Mapping> {
        self.want(v.as_mapping(), path, what, v)
    }

    fn interface(&self, v: &Value, path: &[Seg], default_index: u32) -> R<Interface> {
        let m = self.map(v, path, "an interface map")?;
        self.check_keys(
            m,
            &["name", "index", "kind", "up", "addresses"],
            path,
            "an interface",
        )?;
        let sub = |k: &'static str| {
            let mut p = path.to_vec();
            p.push(K(k));
            p
        };
        let name = match m.get("name") {
            Some(n) => self.str(n, &sub("name"))?.to_string(),
            None => return Err(self.err(self.loc.key(path), "an interface needs `name:`")),
        };
        let index = match m.get("index") {
            Some(n) => self.u32(n, &sub("index"))?,
            None => default_index,
        };
        let kind = match m.get("kind") {
            Some(k) => {
                let s = self.str(k, &sub("kind"))?;
                InterfaceKind::parse(s).ok_or_else(|| {
                    self.err(self.loc.value(&sub("kind")), format!("unknown interface kind `{s}` (expected loopback, ethernet, wireless or tunnel)"))
                })?
            }
            None => InterfaceKind::Ethernet,
        };
        let up = match m.get("up") {
            Some(u) => self.bool(u, &sub("up"))?,
            None => true,
        };
        let mut addresses = Vec::new();
        if let Some(a) = m.get("addresses") {
            let p = sub("addresses");
            let seq = self.want(a.as_sequence(), &p, "a list of addresses", a)?;
            for (i, x) in seq.iter().enumerate() {
                let mut pi = p.clone();
                pi.push(I(i));
                addresses.push(self.if_address(x, &pi)?);
            }
        }
        Ok(Interface {
            index,
            name,
            kind,
            up,
            addresses,
        })
    }

    fn host(&self, v: &Value) -> R<Network> {
        let path = [K("host")];
        let m = self.map(v, &path, "a host map with interfaces and routes")?;
        self.check_keys(m, &["interfaces", "routes"], &path, "`host`")?;
        let mut net = Network::default();
        if let Some(list) = m.get("interfaces") {
            let p = [K("host"), K("interfaces")];
            let seq = self.want(list.as_sequence(), &p, "a list of interfaces", list)?;
            for (i, x) in seq.iter().enumerate() {
                let pi = [K("host"), K("interfaces"), I(i)];
                let ifc = self.interface(x, &pi, i as u32 + 1)?;
                if net.interfaces.contains_key(&ifc.index) {
                    return Err(self.err(
                        self.loc.key(&pi),
                        format!("interface index {} is used twice", ifc.index),
                    ));
                }
                net.add_interface(ifc);
            }
        }
        if let Some(list) = m.get("routes") {
            let p = [K("host"), K("routes")];
            let seq = self.want(list.as_sequence(), &p, "a list of routes", list)?;
            for (i, x) in seq.iter().enumerate() {
                let pi = [K("host"), K("routes"), I(i)];
                let rm = self.map(x, &pi, "a route map")?;
                self.check_keys(
                    rm,
                    &["prefix", "gateway", "interface", "metric"],
                    &pi,
                    "a route",
                )?;
                let prefix = match rm.get("prefix") {
                    Some(v) => self.prefix(v, &[K("host"), K("routes"), I(i), K("prefix")])?,
                    None => return Err(self.err(self.loc.key(&pi), "a route needs `prefix:`")),
                };
                let gateway = match rm.get("gateway") {
                    Some(v) => Some(self.ip(v, &[K("host"), K("routes"), I(i), K("gateway")])?),
                    None => None,
                };
                let ipath = [K("host"), K("routes"), I(i), K("interface")];
                let interface = match rm.get("interface") {
                    Some(v) => {
                        let name = self.str(v, &ipath)?;
                        net.interface_by_name(name).map(|x| x.index).ok_or_else(|| {
                            self.err(self.loc.value(&ipath), format!("interface `{name}` is used before it exists (declare it under host.interfaces)"))
                        })?
                    }
                    None => return Err(self.err(self.loc.key(&pi), "a route needs `interface:`")),
                };
                let metric = match rm.get("metric") {
                    Some(v) => self.u32(v, &[K("host"), K("routes"), I(i), K("metric")])?,
                    None => 0,
                };
                net.add_route(Route {
                    prefix,
                    gateway,
                    interface,
                    metric,
                });
            }
        }
        Ok(net)
    }
}

/// Parses one scenario. `file` names it in errors.
pub fn parse_scenario(file: &str, src: &str) -> Result<Scenario, ScenarioError> {
    let mut p = Parser {
        file: file.to_string(),
        loc: Locator::new(src),
        names: Names::default(),
    };
    p.names.threads.push("main".into());
    let doc: Value = serde_yaml::from_str(src).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line() as u32, l.column() as u32))
            .unwrap_or((1, 1));
        let msg = e.to_string();
        // serde_yaml appends " at line L column C"; the prefix already says it.
        let msg = match msg.find(" at line ") {
            Some(i) => msg[..i].to_string(),
            None => msg,
        };
        ScenarioError {
            file: file.to_string(),
            line: line.max(1),
            column: column.max(1),
            message: format!("malformed YAML: {msg}"),
        }
    })?;
    // YAML tags (`!name`) are not part of the format. Refuse them once, here: a tagged
    // key would otherwise hide from every lookup by name, and its expectation with it.
    let mut at = Vec::new();
    if let Some(what) = first_tag(&doc, &mut at) {
        let path: Vec<Seg> = at
            .iter()
            .map(|s| match s {
                TagPath::Key(k) => K(k.as_str()),
                TagPath::Index(i) => I(*i),
            })
            .collect();
        return Err(p.err(
            p.loc.value(&path),
            format!("{what}: YAML tags are not part of the scenario format"),
        ));
    }
    let top = match &doc {
        Value::Mapping(m) => m,
        other => {
            return Err(p.err(
                Pos { line: 1, col: 1 },
                format!(
                    "a scenario is a map with `name:` and `steps:`, found {}",
                    type_name(other)
                ),
            ))
        }
    };
    p.check_keys(top, TOP_KEYS, &[], "the scenario")?;
    let name = match top.get("name") {
        Some(v) => p.str(v, &[K("name")])?.to_string(),
        None => return Err(p.err(Pos { line: 1, col: 1 }, "the scenario needs `name:`")),
    };
    let about = match top.get("about") {
        Some(v) => Some(p.str(v, &[K("about")])?.to_string()),
        None => None,
    };
    let evidence = match top.get("evidence") {
        None => Vec::new(),
        Some(Value::Sequence(s)) => s.iter().filter_map(scalar_text).collect(),
        Some(v) => vec![p.str(v, &[K("evidence")])?.to_string()],
    };
    let mut config = HostConfig::default();
    if let Some(v) = top.get("seed") {
        config.seed = p.u64(v, &[K("seed")])?;
    }
    if let Some(v) = top.get("privileged") {
        config.privileged = p.bool(v, &[K("privileged")])?;
    }
    if let Some(v) = top.get("provider") {
        let m = p.map(v, &[K("provider")], "a map of provider settings")?;
        p.check_keys(
            m,
            &["change_notify", "pointer_size"],
            &[K("provider")],
            "`provider`",
        )?;
        if let Some(c) = m.get("change_notify") {
            let path = [K("provider"), K("change_notify")];
            config.change_notify = match p.str(c, &path)? {
                "exact" => ChangeNotify::Exact,
                "any" => ChangeNotify::Any,
                other => {
                    return Err(p.err(
                        p.loc.value(&path),
                        format!("unknown change_notify `{other}` (expected exact or any)"),
                    ))
                }
            };
        }
        if let Some(c) = m.get("pointer_size") {
            let path = [K("provider"), K("pointer_size")];
            config.pointer_size = match c.as_u64() {
                Some(8) => PointerSize::Bits64,
                Some(4) => PointerSize::Bits32,
                _ => return Err(p.err(p.loc.value(&path), "pointer_size must be 8 or 4")),
            };
        }
    }
    let network = match top.get("host") {
        Some(v) => p.host(v)?,
        None => Network::default_host(),
    };
    let backends = match top.get("backends") {
        None => vec!["model".to_string(), "winsock".to_string()],
        Some(v) => {
            let seq = p.want(v.as_sequence(), &[K("backends")], "a list of backends", v)?;
            let mut out = Vec::new();
            for (i, b) in seq.iter().enumerate() {
                let s = p.str(b, &[K("backends"), I(i)])?;
                if s != "model" && s != "winsock" {
                    return Err(p.err(
                        p.loc.key(&[K("backends"), I(i)]),
                        format!("unknown backend `{s}` (expected model or winsock)"),
                    ));
                }
                out.push(s.to_string());
            }
            out
        }
    };
    let allow_blocked_at_end = match top.get("allow_blocked_at_end") {
        Some(v) => p.bool(v, &[K("allow_blocked_at_end")])?,
        None => false,
    };
    let steps_v = match top.get("steps") {
        Some(v) => v,
        None => return Err(p.err(Pos { line: 1, col: 1 }, "the scenario needs `steps:`")),
    };
    let seq = p.want(
        steps_v.as_sequence(),
        &[K("steps")],
        "a list of steps",
        steps_v,
    )?;
    let starts = p.loc.items(&[K("steps")]);
    let mut steps = Vec::with_capacity(seq.len());
    for (i, s) in seq.iter().enumerate() {
        let pos = match starts.get(i) {
            Some(pos) if starts.len() == seq.len() => *pos,
            _ => p.loc.key(&[K("steps"), I(i)]),
        };
        steps.push(p.step(i, s, pos)?);
    }
    // A thread whose last step blocks must be joined later, unless allowed.
    if !allow_blocked_at_end {
        for t in 0..p.names.threads.len() {
            let last = steps.iter().enumerate().rev().find(|(_, s)| s.thread == t);
            if let Some((i, st)) = last {
                let blocks = matches!(&st.expect, Expect::Check(c) if c.blocks);
                let joined = steps[i + 1..]
                    .iter()
                    .any(|s| matches!(s.action, Action::Join(j) if j == t));
                if blocks && !joined {
                    return Err(p.err(
                        st.pos,
                        format!(
                            "thread `{}` blocks at step {} and is never joined (add `join: {}` later, or `allow_blocked_at_end: true`)",
                            p.names.threads[t],
                            i + 1,
                            p.names.threads[t]
                        ),
                    ));
                }
            }
        }
    }
    Ok(Scenario {
        file: file.to_string(),
        name,
        about,
        evidence,
        config,
        network,
        backends,
        allow_blocked_at_end,
        names: p.names,
        steps,
    })
}

impl Parser<'_> {
    fn step(&mut self, i: usize, v: &Value, pos: Pos) -> R<Step> {
        let sp = [K("steps"), I(i)];
        let m = match v {
            Value::Mapping(m) => m,
            other => {
                return Err(self.err(
                    pos,
                    format!(
                        "a step is a map with one action key, found {}",
                        type_name(other)
                    ),
                ))
            }
        };
        // `wait` is an action of its own, and also the fWait parameter of
        // `get_overlapped_result` (scenario format, "Waiting, completions").
        let overlapped_result = m.contains_key("get_overlapped_result");
        let acts: Vec<&str> = m
            .keys()
            .filter_map(|k| k.as_str())
            .filter(|k| ACTIONS.contains(k))
            .filter(|k| !(overlapped_result && *k == "wait"))
            .collect();
        let action = match acts.as_slice() {
            [a] => *a,
            [] => {
                let first = m.keys().next().and_then(|k| k.as_str()).unwrap_or("");
                return Err(self.err(
                    pos,
                    format!(
                        "step {} has no action key; {}expected one of: {}",
                        i + 1,
                        hint(first, ACTIONS),
                        ACTIONS.join(", ")
                    ),
                ));
            }
            [_, b, ..] => {
                return Err(self.err(
                    self.loc.key(&[K("steps"), I(i), K(b)]),
                    format!(
                        "step {} has more than one action key (`{}` and `{b}`)",
                        i + 1,
                        acts[0]
                    ),
                ))
            }
        };
        let mut allowed: Vec<&str> = vec![action, "thread", "note", "expect"];
        allowed.extend_from_slice(params(action));
        self.check_keys(m, &allowed, &sp, &format!("a `{action}` step"))?;
        let thread = match m.get("thread") {
            Some(t) => self.name(t, &[K("steps"), I(i), K("thread")], NameKind::Thread, true)?,
            None => 0,
        };
        let note = match m.get("note") {
            Some(n) => Some(self.str(n, &[K("steps"), I(i), K("note")])?.to_string()),
            None => None,
        };
        let act = self.action(i, action, m)?;
        let expect = match m.get("expect") {
            None => Expect::Succeed,
            Some(e) => self.expect(i, action, e)?,
        };
        if let Expect::Check(c) = &expect {
            if c.blocks && !BLOCKING.contains(&action) {
                return Err(self.err(
                    self.loc.key(&[K("steps"), I(i), K("expect"), K("blocks")]),
                    format!("a `{action}` step cannot block"),
                ));
            }
        }
        Ok(Step {
            pos,
            thread,
            note,
            action: act,
            expect,
        })
    }

    /// The value of a key a step cannot do without; its absence names the step's action
    /// and the key.
    fn need<'m>(&self, m: &'m Mapping, at: &[Seg], action: &str, key: &str) -> R<&'m Value> {
        m.get(key)
            .ok_or_else(|| self.err(self.loc.key(at), format!("`{action}` needs `{key}:`")))
    }

    fn action(&mut self, i: usize, action: &str, m: &Mapping) -> R<Action> {
        let path = |k: &'static str| [K("steps"), I(i), K(k)];
        let main = &m[action];
        let get = |k: &str| m.get(k);
        let af = |s: &Self| -> R<AddressFamily> {
            match get("af") {
                None => Ok(AddressFamily::Inet),
                Some(v) => match s.str(v, &path("af"))? {
                    "inet" => Ok(AddressFamily::Inet),
                    "inet6" => Ok(AddressFamily::Inet6),
                    o => Err(s.err(
                        s.loc.value(&path("af")),
                        format!("unknown af `{o}` (expected inet or inet6)"),
                    )),
                },
            }
        };
        let kind = |s: &Self| -> R<SocketType> {
            match get("type") {
                None => Ok(SocketType::Stream),
                Some(v) => match s.str(v, &path("type"))? {
                    "stream" => Ok(SocketType::Stream),
                    "dgram" => Ok(SocketType::Dgram),
                    "raw" => Ok(SocketType::Raw),
                    o => Err(s.err(
                        s.loc.value(&path("type")),
                        format!("unknown type `{o}` (expected stream, dgram or raw)"),
                    )),
                },
            }
        };
        let ap = path(action_key(action));
        Ok(match action {
            "socket" => {
                let s = self.name(main, &ap, NameKind::Socket, true)?;
                let protocol = match get("protocol") {
                    None => 0,
                    Some(v) if v.as_i64().is_some() => {
                        let n = v.as_i64().expect("checked");
                        i32::try_from(n).map_err(|_| self.err(self.loc.value(&path("protocol")), "protocol out of range"))?
                    }
                    Some(v) => match self.str(v, &path("protocol"))? {
                        "tcp" => protocol::TCP,
                        "udp" => protocol::UDP,
                        "ip" => protocol::IP,
                        "icmp" => protocol::ICMP,
                        "igmp" => protocol::IGMP,
                        o => return Err(self.err(self.loc.value(&path("protocol")), format!("unknown protocol `{o}` (expected tcp, udp, ip, icmp, igmp or a number)"))),
                    },
                };
                let overlapped = match get("overlapped") {
                    Some(v) => self.bool(v, &path("overlapped"))?,
                    None => true,
                };
                Action::Socket {
                    s,
                    af: af(self)?,
                    kind: kind(self)?,
                    protocol,
                    overlapped,
                }
            }
            "pair" => {
                let seq = self.want(
                    main.as_sequence().filter(|s| s.len() == 2),
                    &ap,
                    "a list of two names [client, server]",
                    main,
                )?;
                let a = self.name(
                    &seq[0],
                    &[K("steps"), I(i), K("pair"), I(0)],
                    NameKind::Socket,
                    true,
                )?;
                let b = self.name(
                    &seq[1],
                    &[K("steps"), I(i), K("pair"), I(1)],
                    NameKind::Socket,
                    true,
                )?;
                Action::Pair {
                    a,
                    b,
                    af: af(self)?,
                    kind: kind(self)?,
                }
            }
            "bind" => {
                let s = self.name(main, &ap, NameKind::Socket, false)?;
                let addr = self.sockaddr(self.need(m, &ap, action, "addr")?, &path("addr"))?;
                Action::Bind { s, addr }
            }
            "listen" => Action::Listen {
                s: self.name(main, &ap, NameKind::Socket, false)?,
            },
            "close" => Action::Close {
                s: self.name(main, &ap, NameKind::Socket, false)?,
            },
            "connect" => {
                let s = self.name(main, &ap, NameKind::Socket, false)?;
                let to = match get("to") {
                    Some(v) => {
                        let text = self.str(v, &path("to"))?;
                        match parse_sockaddr_text(text, false) {
                            Ok((ip, port)) => Target::Addr(SocketAddr::new(ip, port.unwrap_or(0))),
                            Err(_) => Target::Socket(self.name(
                                v,
                                &path("to"),
                                NameKind::Socket,
                                false,
                            )?),
                        }
                    }
                    None => return Err(self.err(self.loc.key(&ap), "`connect` needs `to:`")),
                };
                Action::Connect { s, to }
            }
            "accept" => {
                let s = self.name(main, &ap, NameKind::Socket, false)?;
                let as_ = match get("as") {
                    Some(v) => self.name(v, &path("as"), NameKind::Socket, true)?,
                    None => {
                        return Err(self.err(
                            self.loc.key(&ap),
                            "`accept` needs `as:` naming the new socket",
                        ))
                    }
                };
                Action::Accept { s, as_ }
            }
            "send" => {
                let s = self.name(main, &ap, NameKind::Socket, false)?;
                let given: Vec<&str> = ["data", "hex", "bytes"]
                    .into_iter()
                    .filter(|k| m.contains_key(*k))
                    .collect();
                if given.len() != 1 {
                    return Err(self.err(
                        self.loc.key(&ap),
                        "`send` needs exactly one of `data:`, `hex:` or `bytes:`",
                    ));
                }
                let data = match given[0] {
                    "data" => self.str(&m["data"], &path("data"))?.as_bytes().to_vec(),
                    "hex" => parse_hex(self.str(&m["hex"], &path("hex"))?)
                        .map_err(|e| self.err(self.loc.value(&path("hex")), e))?,
                    _ => {
                        let n = self.u32(&m["bytes"], &path("bytes"))?;
                        if n > 1 << 24 {
                            return Err(self.err(
                                self.loc.value(&path("bytes")),
                                "bytes is limited to 16777216",
                            ));
                        }
                        (0..n).map(|i| (i % 256) as u8).collect()
                    }
                };
                let flags = match get("flags") {
                    Some(v) => self.flags(v, &path("flags"), &["oob", "dontroute"])?,
                    None => MsgFlags::default(),
                };
                Action::Send { s, data, flags }
            }
            "recv" => {
                let s = self.name(main, &ap, NameKind::Socket, false)?;
                let len = self.u32(self.need(m, &ap, action, "len")?, &path("len"))? as usize;
                let flags = match get("flags") {
                    Some(v) => self.flags(v, &path("flags"), &["oob", "peek"])?,
                    None => MsgFlags::default(),
                };
                Action::Recv { s, len, flags }
            }
            "setsockopt" => {
                let s = self.name(main, &ap, NameKind::Socket, false)?;
                let option = self
                    .str(self.need(m, &ap, action, "option")?, &path("option"))?
                    .to_string();
                let value = match get("value") {
                    Some(Value::Bool(b)) => u32::from(*b),
                    Some(v) => self.u32(v, &path("value"))?,
                    None => return Err(self.err(self.loc.key(&ap), "`setsockopt` needs `value:`")),
                };
                Action::SetSockOpt { s, option, value }
            }
            "ioctl" => self.ioctl(i, m)?,
            "ioctlsocket" => {
                let s = self.name(main, &ap, NameKind::Socket, false)?;
                let cmd = self.code(self.need(m, &ap, action, "cmd")?, &path("cmd"), "command")?;
                let arg = match get("arg") {
                    Some(Value::Null) => None,
                    Some(v) => Some(self.u32(v, &path("arg"))?),
                    None => Some(0),
                };
                Action::IoctlSocket { s, cmd, arg }
            }
            "event_select" => {
                let s = self.name(main, &ap, NameKind::Socket, false)?;
                let ev = self.name(
                    self.need(m, &ap, action, "event")?,
                    &path("event"),
                    NameKind::Event,
                    true,
                )?;
                let events = self.events(self.need(m, &ap, action, "events")?, &path("events"))?;
                Action::EventSelect { s, ev, events }
            }
            "async_select" => {
                let s = self.name(main, &ap, NameKind::Socket, false)?;
                let window = self.name(
                    self.need(m, &ap, action, "window")?,
                    &path("window"),
                    NameKind::Window,
                    true,
                )?;
                let message = match get("message") {
                    Some(v) => self.u32(v, &path("message"))?,
                    None => 0x400,
                };
                let events = self.events(self.need(m, &ap, action, "events")?, &path("events"))?;
                Action::AsyncSelect {
                    s,
                    window,
                    message,
                    events,
                }
            }
            "enum_network_events" => {
                let s = self.name(main, &ap, NameKind::Socket, false)?;
                let ev = match get("event") {
                    Some(v) => Some(self.name(v, &path("event"), NameKind::Event, true)?),
                    None => None,
                };
                Action::EnumNetworkEvents { s, ev }
            }
            "reset_event" => Action::ResetEvent(self.name(main, &ap, NameKind::Event, true)?),
            "set_event" => Action::SetEvent(self.name(main, &ap, NameKind::Event, true)?),
            "wait" => {
                let seq = self.want(main.as_sequence(), &ap, "a list of event names", main)?;
                let mut events = Vec::new();
                for (j, e) in seq.iter().enumerate() {
                    events.push(self.name(
                        e,
                        &[K("steps"), I(i), K("wait"), I(j)],
                        NameKind::Event,
                        true,
                    )?);
                }
                Action::Wait {
                    events,
                    all: match get("all") {
                        Some(v) => self.bool(v, &path("all"))?,
                        None => false,
                    },
                    timeout: match get("timeout") {
                        Some(v) => self.timeout(v, &path("timeout"))?,
                        None => Timeout::INFINITE,
                    },
                    alertable: match get("alertable") {
                        Some(v) => self.bool(v, &path("alertable"))?,
                        None => false,
                    },
                }
            }
            "sleep_ex" => Action::SleepEx {
                timeout: self.timeout(main, &ap)?,
                alertable: match get("alertable") {
                    Some(v) => self.bool(v, &path("alertable"))?,
                    None => false,
                },
            },
            "iocp" => Action::Iocp(self.name(main, &ap, NameKind::Port, true)?),
            "associate" => {
                let s = self.name(main, &ap, NameKind::Socket, false)?;
                let port = self.name(
                    self.need(m, &ap, action, "port")?,
                    &path("port"),
                    NameKind::Port,
                    false,
                )?;
                let key = match get("key") {
                    Some(v) => self.u64(v, &path("key"))?,
                    None => 0,
                };
                Action::Associate { s, port, key }
            }
            "get_queued" => Action::GetQueued {
                port: self.name(main, &ap, NameKind::Port, false)?,
                timeout: match get("timeout") {
                    Some(v) => self.timeout(v, &path("timeout"))?,
                    None => Timeout::INFINITE,
                },
            },
            "get_overlapped_result" => {
                let s = self.name(main, &ap, NameKind::Socket, false)?;
                let ov = match get("overlapped") {
                    Some(v) => self.name(v, &path("overlapped"), NameKind::Overlapped, false)?,
                    None => {
                        return Err(self.err(
                            self.loc.key(&ap),
                            "`get_overlapped_result` needs `overlapped:`",
                        ))
                    }
                };
                let wait = match get("wait") {
                    Some(v) => self.bool(v, &path("wait"))?,
                    None => false,
                };
                Action::GetOverlappedResult { s, ov, wait }
            }
            "overlapped_status" => {
                Action::OverlappedStatus(self.name(main, &ap, NameKind::Overlapped, false)?)
            }
            "join" => Action::Join(self.name(main, &ap, NameKind::Thread, false)?),
            "advance" => Action::Advance(self.u64(main, &ap)?),
            "net" => Action::Net(self.net(i, main)?),
            other => return Err(self.err(self.loc.key(&ap), format!("unknown action `{other}`"))),
        })
    }

    fn ioctl(&mut self, i: usize, m: &Mapping) -> R<Action> {
        let path = |k: &'static str| [K("steps"), I(i), K(k)];
        let socket = self.name(&m["ioctl"], &path("ioctl"), NameKind::Socket, false)?;
        let code = match m.get("code") {
            Some(v) => self.code(v, &path("code"), "code")?,
            None => return Err(self.err(self.loc.key(&path("ioctl")), "`ioctl` needs `code:`")),
        };
        let encoded = match m.get("in") {
            Some(v) => encode_in(v).map_err(|e| {
                self.err(
                    self.loc.value(&path("in")),
                    format!("cannot encode `in`: {e}"),
                )
            })?,
            None => None,
        };
        let in_len = match m.get("in_len") {
            Some(v) => Some(self.u32(v, &path("in_len"))?),
            None => None,
        };
        let input = match (encoded, in_len) {
            (None, len) => InSpec::Null(len.unwrap_or(0)),
            (Some(b), None) => InSpec::Bytes(b),
            (Some(mut b), Some(n)) => {
                if n > 1 << 20 {
                    return Err(self.err(
                        self.loc.value(&path("in_len")),
                        "in_len with bytes is limited to 1048576",
                    ));
                }
                b.resize(n as usize, 0);
                InSpec::Bytes(b)
            }
        };
        let out_len = match m.get("out_len") {
            Some(v) => Some(self.u32(v, &path("out_len"))?),
            None => None,
        };
        let output = match (m.get("out"), out_len) {
            (Some(Value::Null), n) => OutSpec::Null(n.unwrap_or(0)),
            (Some(v), _) => {
                return Err(self.err(
                    self.loc.value(&path("out")),
                    format!(
                        "`out` in a call may only be null (a NULL output pointer), found {}",
                        type_name(v)
                    ),
                ))
            }
            (None, Some(n)) => OutSpec::Capacity(n),
            (None, None) => OutSpec::None,
        };
        let bytes_returned = match m.get("bytes_returned") {
            Some(Value::Null) => false,
            Some(v) => {
                return Err(self.err(
                    self.loc.value(&path("bytes_returned")),
                    format!(
                        "`bytes_returned` in a call may only be null (a NULL pointer), found {}",
                        type_name(v)
                    ),
                ))
            }
            None => true,
        };
        let overlapped = match m.get("overlapped") {
            Some(v) => Some(self.name(v, &path("overlapped"), NameKind::Overlapped, true)?),
            None => None,
        };
        let event = match m.get("event") {
            Some(v) => Some(self.name(v, &path("event"), NameKind::Event, true)?),
            None => None,
        };
        let completion = match m.get("completion") {
            Some(v) => Some(self.name(v, &path("completion"), NameKind::Routine, true)?),
            None => None,
        };
        if overlapped.is_none() && (event.is_some() || completion.is_some()) {
            let k = if event.is_some() {
                "event"
            } else {
                "completion"
            };
            return Err(self.err(
                self.loc.key(&path(k)),
                format!("`{k}` needs `overlapped:` (it belongs to the OVERLAPPED record)"),
            ));
        }
        Ok(Action::Ioctl(Box::new(IoctlStep {
            socket,
            code,
            input,
            output,
            bytes_returned,
            overlapped,
            event,
            completion,
        })))
    }

    fn net(&mut self, i: usize, v: &Value) -> R<NetChange> {
        let base = [K("steps"), I(i), K("net")];
        let m = self.map(v, &base, "a map with one change")?;
        const CHANGES: &[&str] = &[
            "add_address",
            "remove_address",
            "add_route",
            "remove_route",
            "set_route_metric",
            "set_interface",
            "add_interface",
            "remove_interface",
        ];
        self.check_keys(m, CHANGES, &base, "`net`")?;
        if m.len() != 1 {
            return Err(self.err(self.loc.value(&base), "`net` takes exactly one change"));
        }
        let (k, val) = m.iter().next().expect("one entry");
        let key = k.as_str().expect("checked");
        let kp = [K("steps"), I(i), K("net"), K(key)];
        let sub = |f: &'static str| [K("steps"), I(i), K("net"), K(key), K(f)];
        if key == "remove_interface" {
            return Ok(NetChange::RemoveInterface(self.str(val, &kp)?.to_string()));
        }
        if key == "add_interface" {
            return Ok(NetChange::AddInterface(self.interface(val, &kp, 0)?));
        }
        let fields: &[&str] = match key {
            "add_address" | "remove_address" => &["interface", "address"],
            "add_route" => &["prefix", "interface", "gateway", "metric"],
            "remove_route" => &["prefix", "interface"],
            "set_route_metric" => &["prefix", "interface", "metric"],
            _ => &["name", "up"],
        };
        let fm = self.map(val, &kp, "a map of fields")?;
        self.check_keys(fm, fields, &kp, &format!("`{key}`"))?;
        let need = |s: &Self, f: &'static str| -> R<&Value> {
            fm.get(f)
                .ok_or_else(|| s.err(s.loc.key(&kp), format!("`{key}` needs `{f}:`")))
        };
        let iface = |s: &Self| -> R<String> {
            Ok(s.str(need(s, "interface")?, &sub("interface"))?.to_string())
        };
        Ok(match key {
            "add_address" => NetChange::AddAddress {
                interface: iface(self)?,
                address: self.if_address(need(self, "address")?, &sub("address"))?,
            },
            "remove_address" => NetChange::RemoveAddress {
                interface: iface(self)?,
                address: self.if_address(need(self, "address")?, &sub("address"))?,
            },
            "add_route" => NetChange::AddRoute {
                prefix: self.prefix(need(self, "prefix")?, &sub("prefix"))?,
                interface: iface(self)?,
                gateway: match fm.get("gateway") {
                    Some(g) => Some(self.ip(g, &sub("gateway"))?),
                    None => None,
                },
                metric: match fm.get("metric") {
                    Some(g) => self.u32(g, &sub("metric"))?,
                    None => 0,
                },
            },
            "remove_route" => NetChange::RemoveRoute {
                prefix: self.prefix(need(self, "prefix")?, &sub("prefix"))?,
                interface: iface(self)?,
            },
            "set_route_metric" => NetChange::SetRouteMetric {
                prefix: self.prefix(need(self, "prefix")?, &sub("prefix"))?,
                interface: iface(self)?,
                metric: self.u32(need(self, "metric")?, &sub("metric"))?,
            },
            _ => NetChange::SetInterface {
                name: self.str(need(self, "name")?, &sub("name"))?.to_string(),
                up: self.bool(need(self, "up")?, &sub("up"))?,
            },
        })
    }

    fn expect(&mut self, i: usize, action: &str, v: &Value) -> R<Expect> {
        let base = [K("steps"), I(i), K("expect")];
        let m = match v {
            Value::String(s) if s == "ok" => {
                let ok = if matches!(
                    action,
                    "reset_event"
                        | "set_event"
                        | "iocp"
                        | "associate"
                        | "get_queued"
                        | "get_overlapped_result"
                ) {
                    ResultVal::Bool(true)
                } else {
                    ResultVal::Int(0)
                };
                return Ok(Expect::Check(Box::new(Checks {
                    result: Some(ok),
                    error: Some(ErrorCode::NO_ERROR),
                    ..Checks::default()
                })));
            }
            Value::String(s) if s == "any" => return Ok(Expect::Any),
            Value::Mapping(m) => m,
            other => {
                return Err(self.err(
                    self.loc.value(&base),
                    format!(
                        "`expect` must be `ok`, `any` or a map of fields, found {}",
                        match other {
                            Value::String(s) => format!("\"{s}\""),
                            o => type_name(o).to_string(),
                        }
                    ),
                ))
            }
        };
        let allowed = expect_keys(action);
        self.check_keys(
            m,
            allowed,
            &base,
            &format!("the expectation of a `{action}` step"),
        )?;
        let mut c = Checks::default();
        for (k, val) in m {
            let key = k.as_str().expect("checked");
            let p = [K("steps"), I(i), K("expect"), K(key)];
            match key {
                "result" => c.result = Some(self.result(val, &p)?),
                "error" => c.error = Some(self.error_code(val, &p)?),
                "bytes_returned" => {
                    c.bytes_returned = Some(if val.as_str() == Some("untouched") {
                        BytesReturned::Untouched
                    } else {
                        BytesReturned::Written(self.want(
                            val.as_u64().and_then(|n| u32::try_from(n).ok()),
                            &p,
                            "a number or `untouched`",
                            val,
                        )?)
                    })
                }
                "out" => c.out = Some(self.out_form(val, &p)?),
                "out_untouched" => c.out_untouched = self.bool(val, &p)?,
                "pending" => {
                    if self.bool(val, &p)? {
                        c.result.get_or_insert(ResultVal::Int(-1));
                        c.error.get_or_insert(ErrorCode::WSA_IO_PENDING);
                    }
                }
                "blocks" => c.blocks = self.bool(val, &p)?,
                "data" => {
                    c.data = Some(match val {
                        Value::Mapping(hm) if hm.len() == 1 && hm.contains_key("hex") => {
                            let pp = [K("steps"), I(i), K("expect"), K("data"), K("hex")];
                            parse_hex(self.str(&hm["hex"], &pp)?)
                                .map_err(|e| self.err(self.loc.value(&pp), e))?
                        }
                        _ => self.str(val, &p)?.as_bytes().to_vec(),
                    })
                }
                "arg" => c.arg = Some(self.u32(val, &p)?),
                "events" => c.events = Some(self.events(val, &p)?),
                "errors" => {
                    let em = self.map(val, &p, "a map of event name to error")?;
                    for (ek, ev) in em {
                        let en = ek.as_str().unwrap_or("");
                        let mut ep = p.to_vec();
                        ep.push(K(en));
                        let bit = NetworkEvents::from_name(en)
                            .and_then(|e| e.bit())
                            .ok_or_else(|| {
                                self.err(
                                    self.loc.key(&ep),
                                    format!("unknown event name `{en}` in errors"),
                                )
                            })?;
                        c.errors.push((bit as usize, self.error_code(ev, &ep)?));
                    }
                }
                "signaled" => c.signaled = Some(self.name(val, &p, NameKind::Event, false)?),
                "apcs" | "apcs_unordered" => {
                    let seq = self.want(
                        val.as_sequence(),
                        &p,
                        "a list of { routine, error, bytes, overlapped, flags }",
                        val,
                    )?;
                    let mut list = Vec::new();
                    for (j, a) in seq.iter().enumerate() {
                        let ap = [K("steps"), I(i), K("expect"), K(key), I(j)];
                        let am =
                            self.map(a, &ap, "a map { routine, error, bytes, overlapped, flags }")?;
                        self.check_keys(
                            am,
                            &["routine", "error", "bytes", "overlapped", "flags"],
                            &ap,
                            "an apc",
                        )?;
                        let f =
                            |k: &'static str| [K("steps"), I(i), K("expect"), K(key), I(j), K(k)];
                        let routine = match am.get("routine") {
                            Some(r) => self.name(r, &f("routine"), NameKind::Routine, false)?,
                            None => {
                                return Err(self.err(self.loc.key(&ap), "an apc needs `routine:`"))
                            }
                        };
                        list.push(ApcExp {
                            routine,
                            error: am
                                .get("error")
                                .map(|e| self.error_code(e, &f("error")))
                                .transpose()?,
                            bytes: am
                                .get("bytes")
                                .map(|e| self.u32(e, &f("bytes")))
                                .transpose()?,
                            overlapped: match am.get("overlapped") {
                                Some(o) => Some(self.name(
                                    o,
                                    &f("overlapped"),
                                    NameKind::Overlapped,
                                    false,
                                )?),
                                None => None,
                            },
                            flags: am
                                .get("flags")
                                .map(|e| self.u32(e, &f("flags")))
                                .transpose()?,
                        });
                    }
                    c.apcs = Some((list, key == "apcs"));
                }
                "bytes" => c.bytes = Some(self.u32(val, &p)?),
                "key" => c.key = Some(self.u64(val, &p)?),
                "overlapped" => {
                    c.overlapped = Some(match val {
                        Value::Null => None,
                        _ => Some(self.name(val, &p, NameKind::Overlapped, false)?),
                    })
                }
                "flags" => c.flags = Some(self.u32(val, &p)?),
                "internal" => {
                    // A status name, or a number in any form `u32` reads.
                    let named = val.as_str().and_then(NtStatus::from_name);
                    c.internal = Some(match named {
                        Some(st) => st,
                        None if val
                            .as_str()
                            .is_some_and(|s| !s.trim().to_ascii_lowercase().starts_with("0x")) =>
                        {
                            let s = val.as_str().unwrap_or_default();
                            return Err(self.err(self.loc.value(&p), format!("unknown status name `{s}` (expected a name such as STATUS_PENDING, or a number)")));
                        }
                        None => NtStatus(self.u32(val, &p)?),
                    })
                }
                "internal_high" => c.internal_high = Some(self.u64(val, &p)?),
                _ => unreachable_key(key),
            }
        }
        Ok(Expect::Check(Box::new(c)))
    }

    fn out_form(&mut self, v: &Value, p: &[Seg]) -> R<OutForm> {
        const FORMS: &str =
            "u32, bool, hex, sockaddr, address_list, interface_list, handle, nonzero";
        let m = match v {
            Value::Mapping(m) if m.len() == 1 => m,
            _ => {
                return Err(self.err(
                    self.loc.value(p),
                    format!("`out` must be a map with one form ({FORMS})"),
                ))
            }
        };
        let (k, val) = m.iter().next().expect("one entry");
        let Some(key) = k.as_str() else {
            return Err(self.err(
                self.loc.value(p),
                format!(
                    "an `out` form is a plain name ({FORMS}), found {}",
                    type_name(k)
                ),
            ));
        };
        let mut fp = p.to_vec();
        fp.push(K(key));
        Ok(match key {
            "u32" => OutForm::U32(self.u32(val, &fp)?),
            "bool" => OutForm::Bool(self.bool(val, &fp)?),
            "hex" => OutForm::Hex(
                parse_hex(self.str(val, &fp)?).map_err(|e| self.err(self.loc.value(&fp), e))?,
            ),
            "sockaddr" => {
                let (ip, port) = parse_sockaddr_text(self.str(val, &fp)?, true)
                    .map_err(|e| self.err(self.loc.value(&fp), e))?;
                OutForm::Sockaddr(ip, port)
            }
            "address_list" => {
                let seq = self.want(val.as_sequence(), &fp, "a list of addresses", val)?;
                let mut list = Vec::new();
                for (j, a) in seq.iter().enumerate() {
                    let mut ap = fp.clone();
                    ap.push(I(j));
                    let s = self.str(a, &ap)?;
                    let entry = match s.parse::<IpAddr>() {
                        Ok(ip) => (ip, None),
                        Err(_) => parse_sockaddr_text(s, true)
                            .map_err(|e| self.err(self.loc.key(&ap), e))?,
                    };
                    list.push(entry);
                }
                OutForm::AddressList(list)
            }
            "interface_list" => {
                let seq = self.want(val.as_sequence(), &fp, "a list of interface entries", val)?;
                let mut list = Vec::new();
                for (j, e) in seq.iter().enumerate() {
                    let mut ep = fp.clone();
                    ep.push(I(j));
                    let em = self.map(e, &ep, "a map { address, netmask, broadcast, flags }")?;
                    self.check_keys(
                        em,
                        &["address", "netmask", "broadcast", "flags"],
                        &ep,
                        "an interface entry",
                    )?;
                    let mut entry = IfEntry::default();
                    for (fk, fv) in em {
                        let f = fk.as_str().expect("checked");
                        let mut xp = ep.clone();
                        xp.push(K(f));
                        match f {
                            "address" => entry.address = Some(self.ip(fv, &xp)?),
                            "netmask" => entry.netmask = Some(self.ip(fv, &xp)?),
                            "broadcast" => entry.broadcast = Some(self.ip(fv, &xp)?),
                            _ => {
                                let fl = self.want(fv.as_sequence(), &xp, "a list of flags", fv)?;
                                let mut bits = 0;
                                for x in fl {
                                    let name = self.str(x, &xp)?;
                                    bits |= IFF_NAMES.iter().find(|(n, _)| *n == name).map(|x| x.1).ok_or_else(|| {
                                        self.err(self.loc.value(&xp), format!("unknown interface flag `{name}` (expected up, broadcast, loopback, pointtopoint, multicast)"))
                                    })?;
                                }
                                entry.flags = Some(bits);
                            }
                        }
                    }
                    list.push(entry);
                }
                OutForm::InterfaceList(list)
            }
            "handle" => OutForm::Handle(self.name(val, &fp, NameKind::Socket, false)?),
            "nonzero" => {
                if !self.bool(val, &fp)? {
                    return Err(self.err(self.loc.value(&fp), "`nonzero` can only be true"));
                }
                OutForm::Nonzero
            }
            other => {
                return Err(self.err(
                    self.loc.key(&fp),
                    format!(
                        "unknown `out` form `{other}`; {}expected one of: {FORMS}",
                        hint(
                            other,
                            &[
                                "u32",
                                "bool",
                                "hex",
                                "sockaddr",
                                "address_list",
                                "interface_list",
                                "handle",
                                "nonzero"
                            ]
                        )
                    ),
                ))
            }
        })
    }
}

fn action_key(a: &str) -> &'static str {
    ACTIONS.iter().find(|x| **x == a).copied().unwrap_or("")
}

fn unreachable_key(key: &str) -> ! {
    panic!("invariant: expectation key `{key}` passed check_keys but has no parser")
}

/// One step of the path to a tagged node.
enum TagPath {
    Key(String),
    Index(usize),
}

/// The first tagged key or value in the document, depth first, with its path.
fn first_tag(v: &Value, at: &mut Vec<TagPath>) -> Option<&'static str> {
    match v {
        Value::Tagged(_) => Some("a tagged value"),
        Value::Sequence(seq) => seq.iter().enumerate().find_map(|(i, x)| {
            at.push(TagPath::Index(i));
            let found = first_tag(x, at);
            if found.is_none() {
                at.pop();
            }
            found
        }),
        Value::Mapping(m) => m.iter().find_map(|(k, x)| {
            if matches!(k, Value::Tagged(_)) {
                return Some("a tagged key");
            }
            at.push(TagPath::Key(k.as_str().unwrap_or_default().to_string()));
            let found = first_tag(x, at);
            if found.is_none() {
                at.pop();
            }
            found
        }),
        _ => None,
    }
}

/// Names scenarios may use for values the error table spells another way: Winsock's
/// names of the wait results and Win32's names of the overlapped statuses.
fn error_alias(name: &str) -> Option<ErrorCode> {
    Some(match name {
        "WSA_WAIT_TIMEOUT" => ErrorCode::WAIT_TIMEOUT,
        "WSA_WAIT_IO_COMPLETION" => ErrorCode::WAIT_IO_COMPLETION,
        "ERROR_IO_PENDING" => ErrorCode::WSA_IO_PENDING,
        "ERROR_IO_INCOMPLETE" => ErrorCode::WSA_IO_INCOMPLETE,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(src: &str) -> ScenarioError {
        parse_scenario("t.yaml", src).unwrap_err()
    }

    #[test]
    fn a_misspelt_expect_is_refused_at_its_key() {
        let e = err("name: x\nsteps:\n  - socket: s\n    expct: ok\n");
        assert_eq!((e.line, e.column), (4, 5));
        assert!(e.message.contains("unknown key `expct`"), "{}", e.message);
        assert!(e.message.contains("did you mean `expect`"), "{}", e.message);
    }

    #[test]
    fn a_socket_used_before_it_exists_is_refused() {
        let e = err("name: x\nsteps:\n  - ioctl: s\n    code: FIONBIO\n");
        assert_eq!((e.line, e.column), (3, 12));
        assert!(e.message.contains("used before it exists"));
    }

    #[test]
    fn the_default_host_is_used_when_none_is_given() {
        let s = parse_scenario("t.yaml", "name: x\nsteps: []\n").unwrap();
        assert_eq!(s.network, Network::default_host());
    }

    #[test]
    fn in_len_pads_the_encoded_bytes_with_zeros() {
        let s = parse_scenario(
            "t.yaml",
            "name: x\nsteps:\n  - socket: s\n  - ioctl: s\n    code: FIONBIO\n    in: { u32: 1 }\n    in_len: 6\n",
        )
        .unwrap();
        let Action::Ioctl(io) = &s.steps[1].action else {
            panic!("not an ioctl")
        };
        assert_eq!(io.input, InSpec::Bytes(vec![1, 0, 0, 0, 0, 0]));
    }

    #[test]
    fn pending_is_shorthand_for_socket_error_and_io_pending() {
        let s = parse_scenario(
            "t.yaml",
            "name: x\nsteps:\n  - socket: s\n  - ioctl: s\n    code: SIO_ADDRESS_LIST_CHANGE\n    overlapped: ov\n    expect: { pending: true }\n",
        )
        .unwrap();
        let Expect::Check(c) = &s.steps[1].expect else {
            panic!("no checks")
        };
        assert_eq!(c.result, Some(ResultVal::Int(-1)));
        assert_eq!(c.error, Some(ErrorCode::WSA_IO_PENDING));
    }
}

#[cfg(test)]
mod fuzz {
    use super::parse_scenario;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_bytes_never_panic_the_parser(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let text = String::from_utf8_lossy(&bytes);
            let _ = parse_scenario("fuzz.yaml", &text);
        }

        #[test]
        fn a_tagged_step_key_is_refused_with_its_position(tag in "![A-Za-z0-9+]{0,6}") {
            let text = format!("name: x\nsteps:\n  - {tag} socket: s\n");
            let e = parse_scenario("fuzz.yaml", &text).expect_err("tags are refused");
            prop_assert_eq!(e.line, 3);
            prop_assert!(e.message.contains("YAML tags"), "{}", e.message);
        }

        #[test]
        fn a_tagged_key_in_an_out_form_is_an_error_not_a_hang(tag in "![A-Za-z0-9+]{1,6}") {
            let text = format!("name: x\nsteps:\n  - socket: s\n  - ioctl: s\n    code: FIONBIO\n    expect: {{ out: {{ {tag}u32: 1 }} }}\n");
            let e = parse_scenario("fuzz.yaml", &text).expect_err("a tagged key is no out form");
            prop_assert_eq!(e.line, 6);
        }

        #[test]
        fn mutated_scenarios_never_panic_the_parser(cut in 0usize..400, insert in "[ -~\n]{0,12}") {
            let base = "name: x\nsteps:\n  - socket: s\n  - ioctl: s\n    code: FIONBIO\n    in: { u32: 1 }\n    out_len: 4\n    expect: { result: 0, out: { u32: 1 }, bytes_returned: untouched }\n  - wait: [a, b]\n    timeout: 0\n";
            let at = cut.min(base.len());
            let text = format!("{}{}{}", &base[..at], insert, &base[at..]);
            if let Err(e) = parse_scenario("fuzz.yaml", &text) {
                prop_assert!(e.line >= 1 && e.column >= 1);
            }
        }
    }
}
