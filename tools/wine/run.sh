#!/usr/bin/env bash
# Build wsasim for Windows (x86_64-pc-windows-gnu) and run it under Wine.
#
#   tools/wine/run.sh [WSASIM ARGS...]
#
# Steps, each timed:
#   install  apt-get installs what is missing: wine + wine64 (Wine 8.0),
#            gcc-mingw-w64-x86-64 (the linker), rustc-web + cargo-web + rust-web-src
#            (Rust 1.96 in /usr/bin, with the standard library's sources)
#   build    /usr/bin/cargo builds std from source (-Zbuild-std) and wsasim.exe into
#            target/wine/, with `--features winsock` (the real-Winsock backend)
#   shim     bcryptprimitives.dll (from tools/wine/bcryptprimitives.c) beside the .exe
#   prefix   the Wine prefix target/wine/prefix, created on first use
#   netns    a private network namespace with a fixed set of interfaces (see below)
#   run      WINEDEBUG=-all wine wsasim.exe ARGS, inside the namespace. With no ARGS:
#            `diff scenarios/` from the repository's root.
#            Given ARGS run in the caller's working directory.
#
# Exit code: wsasim's, or 1 when a step before it failed (124 when wsasim timed out).
# Idempotent: a second run installs nothing, rebuilds only what changed and reuses the
# prefix. Needs no terminal and no X display. Runs as root (for apt-get), or as a user
# once the packages are installed.
#
# Optional environment:
#   WSASIM_WINE_DIR      build and prefix folder (default: <repo>/target/wine)
#   WSASIM_WINE_TIMEOUT  seconds wsasim.exe may run before it is stopped (default: 1800)
#   WSASIM_WINE_OFFLINE=1  build with --offline (crates already in cargo's cache)
#   WSASIM_WINE_NETNS=0  run Wine on the machine's own network instead of the private
#                        namespace (see "netns" below)
set -euo pipefail

caller_dir="$(pwd)"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"

wine_dir="${WSASIM_WINE_DIR:-$repo/target/wine}"
case "$wine_dir" in /*) ;; *) wine_dir="$caller_dir/$wine_dir" ;; esac
run_timeout="${WSASIM_WINE_TIMEOUT:-1800}"
target=x86_64-pc-windows-gnu
exe="$wine_dir/$target/release/wsasim.exe"
prefix="$wine_dir/prefix"

# The rustup toolchain stays first on PATH for everything else; the Windows build names
# the -web toolchain by its full path.
export PATH="${HOME:-/root}/.cargo/bin:$PATH"
web_rustc=/usr/bin/rustc
web_cargo=/usr/bin/cargo

# Wine: a private prefix, no debug channels, no display. Skipping mscoree and mshtml
# keeps the first start from offering to download Mono and Gecko.
export WINEPREFIX="$prefix"
export WINEARCH=win64
export WINEDEBUG=-all
export DISPLAY=
export WAYLAND_DISPLAY=
export WINEDLLOVERRIDES="mscoree,mshtml="

# --- timing --------------------------------------------------------------------------
now_ms() { local t="${EPOCHREALTIME/[.,]/}"; echo $((t / 1000)); }
secs() { printf '%d.%01d' $(($1 / 1000)) $(($1 % 1000 / 100)); }

script_start=$(now_ms)
step_name=""
step_start=0
timings=()

step() {
  end_step
  step_name="$1"
  step_start=$(now_ms)
  printf '\n== wine: %s\n' "$step_name"
}

end_step() {
  if [ -n "$step_name" ]; then
    local took=$(($(now_ms) - step_start))
    printf -- '-- wine: %s took %ss\n' "$step_name" "$(secs "$took")"
    timings+=("$(printf '%-8s %7ss' "$step_name" "$(secs "$took")")")
    step_name=""
  fi
}

summary() {
  end_step
  printf '\n== wine: timings\n'
  local t
  for t in "${timings[@]}"; do
    printf '   %s\n' "$t"
  done
  printf '   %-8s %7ss\n' total "$(secs $(($(now_ms) - script_start)))"
}

die() {
  printf 'tools/wine/run.sh: %s\n' "$*" >&2
  exit 1
}

on_exit() {
  local rc=$?
  if [ -n "$step_name" ]; then
    printf 'tools/wine/run.sh: step "%s" failed (exit %s)\n' "$step_name" "$rc" >&2
  fi
  # End the prefix's wineserver and its helper processes (services, winedevice, ...)
  # rather than leave them lingering after the script.
  if [ -f "$prefix/system.reg" ] && command -v wineserver >/dev/null 2>&1; then
    wineserver -k >/dev/null 2>&1 || true
  fi
  if [ -n "${netns:-}" ] && [ "${WSASIM_WINE_NETNS:-1}" != 0 ]; then
    ip netns del "$netns" 2>/dev/null || true
    ip netns del "$netns-peer" 2>/dev/null || true
  fi
}
trap on_exit EXIT

# --- 1. install ----------------------------------------------------------------------
step install

packages=(wine wine64 gcc-mingw-w64-x86-64 rustc-web cargo-web rust-web-src iproute2)
missing=()
for p in "${packages[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "already installed: ${packages[*]}"
else
  echo "installing: ${missing[*]}"
  [ "$(id -u)" -eq 0 ] || die "missing packages (${missing[*]}) and not root: install them with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null
  # Without recommends: Wine's fonts, sound and 32-bit hints are not needed here.
  apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}" \
    </dev/null >/dev/null
fi
for tool in wine wineboot wineserver x86_64-w64-mingw32-gcc "$web_rustc" "$web_cargo"; do
  command -v "$tool" >/dev/null || die "$tool not found after the install"
done
echo "$(wine --version) | $("$web_rustc" --version) | $("$web_cargo" --version)"

# build-std takes the standard library's sources from <sysroot>/lib/rustlib/src/rust,
# where rust-web-src puts them for /usr/bin/rustc (sysroot /usr).
sysroot="$("$web_rustc" --print sysroot)"
[ -f "$sysroot/lib/rustlib/src/rust/library/Cargo.lock" ] \
  || die "no standard library sources under $sysroot/lib/rustlib/src/rust (rust-web-src)"

# --- 2. build ------------------------------------------------------------------------
step build

features=(--features winsock)

offline=()
if [ "${WSASIM_WINE_OFFLINE:-0}" = 1 ]; then offline=(--offline); fi

# --locked: this cargo must not rewrite the Cargo.lock that the host build uses.
# RUSTFLAGS from the environment would reach the standard library's own build too
# (`-D warnings` there fails), so they are dropped for this build.
env -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS -u CARGO_BUILD_RUSTFLAGS \
  RUSTC_BOOTSTRAP=1 \
  RUSTC="$web_rustc" \
  CARGO_TARGET_DIR="$wine_dir" \
  CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc \
  CARGO_TERM_PROGRESS_WHEN=never \
  "$web_cargo" build --release --locked "${offline[@]}" \
  -Zbuild-std=std,panic_abort --target "$target" \
  --bin wsasim "${features[@]}"
[ -f "$exe" ] || die "the build did not produce $exe"
echo "built $exe ($(stat -c %s "$exe") bytes)"

# --- 3. shim -------------------------------------------------------------------------
step shim

shim_src="$repo/tools/wine/bcryptprimitives.c"
shim="$(dirname "$exe")/bcryptprimitives.dll"
if [ ! -f "$shim" ] || [ "$shim_src" -nt "$shim" ]; then
  x86_64-w64-mingw32-gcc -shared -O2 -Wall -Wextra -Werror -Wl,--no-insert-timestamp \
    -o "$shim.tmp" "$shim_src" -ladvapi32
  mv -f "$shim.tmp" "$shim"
  echo "built $shim"
else
  echo "up to date: $shim"
fi

# --- 4. prefix -----------------------------------------------------------------------
step prefix

if [ -f "$prefix/system.reg" ]; then
  echo "reusing $prefix"
else
  echo "creating $prefix (the first start of Wine)"
  rm -rf "$prefix"
  mkdir -p "$prefix"
  timeout --kill-after=10 600 wineboot --init </dev/null
  # The prefix's registry files are written when the server ends: wait for that.
  timeout --kill-after=10 120 wineserver -w
  [ -f "$prefix/system.reg" ] || die "wineboot did not create $prefix"
fi

# --- 5. netns ------------------------------------------------------------------------
# Wine answers address and routing queries from the machine's interfaces, and the known
# divergences (scenarios/divergences.yaml) hold those answers. So that they hold on every
# machine, Wine runs in a private network namespace whose interfaces are always the same:
#   lo (1) up; ifb0 (2) and ifb1 (3) down without addresses; eth0 (4) up with
#   192.0.2.2/24, fd00::2/64 and fe80::fc:ff:fe00:1/64 (from its MAC 02:fc:00:00:00:01),
#   default routes via 192.0.2.1 and fd00::1.
# It has no link to anything outside: every socket the diff opens stays on loopback.
step netns

netns=wsasim-wine
in_netns=()
if [ "${WSASIM_WINE_NETNS:-1}" = 0 ]; then
  echo "WSASIM_WINE_NETNS=0: Wine runs on this machine's own network"
else
  [ "$(id -u)" -eq 0 ] || die "the private network namespace needs root (or set WSASIM_WINE_NETNS=0)"
  # wineserver owns Wine's sockets: one started outside the namespace must not serve it.
  wineserver -k >/dev/null 2>&1 || true
  ip netns del "$netns" 2>/dev/null || true
  ip netns del "$netns-peer" 2>/dev/null || true
  ip netns add "$netns"
  # eth0 is one end of a veth pair; its peer lives in a second namespace, up, so that
  # eth0 has a carrier, and nothing else sits on the other end.
  ip netns add "$netns-peer"
  ipn() { ip -n "$netns" "$@"; }
  ip netns exec "$netns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  ipn link set lo up
  ipn link add ifb0 type ifb
  ipn link add ifb1 type ifb
  ipn link add eth0 address 02:fc:00:00:00:01 type veth peer name peer0 netns "$netns-peer"
  ip -n "$netns-peer" link set peer0 up
  ipn addr add 192.0.2.2/24 dev eth0
  ipn addr add fd00::2/64 dev eth0 nodad
  ipn link set eth0 up
  ipn route add default via 192.0.2.1 dev eth0
  ipn -6 route add default via fd00::1 dev eth0 metric 1024
  ipn -br addr
  in_netns=(ip netns exec "$netns")
fi

# --- 6. run --------------------------------------------------------------------------
step run

if [ "$#" -eq 0 ]; then
  cd "$repo"
  set -- diff scenarios/
else
  cd "$caller_dir"
fi

echo "WINEDEBUG=-all wine $exe $*"
set +e
"${in_netns[@]}" timeout --kill-after=30 "$run_timeout" wine "$exe" "$@" </dev/null
rc=$?
set -e
if [ "$rc" -eq 124 ]; then
  echo "wsasim.exe did not finish within ${run_timeout}s (WSASIM_WINE_TIMEOUT) and was stopped"
else
  echo "wsasim.exe exited with $rc"
fi

summary
exit "$rc"
