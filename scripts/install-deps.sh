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
  shellcheck socat              # the Proxmox hookscript: lint, and its QMP query (as on a Proxmox node)
)
# What building and checking the Debian package needs (ctest -L package):
# cpack's dpkg-shlibdeps and file, lintian, man/groff/lexgrog for the man pages,
# bash-completion and zsh to run the completions.
PACKAGE_PACKAGES=(
  dpkg-dev file lintian man-db groff-base bash-completion zsh
)
# Sanitizer and fuzzing builds (scripts/run-sanitizers.sh, docs/fuzzing.md).
SANITIZER_PACKAGES=(
  clang-16 libclang-rt-16-dev   # ASan, UBSan, TSan and libFuzzer
  llvm-16                       # llvm-symbolizer: function names and lines in sanitizer reports
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
want=("${BUILD_PACKAGES[@]}")
live_host=no
case "${1:-}" in
  --build) ;;
  --sanitizers) want+=("${SANITIZER_PACKAGES[@]}") ;;
  --all|"") want+=("${LIVE_PACKAGES[@]}" "${TEST_PACKAGES[@]}" "${PACKAGE_PACKAGES[@]}" "${SANITIZER_PACKAGES[@]}"); live_host=yes ;;
  *) echo "usage: $0 [--build|--sanitizers|--all]" >&2; exit 2 ;;
esac

# For the live tests: the libvirt-qemu user and, where /dev/kvm exists, its
# permissions as a standard Debian system sets them (scripts/setup-libvirt-host.sh).
setup_live_host() {
  if [ "$live_host" = yes ]; then $SUDO sh "$(dirname "$0")/setup-libvirt-host.sh"; fi
}

missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#want[@]} packages present"
  setup_live_host
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
setup_live_host
