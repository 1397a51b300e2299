//! Application calls other than the ioctls: socket life and data (`sockets`), and the
//! asynchronous machinery (`asyncio` and the modules it names: events and waits, ports,
//! selections, host changes). Each method is named after the Winsock function it models
//! and documented from its name.

mod asyncio;
mod changes;
mod iocp;
mod select;
mod sockets;
mod sync;

pub use asyncio::{
    GqcsOutcome, NetChange, NetworkEventsReport, OverlappedResult, Released, WaitOutcome,
    WaitResult,
};
pub use sockets::{MsgFlags, SockResult};
