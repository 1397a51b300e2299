//! What an idle socket costs: the heap bytes the host holds per open socket, measured
//! with a counting allocator over 10,000 sockets (so the socket table's own nodes are
//! included, not only `size_of::<SocketState>()`). Target: under 256 bytes.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use wsasim::model::{AddressFamily, Host, SocketType};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::SeqCst);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::SeqCst);
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

#[test]
fn an_idle_socket_costs_under_256_bytes_of_heap() {
    const N: isize = 10_000;
    let mut host = Host::default_host();
    let before = LIVE.load(Ordering::SeqCst);
    for _ in 0..N {
        host.wsa_socket(AddressFamily::Inet, SocketType::Stream, 0, true)
            .expect("a TCP socket opens");
    }
    let per_socket = (LIVE.load(Ordering::SeqCst) - before) / N;
    println!(
        "idle socket: {per_socket} bytes of heap each (size_of SocketState = {})",
        std::mem::size_of::<wsasim::model::SocketState>()
    );
    assert!(per_socket < 256, "an idle socket costs {per_socket} bytes");
}
