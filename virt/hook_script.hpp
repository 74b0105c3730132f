// The libvirt qemu hook that `vpt-tune hook` installs: while one guest runs,
// the host's own processes are confined to the CPUs the plan left them.
#pragma once

#include <string>

#include "common/cpuset.hpp"

namespace vpt {

// A POSIX shell script in the /etc/libvirt/hooks/qemu calling convention
// ($1 guest, $2 operation, $3 sub-operation). On "prepare begin" it confines
// the host to `host_cpus` (confine_host of common/host_confinement.hpp, the
// model the Proxmox hookscript shares: with several confined guests the host
// keeps what all of them leave it); on "release end" it releases (what the
// other running confined guests leave the host, or the values it had before
// the first confinement). VPT_CGROUP_ROOT, VPT_SYSTEMD_RUN, VPT_SYSTEMCTL,
// VPT_ONLINE_CPUS, VPT_STATE_DIR, VPT_LIBVIRT_RUN, VPT_PROC and
// VPT_CONFINE_GRACE_S override the system paths (tests run it on a fake tree).
// Throws DomainInputError for a name no script should carry: empty, over
// 1024 bytes, with a '/' or with control characters.
std::string qemu_hook_script(const std::string& domain, const CpuSet& host_cpus);
void check_hook_domain_name(const std::string& domain);

}  // namespace vpt
