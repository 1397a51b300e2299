//! The socket handle table: SOCKET values map to socket state.
//!
//! Socket handles come from their own counter (0x100, 0x104, ... like kernel handles,
//! never reused), so a handle's position in the table is computed, not searched: the
//! table is a list of fixed pages of 64 slots. Lookups cost one division, iteration runs
//! in handle order, and an idle socket costs its slot and nothing else (a map's nodes
//! would roughly double that). A page whose sockets are all closed is freed.

use std::ops::Index;

use super::socket::SocketState;
use super::Socket;

/// The first socket handle value.
pub const FIRST_SOCKET: u64 = 0x100;
const STEP: u64 = 4;
const PAGE: usize = 64;

struct Page {
    live: u32,
    slots: Box<[Option<SocketState>]>,
}

impl Clone for Page {
    fn clone(&self) -> Self {
        Page {
            live: self.live,
            slots: self.slots.clone(),
        }
    }
}

/// Open sockets by handle.
#[derive(Clone, Default)]
pub struct SocketTable {
    pages: Vec<Option<Page>>,
    issued: u64,
}

impl std::fmt::Debug for SocketTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

fn position(s: Socket) -> Option<(usize, usize)> {
    let n = s.0.checked_sub(FIRST_SOCKET)?;
    if n % STEP != 0 {
        return None;
    }
    let i = usize::try_from(n / STEP).ok()?;
    Some((i / PAGE, i % PAGE))
}

impl SocketTable {
    /// Issues the next handle and stores the socket under it.
    pub fn open(&mut self, state: SocketState) -> Socket {
        let s = Socket(FIRST_SOCKET + self.issued * STEP);
        self.issued += 1;
        let (p, slot) = position(s).expect("invariant: issued handles map to a slot");
        if self.pages.len() <= p {
            self.pages.resize_with(p + 1, || None);
        }
        let page = self.pages[p].get_or_insert_with(|| Page {
            live: 0,
            slots: (0..PAGE).map(|_| None).collect(),
        });
        page.slots[slot] = Some(state);
        page.live += 1;
        s
    }

    /// The state of an open socket.
    pub fn get(&self, s: &Socket) -> Option<&SocketState> {
        let (p, slot) = position(*s)?;
        self.pages.get(p)?.as_ref()?.slots[slot].as_ref()
    }

    /// The state of an open socket, mutably.
    pub fn get_mut(&mut self, s: &Socket) -> Option<&mut SocketState> {
        let (p, slot) = position(*s)?;
        self.pages.get_mut(p)?.as_mut()?.slots[slot].as_mut()
    }

    /// True while the handle names an open socket.
    pub fn contains_key(&self, s: &Socket) -> bool {
        self.get(s).is_some()
    }

    /// Closes a handle, returning the socket's last state.
    pub fn remove(&mut self, s: &Socket) -> Option<SocketState> {
        let (p, slot) = position(*s)?;
        let page_slot = self.pages.get_mut(p)?;
        let page = page_slot.as_mut()?;
        let st = page.slots[slot].take()?;
        page.live -= 1;
        if page.live == 0 {
            *page_slot = None;
        }
        Some(st)
    }

    /// Open sockets in handle order.
    pub fn iter(&self) -> impl Iterator<Item = (Socket, &SocketState)> {
        self.pages.iter().enumerate().flat_map(|(p, page)| {
            page.iter().flat_map(move |page| {
                page.slots.iter().enumerate().filter_map(move |(i, st)| {
                    st.as_ref()
                        .map(|st| (Socket(FIRST_SOCKET + ((p * PAGE + i) as u64) * STEP), st))
                })
            })
        })
    }
}

impl Index<&Socket> for SocketTable {
    type Output = SocketState;

    fn index(&self, s: &Socket) -> &SocketState {
        self.get(s)
            .expect("invariant: indexed sockets are open (use get for caller handles)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::socket::{AddressFamily, SocketType};

    fn tcp() -> SocketState {
        SocketState::new(AddressFamily::Inet, SocketType::Stream, 6, true)
    }

    #[test]
    fn handles_are_issued_in_steps_of_four_and_never_reused() {
        let mut t = SocketTable::default();
        let a = t.open(tcp());
        let b = t.open(tcp());
        assert_eq!((a.0, b.0), (0x100, 0x104));
        t.remove(&a);
        assert_eq!(t.open(tcp()).0, 0x108);
        assert!(!t.contains_key(&a));
    }

    #[test]
    fn handles_that_were_never_issued_are_not_found() {
        let mut t = SocketTable::default();
        t.open(tcp());
        for h in [0u64, 0xFF, 0x101, 0x104, u64::MAX] {
            assert!(t.get(&Socket(h)).is_none(), "{h:#x}");
        }
    }

    #[test]
    fn iteration_is_in_handle_order_and_skips_closed_sockets() {
        let mut t = SocketTable::default();
        let all: Vec<Socket> = (0..150).map(|_| t.open(tcp())).collect();
        for s in all.iter().step_by(3) {
            t.remove(s);
        }
        let seen: Vec<Socket> = t.iter().map(|(s, _)| s).collect();
        let want: Vec<Socket> = all
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 3 != 0)
            .map(|(_, s)| *s)
            .collect();
        assert_eq!(seen, want);
    }

    #[test]
    fn a_page_of_closed_sockets_is_freed() {
        let mut t = SocketTable::default();
        let all: Vec<Socket> = (0..64).map(|_| t.open(tcp())).collect();
        for s in &all {
            t.remove(s);
        }
        assert!(t.pages[0].is_none());
    }
}
