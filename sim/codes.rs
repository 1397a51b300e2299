//! Ioctl control codes: one table of every code wsasim knows, and the decoder for the
//! reference's bit layout.
//!
//! The reference ("WSAIoctl", section on `dwIoControlCode`) lays a code out as
//! `I O V T T F F F F F F F F F F F C...C`: bit 31 says the input buffer is used, bit 30
//! the output buffer, bit 29 that there are no parameters, bits 28..27 the type
//! (0 Unix, 1 generic Winsock 2, 2 address family, 3 vendor), bits 26..16 the 11-bit
//! vendor/address-family field and bits 15..0 the code. Values are those of the
//! Windows SDK headers (`_WSAIO*` and `_IO*` macros), as listed in section 3 of the
//! Windows observations.

use std::fmt;

/// A `dwIoControlCode`. Any 32-bit value is representable; known ones print by name,
/// unknown ones in hex.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct IoctlCode(pub u32);

/// The 2-bit `T` field of a control code.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CodeType {
    /// T == 0: a standard Unix ioctl such as FIONREAD.
    Unix,
    /// T == 1: a generic Windows Sockets 2 ioctl.
    Winsock2,
    /// T == 2: applies to one address family only.
    AddressFamily,
    /// T == 3: owned by one vendor's provider.
    Vendor,
}

impl CodeType {
    /// The reference's name for the type, as `wsasim decode` prints it.
    pub fn describe(self) -> &'static str {
        match self {
            CodeType::Unix => "Unix ioctl (T=0)",
            CodeType::Winsock2 => "generic Winsock 2 (T=1)",
            CodeType::AddressFamily => "address family specific (T=2)",
            CodeType::Vendor => "vendor specific (T=3)",
        }
    }
}

/// The fields of a control code, decoded as the reference lays them out.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct CodeFields {
    /// I: the input buffer is valid for the code.
    pub input: bool,
    /// O: the output buffer is valid for the code.
    pub output: bool,
    /// V: the code takes no parameters.
    pub void: bool,
    /// T: which kind of ioctl this is.
    pub kind: CodeType,
    /// The 11-bit vendor / address family field (the parameter size for Unix codes).
    pub family: u16,
    /// The 16-bit code proper.
    pub number: u16,
}

impl CodeFields {
    /// Builds the 32-bit code back from its fields.
    pub fn encode(self) -> IoctlCode {
        let t = match self.kind {
            CodeType::Unix => 0u32,
            CodeType::Winsock2 => 1,
            CodeType::AddressFamily => 2,
            CodeType::Vendor => 3,
        };
        IoctlCode(
            (self.input as u32) << 31
                | (self.output as u32) << 30
                | (self.void as u32) << 29
                | t << 27
                | (u32::from(self.family) & 0x7ff) << 16
                | u32::from(self.number),
        )
    }
}

/// How faithfully wsasim models a code (the style guide's fidelity tags).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Fidelity {
    /// The model computes the answer from its state, and the answer changes behaviour.
    Simulated,
    /// The model validates and keeps the value so that later reads see it; nothing else
    /// in the model depends on it.
    Stored,
    /// Windows (its TCP/IP provider) does not support the code; the model gives Windows'
    /// defined failure.
    Unsupported,
}

/// One row of the code table.
#[derive(Clone, Copy, Debug)]
pub struct CodeInfo {
    /// The SDK name, such as `SIO_ADDRESS_LIST_QUERY`.
    pub name: &'static str,
    /// The 32-bit value.
    pub code: IoctlCode,
    /// One line saying what the code does.
    pub doc: &'static str,
    /// How the model treats it.
    pub fidelity: Fidelity,
}

macro_rules! codes {
    ($( $(#[doc = $doc:literal])* $name:ident = $value:literal, $fid:ident; )*) => {
        impl IoctlCode {
            $(
                $(#[doc = $doc])*
                pub const $name: IoctlCode = IoctlCode($value);
            )*
        }

        /// Every code wsasim knows, in table order.
        pub const CODES: &[CodeInfo] = &[
            $( CodeInfo {
                name: stringify!($name),
                code: IoctlCode($value),
                doc: concat!($($doc),*),
                fidelity: Fidelity::$fid,
            }, )*
        ];
    };
}

codes! {
    /// Sets (non-zero) or clears non-blocking mode; input u_long.
    FIONBIO = 0x8004_667E, Simulated;
    /// Returns how many bytes one receive can read; output u_long.
    FIONREAD = 0x4004_667F, Simulated;
    /// BSD's asynchronous-I/O switch, which Windows does not support.
    FIOASYNC = 0x8004_667D, Unsupported;
    /// Returns TRUE when no out-of-band data waits to be read; output BOOL.
    SIOCATMARK = 0x4004_7307, Simulated;
    /// Associates the socket with a companion interface's handle.
    SIO_ASSOCIATE_HANDLE = 0x8800_0001, Stored;
    /// Drops the oldest datagram instead of the newest when the receive queue overflows.
    SIO_ENABLE_CIRCULAR_QUEUEING = 0x2800_0002, Simulated;
    /// Asks the provider to discover the route to an address (an IPX relic).
    SIO_FIND_ROUTE = 0x4800_0003, Unsupported;
    /// Discards the socket's send queue.
    SIO_FLUSH = 0x2800_0004, Unsupported;
    /// Returns a broadcast SOCKADDR suitable for sendto.
    SIO_GET_BROADCAST_ADDRESS = 0x4800_0005, Simulated;
    /// Returns the address of an extension function named by its GUID.
    SIO_GET_EXTENSION_FUNCTION_POINTER = 0xC800_0006, Simulated;
    /// Would return the socket's QOS; Windows' TCP/IP provider has no QoS (WSAENOPROTOOPT).
    SIO_GET_QOS = 0xC800_0007, Unsupported;
    /// Reserved: returns a socket group's QOS.
    SIO_GET_GROUP_QOS = 0xC800_0008, Unsupported;
    /// Turns loopback of multipoint (multicast) data on or off; input BOOL.
    SIO_MULTIPOINT_LOOPBACK = 0x8800_0009, Stored;
    /// Sets the multicast scope (IP TTL); input int.
    SIO_MULTICAST_SCOPE = 0x8800_000A, Stored;
    /// Would set the socket's QOS; Windows' TCP/IP provider has no QoS (WSAENOPROTOOPT).
    SIO_SET_QOS = 0x8800_000B, Unsupported;
    /// Reserved: sets a socket group's QOS.
    SIO_SET_GROUP_QOS = 0x8800_000C, Unsupported;
    /// Returns the handle of the socket in a companion interface.
    SIO_TRANSLATE_HANDLE = 0xC800_000D, Stored;
    /// Returns the local interface address used to reach a destination.
    SIO_ROUTING_INTERFACE_QUERY = 0xC800_0014, Simulated;
    /// Completes when the interface used to reach a destination changes.
    SIO_ROUTING_INTERFACE_CHANGE = 0x8800_0015, Simulated;
    /// Returns the list of local addresses of the socket's family that can be bound.
    SIO_ADDRESS_LIST_QUERY = 0x4800_0016, Simulated;
    /// Completes when the list of bindable local addresses changes.
    SIO_ADDRESS_LIST_CHANGE = 0x2800_0017, Simulated;
    /// Sorts a list of destination addresses by preference (simplified RFC 6724 order).
    SIO_ADDRESS_LIST_SORT = 0xC800_0019, Simulated;
    /// Returns the base service provider's handle for a layered socket.
    SIO_BSP_HANDLE = 0x4800_001B, Simulated;
    /// Returns the base provider's handle to use with select.
    SIO_BSP_HANDLE_SELECT = 0x4800_001C, Simulated;
    /// Returns the base provider's handle to use with WSAPoll.
    SIO_BSP_HANDLE_POLL = 0x4800_001D, Simulated;
    /// Returns the base (non-layered) socket handle.
    SIO_BASE_HANDLE = 0x4800_0022, Simulated;
    /// Puts a raw IP socket (IPv4 or IPv6) into receive-all mode; input RCVALL_VALUE.
    SIO_RCVALL = 0x9800_0001, Stored;
    /// Receives all multicast traffic on a raw UDP socket; input RCVALL_VALUE.
    SIO_RCVALL_MCAST = 0x9800_0002, Stored;
    /// Receives all IGMP multicast traffic on a raw IGMP socket; input RCVALL_VALUE.
    SIO_RCVALL_IGMPMCAST = 0x9800_0003, Stored;
    /// Sets per-connection keep-alive on/off, time and interval; input tcp_keepalive.
    SIO_KEEPALIVE_VALS = 0x9800_0004, Stored;
    /// Turns reporting of ICMP port-unreachable as WSAECONNRESET on UDP on or off.
    SIO_UDP_CONNRESET = 0x9800_000C, Stored;
    /// Enables the TCP loopback fast path before connect; input BOOL-sized int.
    SIO_LOOPBACK_FAST_PATH = 0x9800_0010, Stored;
    /// Returns TCP connection statistics (TCP_INFO_v0 or v1).
    SIO_TCP_INFO = 0xD800_0027, Simulated;
    /// Returns the host's addresses of the socket's family as INTERFACE_INFO records.
    SIO_GET_INTERFACE_LIST = 0x4004_747F, Simulated;
    /// Returns the ideal send backlog of a connected TCP socket; output ULONG.
    SIO_IDEAL_SEND_BACKLOG_QUERY = 0x4004_747B, Simulated;
    /// Completes when the ideal send backlog changes.
    SIO_IDEAL_SEND_BACKLOG_CHANGE = 0x2000_747A, Simulated;
}

impl IoctlCode {
    /// The table row of a known code.
    pub fn info(self) -> Option<&'static CodeInfo> {
        CODES.iter().find(|c| c.code == self)
    }

    /// The SDK name of a known code.
    pub fn name(self) -> Option<&'static str> {
        self.info().map(|c| c.name)
    }

    /// Looks a code up by its SDK name (exact, upper case).
    pub fn from_name(name: &str) -> Option<IoctlCode> {
        CODES.iter().find(|c| c.name == name).map(|c| c.code)
    }

    /// Parses a name, a decimal number or a `0x` hexadecimal number.
    pub fn parse(text: &str) -> Option<IoctlCode> {
        let t = text.trim();
        if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
            return u32::from_str_radix(&hex.replace('_', ""), 16)
                .ok()
                .map(IoctlCode);
        }
        if let Ok(n) = t.parse::<u32>() {
            return Some(IoctlCode(n));
        }
        IoctlCode::from_name(t)
    }

    /// Decodes the reference's fields.
    pub fn fields(self) -> CodeFields {
        let v = self.0;
        CodeFields {
            input: v & 0x8000_0000 != 0,
            output: v & 0x4000_0000 != 0,
            void: v & 0x2000_0000 != 0,
            kind: match (v >> 27) & 3 {
                0 => CodeType::Unix,
                1 => CodeType::Winsock2,
                2 => CodeType::AddressFamily,
                _ => CodeType::Vendor,
            },
            family: ((v >> 16) & 0x7ff) as u16,
            number: (v & 0xffff) as u16,
        }
    }
}

impl fmt::Display for IoctlCode {
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
    use quickcheck::quickcheck;

    #[test]
    fn fionread_decodes_as_an_output_unix_code() {
        let f = IoctlCode::FIONREAD.fields();
        assert!(f.output && !f.input && !f.void);
        assert_eq!(f.kind, CodeType::Unix);
        assert_eq!(f.family, 4);
        assert_eq!(f.number, 0x667F);
    }

    #[test]
    fn address_list_change_is_a_void_winsock2_code() {
        let f = IoctlCode::SIO_ADDRESS_LIST_CHANGE.fields();
        assert!(f.void && !f.input && !f.output);
        assert_eq!(f.kind, CodeType::Winsock2);
        assert_eq!(f.number, 23);
    }

    #[test]
    fn keepalive_vals_is_a_vendor_input_code() {
        let f = IoctlCode::SIO_KEEPALIVE_VALS.fields();
        assert!(f.input && !f.output);
        assert_eq!(f.kind, CodeType::Vendor);
        assert_eq!(f.number, 4);
    }

    #[test]
    fn the_table_has_no_duplicate_names_or_values() {
        for (i, a) in CODES.iter().enumerate() {
            for b in &CODES[i + 1..] {
                assert_ne!(a.name, b.name);
                assert_ne!(a.code, b.code, "{} and {}", a.name, b.name);
            }
        }
    }

    #[test]
    fn known_codes_print_by_name_and_unknown_ones_in_hex() {
        assert_eq!(IoctlCode::SIO_FLUSH.to_string(), "SIO_FLUSH");
        assert_eq!(IoctlCode(0xDEADBEEF).to_string(), "0xDEADBEEF");
        assert_eq!(IoctlCode(0x667E).to_string(), "0x0000667E");
    }

    #[test]
    fn parse_accepts_names_hex_and_decimal() {
        assert_eq!(IoctlCode::parse("FIONBIO"), Some(IoctlCode::FIONBIO));
        assert_eq!(
            IoctlCode::parse("0x48000016"),
            Some(IoctlCode::SIO_ADDRESS_LIST_QUERY)
        );
        assert_eq!(IoctlCode::parse("26238"), Some(IoctlCode(26238)));
        assert_eq!(IoctlCode::parse("SIO_NOPE"), None);
    }

    quickcheck! {
        fn every_code_round_trips_through_its_fields(v: u32) -> bool {
            IoctlCode(v).fields().encode() == IoctlCode(v)
        }

        fn every_code_round_trips_through_its_printed_form(v: u32) -> bool {
            IoctlCode::parse(&IoctlCode(v).to_string()) == Some(IoctlCode(v))
        }
    }
}
