//! wsasim: a deterministic simulator of the Windows Sockets ioctl subsystem.

pub mod wire;
