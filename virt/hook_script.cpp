#include "virt/hook_script.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "common/host_confinement.hpp"
#include "common/text.hpp"
#include "virt/domain.hpp"

namespace vpt {

namespace {

// The hook's own part; the confinement functions are common/host_confinement.hpp's.
constexpr const char* kHead = R"SH(set -u
[ "${1:-}" = "$GUEST" ] || exit 0
OPERATION="${2:-}/${3:-}"

SYSTEMD_RUN=${VPT_SYSTEMD_RUN:-/run/systemd/system}
SYSTEMCTL=${VPT_SYSTEMCTL:-systemctl}
STATE_DIR=${VPT_STATE_DIR:-/run/vpt-tune}
LIBVIRT_RUN=${VPT_LIBVIRT_RUN:-/run/libvirt/qemu}
ALL_CPUS=$(cat "${VPT_ONLINE_CPUS:-/sys/devices/system/cpu/online}")

say() { echo "vpt-tune hook ($GUEST $OPERATION): $*" >&2; }

# libvirt runs its guests in machine.slice, which confinement never touches.
guest_units() { :; }

)SH";

constexpr const char* kTail = R"SH(
case "$OPERATION" in
  prepare/begin) confine_host "libvirt-$GUEST" "$HOST_CPUS" "$LIBVIRT_RUN/$GUEST.pid" ;;
  release/end) release_host "libvirt-$GUEST" ;;
esac
exit 0
)SH";

}  // namespace

void check_hook_domain_name(const std::string& domain) {
  std::string why;
  if (domain.empty()) why = "it is empty";
  else if (domain.size() > 1024) why = "it is longer than 1024 bytes";
  else if (std::any_of(domain.begin(), domain.end(), is_control))
    why = "it holds control characters (a newline would end the script's comment)";
  else if (domain.find('/') != std::string::npos) why = "it holds a '/' (libvirt's names never do)";
  if (!why.empty())
    throw DomainInputError(fmt::format("cannot write a hook for domain name '{}': {}", printable(domain, 64), why));
}

std::string qemu_hook_script(const std::string& domain, const CpuSet& host_cpus) {
  check_hook_domain_name(domain);
  return fmt::format(
      "#!/bin/sh\n"
      "# libvirt qemu hook written by vpt-tune {version}:\n"
      "#   vpt-tune hook --domain {qdomain} --host-cpus {cpus}\n"
      "# While guest {qdomain} runs, the host's own processes run on CPUs {cpus} only;\n"
      "# when it stops they get back what they had. libvirt calls hooks as\n"
      "#   qemu GUEST OPERATION SUB-OPERATION EXTRA\n"
      "# and this one acts on 'prepare begin' and 'release end' of that guest only.\n"
      "GUEST={qdomain}\n"
      "HOST_CPUS={qcpus}\n"
      "{body}",
      fmt::arg("version", VPT_VERSION), fmt::arg("cpus", host_cpus.to_string()),
      fmt::arg("qdomain", shell_quote(domain)), fmt::arg("qcpus", shell_quote(host_cpus.to_string())),
      fmt::arg("body", fmt::format("{}{}{}", kHead, host_confinement_shell(), kTail)));
}

}  // namespace vpt
