//! Nanoseconds per `WSAIoctl` call through `Host::wsa_ioctl`: FIONBIO, FIONREAD,
//! SIO_ADDRESS_LIST_QUERY with 16 addresses, and SIO_ROUTING_INTERFACE_QUERY with 10
//! and 10,000 routes. Short measurement windows keep `cargo bench` under a minute.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use wsasim::codes::IoctlCode;
use wsasim::ioctl::IoctlCall;
use wsasim::model::net::{IfAddress, Interface, Prefix, Route};
use wsasim::model::{AddressFamily, Host, InterfaceKind, Network, SocketType};
use wsasim::wire::sockaddr::emit_sockaddr;

/// The default host plus `extra` /24 routes 10.a.b.0/24 through a second interface.
fn host_with_routes(extra: u32) -> Host {
    let mut net = Network::default_host();
    net.add_interface(Interface {
        index: 3,
        name: "eth1".into(),
        kind: InterfaceKind::Ethernet,
        up: true,
        addresses: vec![IfAddress::parse("172.16.0.2/16").unwrap()],
    });
    for i in 0..extra {
        let addr = IpAddr::V4(Ipv4Addr::new(10, (i >> 8) as u8, i as u8, 0));
        net.add_route(Route {
            prefix: Prefix::new(addr, 24),
            gateway: Some("172.16.0.1".parse().unwrap()),
            interface: 3,
            metric: 10 + i % 7,
        });
    }
    net.rebuild_index();
    Host::new(net, Default::default())
}

fn routing(c: &mut Criterion, name: &str, routes: u32) {
    let mut host = host_with_routes(routes - 1);
    let s = host
        .socket_default(AddressFamily::Inet, SocketType::Dgram)
        .unwrap();
    // A destination inside the last /24 added.
    let last = routes - 2;
    let dest = SocketAddr::new(
        IpAddr::V4(Ipv4Addr::new(10, (last >> 8) as u8, last as u8, 9)),
        0,
    );
    let mut input = Vec::new();
    emit_sockaddr(&dest, &mut input);
    let check = host
        .wsa_ioctl(
            IoctlCall::new(s, IoctlCode::SIO_ROUTING_INTERFACE_QUERY)
                .input(&input)
                .out_len(16),
        )
        .returned()
        .unwrap();
    assert_eq!(
        check.out[4..8],
        [172, 16, 0, 2],
        "the route under test is used"
    );
    c.bench_function(name, |b| {
        b.iter(|| {
            black_box(
                host.wsa_ioctl(black_box(
                    IoctlCall::new(s, IoctlCode::SIO_ROUTING_INTERFACE_QUERY)
                        .input(&input)
                        .out_len(16),
                )),
            )
        })
    });
}

fn benches(c: &mut Criterion) {
    let mut host = Host::default_host();
    let s = host
        .socket_default(AddressFamily::Inet, SocketType::Stream)
        .unwrap();
    let one = 1u32.to_le_bytes();
    c.bench_function("FIONBIO", |b| {
        b.iter(|| black_box(host.wsa_ioctl(IoctlCall::new(s, IoctlCode::FIONBIO).input(&one))))
    });
    c.bench_function("FIONREAD", |b| {
        b.iter(|| black_box(host.wsa_ioctl(IoctlCall::new(s, IoctlCode::FIONREAD).out_len(4))))
    });

    // 16 listed addresses: eth0's plus 15 on eth1.
    let mut net = Network::default_host();
    net.add_interface(Interface {
        index: 3,
        name: "eth1".into(),
        kind: InterfaceKind::Ethernet,
        up: true,
        addresses: (1..=15)
            .map(|i| IfAddress::parse(&format!("172.16.0.{i}/16")).unwrap())
            .collect(),
    });
    let mut host = Host::new(net, Default::default());
    let s = host
        .socket_default(AddressFamily::Inet, SocketType::Stream)
        .unwrap();
    let check = host
        .wsa_ioctl(IoctlCall::new(s, IoctlCode::SIO_ADDRESS_LIST_QUERY).out_len(4096))
        .returned()
        .unwrap();
    assert_eq!(check.out[0], 16, "16 addresses are listed");
    c.bench_function("SIO_ADDRESS_LIST_QUERY/16", |b| {
        b.iter(|| {
            black_box(
                host.wsa_ioctl(IoctlCall::new(s, IoctlCode::SIO_ADDRESS_LIST_QUERY).out_len(4096)),
            )
        })
    });

    routing(c, "SIO_ROUTING_INTERFACE_QUERY/10", 10);
    routing(c, "SIO_ROUTING_INTERFACE_QUERY/10000", 10_000);
}

criterion_group! {
    name = ioctl;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(1500))
        .sample_size(30);
    targets = benches
}
criterion_main!(ioctl);
