# Sourced by scripts/demo and scripts/test: installs what is missing (Debian packages,
# non-interactive, only when missing), then configures and builds into $BUILD_DIR.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
PACKAGES=(cmake g++ make pkg-config libsystemc-dev libboost-graph-dev libyaml-cpp-dev catch2
          libcli11-dev nlohmann-json3-dev ccache python3 ${LLMSIM_EXTRA_PACKAGES:-})

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "llmsim: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

JOBS="$(nproc 2>/dev/null || echo 2)"
# ccache keys on absolute paths unless told the project root: with these, a fresh clone in
# another folder (CI) reuses the objects an earlier build of the same sources cached.
export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=true
# build_llmsim [--target NAME]... [CMAKE_ARG]...: configures with the CMAKE_ARGs and builds
# the named targets; without --target, everything (the binary and the test suite).
# scripts/demo and scripts/bench build only `llmsim`; scripts/test builds all.
build_llmsim() {
  local targets=() args=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --target) targets+=(--target "$2"); shift 2 ;;
      *) args+=("$1"); shift ;;
    esac
  done
  # LLMSIM_PCH=ON|OFF in the environment (.ci/run sets ON) passes through to CMake.
  [ -n "${LLMSIM_PCH:-}" ] && args+=("-DLLMSIM_PCH=$LLMSIM_PCH")
  # LLMSIM_UNITY=ON|OFF likewise (.ci/run: unity batches on a cold build).
  [ -n "${LLMSIM_UNITY:-}" ] && args+=("-DLLMSIM_UNITY=$LLMSIM_UNITY")
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" ${args[@]+"${args[@]}"} >/dev/null
  cmake --build "$BUILD_DIR" -j "$JOBS" ${targets[@]+"${targets[@]}"}
}
