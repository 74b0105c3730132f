#!/usr/bin/env bash
# Installs everything vpt-tune needs to build, test and run on Debian 12.
# Idempotent and non-interactive: packages already present are skipped quickly.
set -euo pipefail

BUILD_PACKAGES=(
  build-essential cmake pkg-config
  hwloc libhwloc-dev            # host topology (and hwloc-calc for test facts)
  libvirt-dev                   # libvirt client API
  libbenchmark-dev              # Google Benchmark
  libgtest-dev libgmock-dev     # GoogleTest
  libeigen3-dev                 # cost model matrices
  libfmt-dev                    # formatting
  libcli11-dev                  # command-line options
  nlohmann-json3-dev            # JSON documents
  libpugixml-dev                # XML (hwloc exports, domain XML)
  gcc-mingw-w64-x86-64          # the Windows in-guest probe (guest/vpt-guest-probe.exe)
)
# What the live-VM tests need: a libvirt daemon with the QEMU driver, QEMU, busybox for the guest.
LIVE_PACKAGES=(
  libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 busybox-static
)
TEST_PACKAGES=(
  python3-html5lib              # HTML5 validity of reports
  wine64                        # runs the Windows in-guest probe in its test
)

want=("${BUILD_PACKAGES[@]}")
case "${1:-}" in
  --build) ;;
  --all|"") want+=("${LIVE_PACKAGES[@]}" "${TEST_PACKAGES[@]}") ;;
  *) echo "usage: $0 [--build|--all]" >&2; exit 2 ;;
esac

missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#want[@]} packages present"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
