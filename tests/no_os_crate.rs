//! The model depends on no OS crate: `cargo tree` of the default features lists no
//! windows-sys (nor windows, winapi, libc, nix), for the Linux and the Windows target.
//! `--features winsock` adds windows-sys for Windows targets only.

use std::process::Command;

fn tree(args: &[&str]) -> Option<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["tree", "-e", "normal", "--prefix", "none"])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn os_crates(t: &str) -> Vec<&str> {
    t.lines()
        .filter(|l| {
            let name = l.split_whitespace().next().unwrap_or("");
            matches!(name, "windows-sys" | "windows" | "winapi" | "libc" | "nix")
        })
        .collect()
}

#[test]
fn the_default_build_has_no_os_crate_on_any_target() {
    for target in ["x86_64-unknown-linux-gnu", "x86_64-pc-windows-gnu"] {
        let Some(t) = tree(&["--target", target]) else {
            panic!("cargo tree failed for {target}");
        };
        assert!(t.contains("wsasim"), "cargo tree printed no package: {t}");
        assert_eq!(os_crates(&t), Vec::<&str>::new(), "target {target}");
    }
}

#[test]
fn the_winsock_feature_adds_windows_sys_for_windows_only() {
    let linux = tree(&[
        "--features",
        "winsock",
        "--target",
        "x86_64-unknown-linux-gnu",
    ])
    .expect("cargo tree for Linux");
    assert!(os_crates(&linux).is_empty(), "{linux}");
    let windows = tree(&["--features", "winsock", "--target", "x86_64-pc-windows-gnu"])
        .expect("cargo tree for Windows");
    assert!(
        os_crates(&windows)
            .iter()
            .any(|l| l.starts_with("windows-sys ")),
        "{windows}"
    );
}
