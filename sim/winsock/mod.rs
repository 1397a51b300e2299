//! Application calls other than the ioctls: socket life and data (`sockets`). Each
//! method is named after the Winsock function it models and documented from its name.

mod asyncio;
mod sockets;

pub use asyncio::{
    GqcsOutcome, NetChange, NetworkEventsReport, OverlappedResult, Released, WaitOutcome,
    WaitResult,
};
pub use sockets::{MsgFlags, SockResult};
