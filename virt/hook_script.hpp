// The libvirt qemu hook that `vpt-tune hook` installs: while one guest runs,
// the host's own processes are confined to the CPUs the plan left them.
#pragma once

#include <string>

#include "common/cpuset.hpp"

namespace vpt {

// A POSIX shell script in the /etc/libvirt/hooks/qemu calling convention
// ($1 guest, $2 operation, $3 sub-operation). On "prepare begin" it confines
// the host to `host_cpus`; on "release end" it puts back what was there:
//  - systemd: `systemctl set-property --runtime` AllowedCPUs= on user.slice,
//    system.slice and init.scope (all CPUs again on release);
//  - no systemd, cgroup v2 or v1: cpuset.cpus of every top-level cgroup but
//    libvirt's machine group, plus a 'vpt-tune-host' group that takes the
//    processes of the root group; the old values are saved in /run and put
//    back on release.
// VPT_CGROUP_ROOT, VPT_SYSTEMD_RUN, VPT_SYSTEMCTL, VPT_ONLINE_CPUS and
// VPT_STATE_DIR override the system paths (tests run it on a fake tree).
// Throws DomainInputError for a name no script should carry: empty, over
// 1024 bytes, with a '/' or with control characters.
std::string qemu_hook_script(const std::string& domain, const CpuSet& host_cpus);
void check_hook_domain_name(const std::string& domain);

}  // namespace vpt
