//! Output buffers are capacities: a caller may pass `cbOutBuffer` = 4 GiB - 1 and the
//! model allocates only what it writes, for every code in the table.

use wsasim::codes::CODES;
use wsasim::ioctl::IoctlCall;
use wsasim::model::{AddressFamily, Host, SocketType};

#[test]
fn a_4_gib_output_capacity_allocates_only_what_each_code_writes() {
    let mut host = Host::default_host();
    let tcp = host
        .socket_default(AddressFamily::Inet, SocketType::Stream)
        .unwrap();
    let udp = host
        .socket_default(AddressFamily::Inet, SocketType::Dgram)
        .unwrap();
    let input = [0u8; 16];
    for code in CODES {
        for s in [tcp, udp] {
            for call in [
                IoctlCall::new(s, code.code).out_len(u32::MAX),
                IoctlCall::new(s, code.code).input(&input).out_len(u32::MAX),
            ] {
                if let Some(o) = host.wsa_ioctl(call).returned() {
                    assert!(
                        o.out.capacity() <= 4096,
                        "{} allocated {} bytes",
                        code.name,
                        o.out.capacity()
                    );
                }
            }
        }
    }
}
