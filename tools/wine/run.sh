#!/usr/bin/env bash
# Build wsasim for Windows (x86_64-pc-windows-gnu) and run it under Wine.
#
#   tools/wine/run.sh [WSASIM ARGS...]
#
# Steps, each timed:
#   1. install   apt-get installs what is missing: wine, wine64 (Wine 8.0),
#                gcc-mingw-w64-x86-64, rustc-web, cargo-web, rust-web-src
#   2. build     the -web toolchain in /usr/bin (Rust 1.96) builds std from source
#                (-Zbuild-std) and wsasim.exe, in target/wine/; with `--features winsock`
#                when Cargo.toml declares that feature
#   3. shim      bcryptprimitives.dll (tools/wine/bcryptprimitives.c) beside the .exe
#   4. prefix    the Wine prefix target/wine/prefix, created on first use
#   5. run       WINEDEBUG=-all wine wsasim.exe ARGS; with no ARGS: `diff scenarios/`
#                when the .exe has the diff command, else `run scenarios/`
#
# The script's exit code is wsasim's (or the failing step's). It is idempotent: a second
# run installs nothing, rebuilds only what changed and reuses the prefix. It needs no
# terminal and no X display, and runs as root (for apt-get) or as a user who already has
# the packages.
#
# Environment knobs (all optional):
#   WSASIM_WINE_DIR    where the build and the prefix go (default: <repo>/target/wine)
#   WSASIM_WINE_OFFLINE=1  build with --offline (the crates must already be in cargo's cache)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"

wine_dir="${WSASIM_WINE_DIR:-$repo/target/wine}"
target=x86_64-pc-windows-gnu
exe="$wine_dir/$target/release/wsasim.exe"
prefix="$wine_dir/prefix"

# The rustup toolchain stays first on PATH for everything else; the Windows build names
# the -web toolchain by its full path.
export PATH="$HOME/.cargo/bin:$PATH"
web_rustc=/usr/bin/rustc
web_cargo=/usr/bin/cargo

script_start=$(date +%s)
step_name=""
step_start=0
timings=()

step() {
  end_step
  step_name="$1"
  step_start=$(date +%s)
  printf '\n== wine %s\n' "$step_name"
}

end_step() {
  if [ -n "$step_name" ]; then
    local took=$(($(date +%s) - step_start))
    printf -- '-- wine %s: %ss\n' "$step_name" "$took"
    timings+=("$(printf '%-8s %5ss' "$step_name" "$took")")
    step_name=""
  fi
}

summary() {
  end_step
  printf '\n== wine timings\n'
  local t
  for t in "${timings[@]}"; do
    printf '   %s\n' "$t"
  done
  printf '   %-8s %5ss\n' total "$(($(date +%s) - script_start))"
}

die() {
  printf 'tools/wine/run.sh: %s\n' "$*" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------
step install

packages=(wine wine64 gcc-mingw-w64-x86-64 rustc-web cargo-web rust-web-src)
missing=()
for p in "${packages[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "all installed: ${packages[*]}"
else
  echo "installing: ${missing[*]}"
  [ "$(id -u)" -eq 0 ] || die "missing packages (${missing[*]}) and not root: install them with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null
  apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}" \
    </dev/null >/dev/null
fi
for tool in wine wineboot wineserver x86_64-w64-mingw32-gcc "$web_rustc" "$web_cargo"; do
  command -v "$tool" >/dev/null || die "$tool not found after the install"
done
wine --version
"$web_rustc" --version
"$web_cargo" --version

# build-std reads the standard library's sources from <sysroot>/lib/rustlib/src/rust,
# which is where rust-web-src puts them for /usr/bin/rustc.
sysroot="$("$web_rustc" --print sysroot)"
[ -f "$sysroot/lib/rustlib/src/rust/library/Cargo.lock" ] \
  || die "no standard library sources under $sysroot/lib/rustlib/src/rust (rust-web-src)"

# ---------------------------------------------------------------------------------------
step build

# Does Cargo.toml declare the `winsock` feature (the real-Winsock backend)?
has_winsock=0
if awk '
  /^\[/ { in_features = ($0 ~ /^\[features\][[:space:]]*$/) ; next }
  in_features && /^[[:space:]]*winsock[[:space:]]*=/ { found = 1 }
  END { exit !found }
' Cargo.toml; then
  has_winsock=1
fi
features=()
if [ "$has_winsock" -eq 1 ]; then
  features=(--features winsock)
  echo "Cargo.toml declares the winsock feature: building with --features winsock"
else
  echo "Cargo.toml has no winsock feature: building the default features (no diff command)"
fi

offline=()
[ "${WSASIM_WINE_OFFLINE:-0}" = 1 ] && offline=(--offline)

# --locked: the -web cargo must not rewrite the Cargo.lock the host build uses.
env RUSTC_BOOTSTRAP=1 \
  RUSTC="$web_rustc" \
  CARGO_TARGET_DIR="$wine_dir" \
  CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc \
  CARGO_TERM_PROGRESS_WHEN=never \
  "$web_cargo" build --release --locked "${offline[@]}" \
  -Zbuild-std=std,panic_abort --target "$target" \
  --bin wsasim "${features[@]}"
[ -f "$exe" ] || die "the build did not produce $exe"
ls -l "$exe"

# ---------------------------------------------------------------------------------------
step shim

shim_src="$repo/tools/wine/bcryptprimitives.c"
shim="$(dirname "$exe")/bcryptprimitives.dll"
if [ ! -f "$shim" ] || [ "$shim_src" -nt "$shim" ]; then
  x86_64-w64-mingw32-gcc -shared -O2 -Wall -Wextra -Werror \
    -Wl,--no-insert-timestamp \
    -o "$shim" "$shim_src" -ladvapi32
  echo "built $shim"
else
  echo "up to date: $shim"
fi

# ---------------------------------------------------------------------------------------
step prefix

export WINEPREFIX="$prefix"
export WINEARCH=win64
export WINEDEBUG=-all
# No display: nothing may wait for a window. Skipping mscoree and mshtml stops the first
# start from offering to download Mono and Gecko.
export DISPLAY=
export WAYLAND_DISPLAY=
export WINEDLLOVERRIDES="mscoree,mshtml="

if [ -f "$prefix/system.reg" ]; then
  echo "reusing $prefix"
else
  echo "creating $prefix"
  mkdir -p "$prefix"
  wineboot --init </dev/null
  # The prefix is written when the server ends; wait for it.
  wineserver -w
fi

# ---------------------------------------------------------------------------------------
step run

if [ "$#" -eq 0 ]; then
  help="$(wine "$exe" --help </dev/null 2>&1 || true)"
  if printf '%s\n' "$help" | grep -q 'wsasim diff'; then
    set -- diff scenarios/
  else
    if [ "$has_winsock" -eq 1 ]; then
      echo "wsasim.exe has no diff command yet: replaying the corpus on the model instead"
    else
      echo "diff is not available (no winsock feature): replaying the corpus on the model instead"
    fi
    set -- run scenarios/
  fi
fi

echo "WINEDEBUG=-all wine $exe $*"
set +e
wine "$exe" "$@" </dev/null
rc=$?
set -e
echo "wsasim.exe exited with $rc"

wineserver -w
summary
exit "$rc"
