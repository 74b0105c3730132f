#include "virt/hook_script.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "common/text.hpp"
#include "virt/domain.hpp"

namespace vpt {

namespace {

// Single-quoted for the shell.
constexpr const char* kBody = R"SH(set -u
[ "${1:-}" = "$GUEST" ] || exit 0
OPERATION="${2:-}/${3:-}"

CGROUP_ROOT=${VPT_CGROUP_ROOT:-/sys/fs/cgroup}
SYSTEMD_RUN=${VPT_SYSTEMD_RUN:-/run/systemd/system}
SYSTEMCTL=${VPT_SYSTEMCTL:-systemctl}
STATE_DIR=${VPT_STATE_DIR:-/run/vpt-tune}
STATE="$STATE_DIR/hook-$GUEST.state"
ALL_CPUS=$(cat "${VPT_ONLINE_CPUS:-/sys/devices/system/cpu/online}")

say() { echo "vpt-tune hook ($GUEST $OPERATION): $*" >&2; }

# The cpuset hierarchy: cgroup v2 (unified) or v1's cpuset controller.
if [ -f "$CGROUP_ROOT/cgroup.controllers" ]; then
  CPUSET_ROOT=$CGROUP_ROOT; PROCS=cgroup.procs
elif [ -d "$CGROUP_ROOT/cpuset" ]; then
  CPUSET_ROOT=$CGROUP_ROOT/cpuset; PROCS=cgroup.procs
else
  CPUSET_ROOT=
fi

# Groups of the host's processes, deepest first (cgroup v1 refuses to shrink a
# parent below its children): every group but libvirt's machine groups.
host_groups() {
  find "$CPUSET_ROOT" -mindepth 1 -type d \
       ! -path "$CPUSET_ROOT/machine" ! -path "$CPUSET_ROOT/machine/*" \
       ! -path "$CPUSET_ROOT/machine.slice" ! -path "$CPUSET_ROOT/machine.slice/*" 2>/dev/null |
    awk -F/ '{ print NF "\t" $0 }' | sort -rn | cut -f2-
}

# Writes CPUS to GROUP/cpuset.cpus and records the old value in the state file.
confine_group() {
  [ -f "$1/cpuset.cpus" ] || return 0
  old=$(cat "$1/cpuset.cpus")
  printf '%s\t%s\n' "$1" "$old" >> "$STATE"
  echo "$2" > "$1/cpuset.cpus" || say "cannot confine $1"
}

confine() {
  if [ -d "$SYSTEMD_RUN" ]; then
    for unit in user.slice system.slice init.scope; do
      "$SYSTEMCTL" set-property --runtime -- "$unit" "AllowedCPUs=$HOST_CPUS" || say "cannot confine $unit"
    done
    return 0
  fi
  [ -n "$CPUSET_ROOT" ] || { say "no cpuset cgroup found: host not confined"; return 0; }
  # Confined already (no release since): keep the values saved then.
  [ -f "$STATE" ] && { say "host already confined"; return 0; }
  mkdir -p "$STATE_DIR" && : > "$STATE"
  if [ "$CPUSET_ROOT" = "$CGROUP_ROOT" ]; then
    grep -qw cpuset "$CPUSET_ROOT/cgroup.subtree_control" 2>/dev/null ||
      echo +cpuset > "$CPUSET_ROOT/cgroup.subtree_control" 2>/dev/null || say "cannot enable the cpuset controller"
  fi
  # Processes of the root group cannot be confined there: move them into a group of their own.
  HOST_GROUP=$CPUSET_ROOT/vpt-tune-host
  if mkdir -p "$HOST_GROUP" 2>/dev/null; then
    [ -f "$HOST_GROUP/cpuset.mems" ] && [ -z "$(cat "$HOST_GROUP/cpuset.mems")" ] &&
      cat "$CPUSET_ROOT/cpuset.mems" > "$HOST_GROUP/cpuset.mems" 2>/dev/null
    [ -f "$HOST_GROUP/cpuset.cpus" ] && [ -z "$(cat "$HOST_GROUP/cpuset.cpus")" ] &&
      echo "$ALL_CPUS" > "$HOST_GROUP/cpuset.cpus" 2>/dev/null
    for pid in $(cat "$CPUSET_ROOT/$PROCS" 2>/dev/null); do
      echo "$pid" > "$HOST_GROUP/$PROCS" 2>/dev/null  # kernel threads stay where they are
    done
  fi
  # One group a line: names with spaces or glob characters stay whole.
  host_groups | while IFS= read -r group; do confine_group "$group" "$HOST_CPUS"; done
}

restore() {
  if [ -d "$SYSTEMD_RUN" ]; then
    for unit in user.slice system.slice init.scope; do
      "$SYSTEMCTL" set-property --runtime -- "$unit" "AllowedCPUs=$ALL_CPUS" || say "cannot restore $unit"
    done
    return 0
  fi
  [ -f "$STATE" ] || return 0
  # Parents first, the reverse of confining.
  tac "$STATE" | while IFS="$(printf '\t')" read -r group old; do
    echo "$old" > "$group/cpuset.cpus" 2>/dev/null || say "cannot restore $group"
  done
  rm -f "$STATE"
}

case "$OPERATION" in
  prepare/begin) confine ;;
  release/end) restore ;;
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
      fmt::arg("body", kBody));
}

}  // namespace vpt
