#include "pve/hookscript.hpp"

#include <charconv>
#include <sstream>

#include <fmt/format.h>

#include "common/host_confinement.hpp"

namespace vpt {

namespace {

constexpr std::string_view kMarker = "# Proxmox VE hookscript written by vpt-tune";

// Printable ASCII only: the VM name goes into comments.
std::string comment_safe(std::string_view text) {
  std::string out;
  for (char c : text) out += c >= 0x20 && c < 0x7f ? c : '?';
  return out;
}

// The body: everything after the plan's variables. POSIX sh; checked with
// `dash -n` and shellcheck by the tests.
constexpr const char* kHead = R"SH(set -u
PHASE=${2:-}
RUN_DIR=${VPT_PVE_RUN_DIR:-/var/run/qemu-server}
WAIT_S=${VPT_PVE_WAIT_S:-30}
STATE_DIR=${VPT_STATE_DIR:-/run/vpt-tune}
ONLINE_FILE=${VPT_ONLINE_CPUS:-/sys/devices/system/cpu/online}
SYSTEMD_RUN=${VPT_SYSTEMD_RUN:-/run/systemd/system}
SYSTEMCTL=${VPT_SYSTEMCTL:-systemctl}
SOCAT=${VPT_SOCAT:-socat}
CONF_DIR=${VPT_PVE_CONF_DIR:-/etc/pve/qemu-server}
ALL_CPUS=$(cat "$ONLINE_FILE" 2>/dev/null)
PIDFILE=$RUN_DIR/$VMID.pid

say() {
  echo "vpt-tune hookscript (VM $VMID, $PHASE): $*" >&2
  if command -v logger >/dev/null 2>&1; then logger -t vpt-tune -- "VM $VMID $PHASE: $*" 2>/dev/null; fi
  return 0
}
)SH";

// After the confinement functions (common/host_confinement.hpp).
constexpr const char* kBody = R"SH(

# nth N WORD...: word N (from 0); fails when there is none.
nth() {
  i=$1; shift
  [ "$i" -lt $# ] || return 1
  shift "$i"
  echo "$1"
}

# index_of WORD WORD...: position of the first from 0; fails when absent.
index_of() {
  w=$1; shift; i=0
  for x in "$@"; do
    [ "$x" = "$w" ] && { echo "$i"; return 0; }
    i=$((i + 1))
  done
  return 1
}

normalize() { expand "$1" | sort -n | tr '\n' ' '; }

# Every CPU of the plan, one a line.
planned_cpus() {
  for c in $VCPU_CPUS $IOTHREAD_CPUS $EMULATOR_CPUS; do expand "$c"; done | sort -n -u
}

# ---- pre-start: can this node run the plan? ----
check_node() {
  MISSING_SAID=''
  if ! command -v taskset >/dev/null 2>&1; then
    MISSING_SAID="taskset (util-linux) is missing"
    return 1
  fi
  online=$(expand "$(cat "$ONLINE_FILE" 2>/dev/null)")
  missing=''
  for c in $(planned_cpus); do
    echo "$online" | grep -qx "$c" || missing="$missing $c"
  done
  if [ -n "$missing" ]; then
    MISSING_SAID="this node lacks CPU(s)$missing of the plan (online: $(cat "$ONLINE_FILE" 2>/dev/null))"
    return 1
  fi
  return 0
}

# pre-start on a node that cannot run the plan: refuse (STRICT=1), or start the VM unpinned
# with a warning in the task log, so that HA recovery onto another node is not blocked.
node_cannot_run_plan() {
  if [ "$STRICT" = 1 ]; then
    say "$MISSING_SAID: not starting (strict); plan the VM for this node with: vpt-tune suggest --vmid $VMID --apply"
    exit 1
  fi
  say "WARNING: $MISSING_SAID: the VM starts unpinned here; plan it for this node with: vpt-tune suggest --vmid $VMID --apply"
}

# ---- host confinement (common/host_confinement.hpp) ----
# VMs nothing plans (no vpt-tune hookscript, no affinity:) run in their own
# qemu.slice scope: the host's share holds them too. Planned VMs never: their
# pins would fall outside it.
guest_units() {
  for pidfile in "$RUN_DIR"/*.pid; do
    [ -f "$pidfile" ] || continue
    id=$(basename "$pidfile" .pid)
    case $id in ''|*[!0-9]*) continue ;; esac
    [ "$id" = "$VMID" ] && continue
    pid=$(head -n 1 "$pidfile" 2>/dev/null)
    case $pid in ''|*[!0-9]*) continue ;; esac
    [ -d "$PROC_ROOT/$pid" ] || continue
    [ -f "$CONF_DIR/$id.conf" ] || continue
    sed '/^\[/q' "$CONF_DIR/$id.conf" | grep -qE '^(hookscript: .*vpt-tune-|affinity: )' && continue
    echo "$id.scope"
  done
}

# ---- post-start: pin the running VM ----
# The PID of this VM's QEMU: the PID file's process, if its command line names
# that PID file (or qemu-server's "-id VMID").
qemu_pid() {
  [ -r "$PIDFILE" ] || return 1
  pid=''
  read -r pid < "$PIDFILE" || [ -n "${pid:-}" ] || return 1
  case $pid in ''|*[!0-9]*) return 1 ;; esac
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' '\n' < "/proc/$pid/cmdline" |
    awk -v pidfile="$PIDFILE" -v id="$VMID" '$0 == pidfile || (prev == "-id" && $0 == id) { found = 1 } { prev = $0 }
                                             END { exit !found }' || return 1
  echo "$pid"
}

count_vcpu_threads() {
  n=0
  for t in /proc/"$1"/task/*; do
    case $(cat "$t/comm" 2>/dev/null) in "CPU "*/*) n=$((n + 1)) ;; esac
  done
  echo "$n"
}

# Waits for the QEMU process and its vCPU threads; sets QEMU_PID. Returns 2 (nothing to pin,
# said why) when that QEMU cannot be the plan's: unnamed threads, or another vCPU count
# (a QEMU started from the config as it was before the plan).
wait_for_qemu() {
  deadline=$(( $(date +%s) + WAIT_S ))
  last=-1; stable=0
  while :; do
    if pid=$(qemu_pid); then
      if tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q 'debug-threads=off'; then
        say "QEMU $pid runs with debug-threads=off (args: -name ...): its threads have no names, so vCPUs cannot" \
            "be told apart: nothing pinned; remove debug-threads=off from args"
        return 2
      fi
      n=$(count_vcpu_threads "$pid")
      if [ "$n" -eq "$VCPU_COUNT" ]; then QEMU_PID=$pid; return 0; fi
      if [ "$n" -gt 0 ] && [ "$n" -eq "$last" ]; then stable=$((stable + 1)); else stable=0; fi
      last=$n
      if [ "$stable" -ge 5 ] || [ "$n" -gt "$VCPU_COUNT" ]; then
        say "QEMU $pid runs $n vCPUs, the plan has $VCPU_COUNT (started from the config as it was before the" \
            "plan?): nothing pinned; the plan takes effect when the VM is stopped and started"
        return 2
      fi
    fi
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# "ID TID" for each I/O thread, from QMP query-iothreads.
iothread_tids() {
  [ -n "$IOTHREAD_IDS" ] || return 0
  if ! command -v "$SOCAT" >/dev/null 2>&1; then
    say "socat is missing: I/O threads cannot be told apart and run with the emulator on CPUs $EMULATOR_CPUS"
    return 0
  fi
  # QEMU answers one JSON object a line; each {...} of the reply becomes a line of its own.
  # shellcheck disable=SC2020
  { printf '%s\n' '{"execute":"qmp_capabilities"}' '{"execute":"query-iothreads"}'; sleep 1; } |
    "$SOCAT" -t 1 - "UNIX-CONNECT:$RUN_DIR/$VMID.qmp,shut-none" 2>/dev/null | tr '{}' '\n\n' |
    while read -r chunk; do
      id=$(echo "$chunk" | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p')
      tid=$(echo "$chunk" | sed -n 's/.*"thread-id": *\([0-9][0-9]*\).*/\1/p')
      if [ -n "$id" ] && [ -n "$tid" ]; then echo "$id $tid"; fi
    done
}

# Sets ROLE and WANT for thread $1 named $2.
classify() {
  case $2 in
    "CPU "*/*)
      n=${2#CPU }; n=${n%%/*}
      case $n in ''|*[!0-9]*) ;; *)
        # shellcheck disable=SC2086 # the lists are words on purpose
        if WANT=$(nth "$n" $VCPU_CPUS); then ROLE="vCPU $n"
        else WANT=$(echo "$VCPU_CPUS" | tr ' ' ','); ROLE="vCPU $n (beyond the plan's $VCPU_COUNT)"; fi
        return ;;
      esac ;;
  esac
  id=$(echo "$IO_MAP" | awk -v tid="$1" '$2 == tid { print $1; exit }')
  # shellcheck disable=SC2086
  if [ -n "$id" ] && i=$(index_of "$id" $IOTHREAD_IDS) && WANT=$(nth "$i" $IOTHREAD_CPUS); then
    ROLE="I/O thread $id"; return
  fi
  WANT=$EMULATOR_CPUS
  if [ "$1" = "$QEMU_PID" ]; then ROLE="main thread"; else ROLE="thread '$2'"; fi
}

pin_vm() {
  if ! check_node; then
    say "$MISSING_SAID: the VM runs unpinned on this node"
    return 0
  fi
  wait_for_qemu; waited=$?
  [ "$waited" -ne 2 ] || return 0
  if [ "$waited" -ne 0 ]; then
    say "no running QEMU of VM $VMID after ${WAIT_S} s (PID file $PIDFILE): nothing pinned"
    return 1
  fi
  IO_MAP=$(iothread_tids)
  if [ -n "$IOTHREAD_IDS" ] && [ -z "$IO_MAP" ] && command -v "$SOCAT" >/dev/null 2>&1; then
    say "QMP ($RUN_DIR/$VMID.qmp) did not name the I/O threads: they run with the emulator on CPUs $EMULATOR_CPUS"
  fi
  failed=0; wrong=0; vcpus=0; io=0; other=0; seen=' '
  # New threads inherit their creator's CPUs; a second pass catches any
  # started while the first ran.
  for pass in 1 2 3; do
    new=0
    for task in /proc/"$QEMU_PID"/task/*; do
      tid=${task##*/}
      case $seen in *" $tid "*) continue ;; esac
      comm=$(cat "$task/comm" 2>/dev/null) || continue
      seen="$seen$tid "; new=1
      classify "$tid" "$comm"
      if ! err=$(taskset -pc "$WANT" "$tid" 2>&1 >/dev/null); then
        [ -d "$task" ] || continue  # it ended meanwhile
        say "cannot pin $ROLE (thread $tid) to CPUs $WANT: $err"
        failed=$((failed + 1)); continue
      fi
      actual=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "$task/status" 2>/dev/null)
      if [ "$(normalize "$actual")" != "$(normalize "$WANT")" ]; then
        [ -d "$task" ] || continue
        say "$ROLE (thread $tid) runs on CPUs $actual, not $WANT"
        wrong=$((wrong + 1)); continue
      fi
      case $ROLE in "vCPU "*) vcpus=$((vcpus + 1)) ;; "I/O "*) io=$((io + 1)) ;; *) other=$((other + 1)) ;; esac
    done
    [ "$new" = 1 ] || break
    [ "$pass" = 3 ] || sleep 0.1
  done
  say "QEMU $QEMU_PID: $vcpus vCPU thread(s) on CPUs $(echo "$VCPU_CPUS" | tr ' ' ','), $io I/O thread(s)," \
      "$other other thread(s) on CPUs $EMULATOR_CPUS; checked in /proc" \
      "$([ $((failed + wrong)) -eq 0 ] && echo "(all as planned)" || echo "($((failed + wrong)) not as planned)")"
  [ $((failed + wrong)) -eq 0 ]
}

[ "${1:-}" = "$VMID" ] || { say "called for VM '${1:-}', written for VM $VMID: nothing done"; exit 0; }
case $PHASE in
  pre-start)
    if check_node; then
      if [ "$CONFINE_HOST" = 1 ]; then confine_host "pve-$VMID" "$HOST_CPUS" "$PIDFILE"; fi
    else
      node_cannot_run_plan
    fi ;;
  post-start)
    pin_vm ;;
  post-stop)
    if [ "$CONFINE_HOST" = 1 ]; then release_host "pve-$VMID"; fi ;;
esac
exit 0
)SH";

// Items separated by one blank: a shell word list.
template <typename Range, typename Text>
std::string words_of(const Range& items, Text text) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ' ';
    out += text(item);
  }
  return out;
}

[[noreturn]] void not_ours(const std::string& source, const std::string& why) {
  throw PveConfigError(fmt::format("cannot read hookscript '{}': {}", source, why));
}

}  // namespace

CpuSet PveHookPlan::all_cpus() const {
  CpuSet all = emulator;
  for (unsigned cpu : vcpus) all.insert(cpu);
  for (const CpuSet& io : iothreads) all |= io;
  return all;
}

PveHookPlan make_pve_hook_plan(unsigned vmid, const PveConfig& config, const GuestPlan& guest, const CpuSet& host_cpus,
                               bool confine_host) {
  PveHookPlan plan;
  plan.vmid = vmid;
  plan.vm_name = config.name;
  plan.vcpus = guest.vcpus;
  plan.emulator = guest.emulator;
  plan.host = host_cpus;
  plan.confine_host = confine_host;
  CpuSet io_union;
  for (const CpuSet& io : guest.iothreads) io_union |= io;
  if (io_union.empty()) io_union = guest.emulator;
  for (std::size_t i = 0; i < config.iothread_ids.size(); ++i) {
    plan.iothread_ids.push_back(config.iothread_ids[i]);
    plan.iothreads.push_back(i < guest.iothreads.size() ? guest.iothreads[i] : io_union);
  }
  return plan;
}

std::string pve_hookscript(const PveHookPlan& plan) {
  const std::string vcpus = words_of(plan.vcpus, [](unsigned cpu) { return std::to_string(cpu); });
  const std::string ids = words_of(plan.iothread_ids, [](const std::string& id) { return id; });
  CpuSet vcpu_set;
  for (unsigned cpu : plan.vcpus) vcpu_set.insert(cpu);
  std::string io_lines;
  for (std::size_t i = 0; i < plan.iothread_ids.size(); ++i)
    io_lines += fmt::format("#   I/O thread {} -> CPUs {}\n", plan.iothread_ids[i], plan.iothreads[i]);
  return fmt::format(
      "#!/bin/sh\n"
      "{marker} {version} for VM {vmid}{name}.\n"
      "# Proxmox runs it as `SCRIPT VMID PHASE`. post-start pins the VM's QEMU threads:\n"
      "#   vCPU n -> word n of VCPU_CPUS ({vcpus_list})\n"
      "{io_lines}"
      "#   every other thread (main loop, workers) -> CPUs {emulator}\n"
      "# and checks each in /proc. {prestart}\n"
      "{confine}"
      "# Self-contained: needs sh, taskset (util-linux) and socat (a qemu-server dependency),\n"
      "# so every node the VM may run on needs only this file.\n"
      "# Environment overrides: VPT_PVE_RUN_DIR VPT_PVE_CONF_DIR VPT_PVE_WAIT_S VPT_STATE_DIR\n"
      "# VPT_ONLINE_CPUS VPT_SYSTEMD_RUN VPT_SYSTEMCTL VPT_SOCAT VPT_CGROUP_ROOT VPT_PROC\n"
      "# VPT_CONFINE_GRACE_S (see vpt-tune's docs/proxmox-notes.md and docs/host-confinement.md).\n"
      "VMID={vmid}\n"
      "VCPU_CPUS='{vcpus}'\n"
      "VCPU_COUNT={count}\n"
      "EMULATOR_CPUS='{emulator}'\n"
      "IOTHREAD_IDS='{ids}'\n"
      "IOTHREAD_CPUS='{io}'\n"
      "HOST_CPUS='{host}'\n"
      "CONFINE_HOST={confine_flag}\n"
      "STRICT={strict_flag}\n"
      "{body}",
      fmt::arg("marker", kMarker), fmt::arg("version", VPT_VERSION), fmt::arg("vmid", plan.vmid),
      fmt::arg("name", plan.vm_name.empty() ? std::string() : " ('" + comment_safe(plan.vm_name) + "')"),
      fmt::arg("vcpus_list", vcpu_set.to_string()), fmt::arg("io_lines", io_lines),
      fmt::arg("emulator", plan.emulator.to_string()),
      fmt::arg("confine", plan.confine_host ? fmt::format("# While the VM runs, the host's own processes stay on CPUs "
                                                          "{} (systemd AllowedCPUs=).\n",
                                                          plan.host)
                                            : std::string()),
      fmt::arg("vcpus", vcpus), fmt::arg("count", plan.vcpus.size()), fmt::arg("ids", ids),
      fmt::arg("io", words_of(plan.iothreads, [](const CpuSet& s) { return s.to_string(); })), fmt::arg("host", plan.host.to_string()),
      fmt::arg("confine_flag", plan.confine_host ? 1 : 0), fmt::arg("strict_flag", plan.strict ? 1 : 0),
      fmt::arg("prestart", plan.strict ? "pre-start refuses to start the VM on a node without these CPUs (--strict)."
                                       : "On a node without these CPUs pre-start lets the VM start unpinned, with a "
                                         "warning\n# in the task log (HA recovery is not blocked; --strict refuses)."),
      fmt::arg("body", fmt::format("{}{}{}", kHead, host_confinement_shell(), kBody)));
}

PveHookPlan read_pve_hookscript(std::string_view script, const std::string& source) {
  if (script.find(kMarker) == std::string_view::npos) not_ours(source, "it was not written by vpt-tune");
  std::map<std::string, std::string> vars;
  std::istringstream lines{std::string(script)};
  for (std::string line; std::getline(lines, line);) {
    auto eq = line.find('=');
    if (eq == std::string::npos || line.empty() || line[0] < 'A' || line[0] > 'Z') continue;
    std::string name = line.substr(0, eq), value = line.substr(eq + 1);
    if (name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != std::string::npos) continue;
    if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') value = value.substr(1, value.size() - 2);
    vars.emplace(name, value);  // the first assignment: the plan's variables come before the body
  }
  auto need = [&](const char* name) -> const std::string& {
    auto it = vars.find(name);
    if (it == vars.end()) not_ours(source, fmt::format("it has no {}=", name));
    return it->second;
  };
  auto words = [](const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string w; in >> w;) out.push_back(w);
    return out;
  };
  auto cpus = [&](const std::string& text, const char* name) {
    try {
      return CpuSet::parse(text);
    } catch (const std::invalid_argument& e) {
      not_ours(source, fmt::format("{}: {}", name, e.what()));
    }
  };
  PveHookPlan plan;
  const std::string& vmid = need("VMID");
  auto [end, ec] = std::from_chars(vmid.data(), vmid.data() + vmid.size(), plan.vmid);
  if (ec != std::errc() || end != vmid.data() + vmid.size()) not_ours(source, "VMID is not a number");
  for (const std::string& w : words(need("VCPU_CPUS"))) {
    CpuSet one = cpus(w, "VCPU_CPUS");
    if (one.size() != 1) not_ours(source, "VCPU_CPUS lists more than one CPU per vCPU");
    plan.vcpus.push_back(one.first());
  }
  plan.emulator = cpus(need("EMULATOR_CPUS"), "EMULATOR_CPUS");
  plan.iothread_ids = words(need("IOTHREAD_IDS"));
  for (const std::string& w : words(need("IOTHREAD_CPUS"))) plan.iothreads.push_back(cpus(w, "IOTHREAD_CPUS"));
  if (plan.iothreads.size() != plan.iothread_ids.size())
    not_ours(source, "IOTHREAD_IDS and IOTHREAD_CPUS differ in length");
  plan.host = cpus(need("HOST_CPUS"), "HOST_CPUS");
  plan.confine_host = need("CONFINE_HOST") == "1";
  plan.strict = vars.count("STRICT") && vars.at("STRICT") == "1";  // older scripts have none (and refused)
  return plan;
}

}  // namespace vpt
