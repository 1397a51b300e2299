//! Virtual time. The model never reads a clock: time is a number of milliseconds that
//! the caller advances (`Host::handle_advance`), so every run sees the same instants.

use std::fmt;

/// A point in virtual time, in milliseconds since the host was built.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Instant(pub u64);

/// A span of virtual time in milliseconds; `INFINITE` never elapses.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Timeout(pub u32);

impl Timeout {
    /// Windows' `INFINITE` (0xFFFFFFFF): wait until something happens.
    pub const INFINITE: Timeout = Timeout(u32::MAX);

    /// True for `INFINITE`.
    pub fn is_infinite(self) -> bool {
        self == Timeout::INFINITE
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={}ms", self.0)
    }
}
