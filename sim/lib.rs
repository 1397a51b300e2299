//! wsasim: a deterministic simulator of the Windows Sockets ioctl subsystem.
//!
//! A [`Host`](model::Host) is a simulated Windows machine: its interfaces, addresses and
//! routes, its sockets, and the asynchronous machinery (OVERLAPPED records, events,
//! completion ports, completion routines, threads). Application calls on it answer as
//! Windows does: the same return value, the same last error, the same bytes written or
//! left untouched.
//!
//! Modules, from the bottom layer up (a lower layer never imports a higher one):
//! - [`codes`]: the table of ioctl control codes and the decoder of their bit layout.
//! - [`errors`]: the tables of Winsock/Win32 errors and NTSTATUS values, and their mapping.
//! - [`time`]: virtual time; the model never reads a clock.
//! - [`wire`]: byte layouts (SOCKADDR, SOCKET_ADDRESS_LIST, INTERFACE_INFO, ...).
//! - [`model`]: the state: host, network, sockets, asynchronous operations.
//! - [`outcome`]: outcome records, one per call.
//! - [`ioctl`]: `WSAIoctl` and `ioctlsocket`, one module per ioctl family.
//! - [`winsock`]: the other application calls (sockets, data).
//! - [`scenario`]: YAML scenarios: parsing, replay on a `Host`, traces and reports.
//! - [`backend`]: what performs a scenario's steps: the model, or (`--features winsock`
//!   on Windows) the real Winsock API.
//! - [`diff`]: the differential mode: the same steps on two backends, compared.

//!
//! ```
//! use wsasim::model::{Host, AddressFamily, SocketType};
//! use wsasim::codes::IoctlCode;
//! use wsasim::ioctl::IoctlCall;
//!
//! let mut host = Host::default_host();
//! let s = host.socket_default(AddressFamily::Inet, SocketType::Stream).unwrap();
//! let one = 1u32.to_le_bytes();
//! let outcome = host
//!     .wsa_ioctl(IoctlCall::new(s, IoctlCode::FIONBIO).input(&one))
//!     .returned()
//!     .unwrap();
//! assert_eq!(outcome.result, 0);
//! ```

// Unsafe code only in the real Winsock backend (Windows, `--features winsock`).
#![cfg_attr(not(all(windows, feature = "winsock")), forbid(unsafe_code))]
#![cfg_attr(all(windows, feature = "winsock"), deny(unsafe_code))]
#![warn(missing_docs)]

pub mod backend;
pub mod codes;
pub mod diff;
pub mod errors;
pub mod ioctl;
pub mod model;
pub mod outcome;
pub mod scenario;
pub mod time;
pub mod winsock;
pub mod wire;
