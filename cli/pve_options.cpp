#include "cli/pve_options.hpp"

#include <sched.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <nlohmann/json.hpp>

#include "bench/domain_threads.hpp"
#include "cli/output_file.hpp"
#include "common/input_file.hpp"
#include "common/unified_diff.hpp"
#include "optimizer/optimizer.hpp"
#include "optimizer/plan_writers.hpp"
#include "pve/hookscript.hpp"
#include "pve/pve_apply.hpp"
#include "pve/pve_config.hpp"
#include "pve/pve_node.hpp"
#include "virt/apply.hpp"
#include "virt/domain_xml.hpp"

namespace vpt::cli {

namespace {

PveConfig load_config(const PveOptions& options, const PveNode& node) {
  return load_pve_config_file(options.config_file.empty() ? node.config_path(options.vmid) : options.config_file);
}

std::string vm_label(unsigned vmid, const PveConfig& config) {
  return config.name.empty() ? fmt::format("VM {}", vmid) : fmt::format("VM {} ('{}')", vmid, config.name);
}

// The pins the hook plan gives each thread, as bench checks them: iothread
// ids are 1.. in the plan's order.
LivePins expected_pins(const PveHookPlan& plan) {
  LivePins pins;
  for (unsigned cpu : plan.vcpus) pins.vcpus.push_back(CpuSet{cpu});
  pins.emulator = plan.emulator;
  for (std::size_t i = 0; i < plan.iothreads.size(); ++i)
    pins.iothreads[static_cast<unsigned>(i + 1)] = plan.iothreads[i];
  return pins;
}

// Which thread is which of the plan's I/O threads, from QMP (QEMU cannot name
// qemu-server's iothreads). Empty, with a note on `log`, when QMP does not answer.
std::map<int, unsigned> iothread_tids(const PveNode& node, unsigned vmid, const PveHookPlan& plan,
                                      std::ostream& log) {
  std::map<int, unsigned> tids;
  if (plan.iothread_ids.empty()) return tids;
  try {
    for (const QmpIothread& t : query_iothreads(node.qmp_path(vmid)))
      for (std::size_t i = 0; i < plan.iothread_ids.size(); ++i)
        if (plan.iothread_ids[i] == t.id) tids[t.thread_id] = static_cast<unsigned>(i + 1);
  } catch (const std::exception& e) {
    fmt::print(log, "note: {}: I/O threads are checked as other threads\n", e.what());
  }
  return tids;
}

}  // namespace

void pin_running_pve_vm(std::ostream& out, const PveNode& node, unsigned vmid, const std::string& script,
                        const PveHookPlan& plan) {
  std::optional<int> pid = running_qemu_pid(node, vmid);
  if (!pid) {
    fmt::print(out, "note: VM {} is not running here: --live has nothing to pin; the hookscript pins it when it "
                    "starts\n", vmid);
    return;
  }
  ProcPaths paths;
  // A QEMU started from the config before the plan runs another vCPU count: the hookscript
  // pins nothing then (its threads would not match the plan), and neither does --live.
  std::size_t running_vcpus = 0;
  for (const QemuThread& t : list_qemu_threads(*pid, "", paths)) running_vcpus += t.comm.starts_with("CPU ");
  if (running_vcpus != plan.vcpus.size()) {
    fmt::print(out, "note: VM {} runs {} vCPUs, the plan has {}: nothing pinned now; the plan takes effect when the "
                    "VM is stopped and started\n",
               vmid, running_vcpus, plan.vcpus.size());
    return;
  }
  std::cout.flush();
  run_pve_hookscript(script, vmid, "post-start", {{"VPT_PVE_RUN_DIR", node.run_dir()}, {"VPT_PVE_WAIT_S", "10"}});
  // The script found QEMU by the VM's pidfile itself: a VM restarted meanwhile is another process.
  if (running_qemu_pid(node, vmid) != pid) {
    fmt::print(out, "note: VM {} stopped or restarted while it was pinned: its hookscript pins it when it starts\n",
               vmid);
    return;
  }
  std::vector<QemuThread> threads = list_qemu_threads(*pid, "", paths);
  mark_iothreads(threads, iothread_tids(node, vmid, plan, out));
  std::vector<ThreadCounters> now;
  for (const QemuThread& t : threads) now.push_back(read_thread_counters(*pid, t.tid, paths));
  std::vector<std::string> wrong;
  std::size_t checked = 0;
  for (const ThreadCheck& c : check_threads(expected_pins(plan), threads, now, now)) {
    if (!c.pinned || !c.actual) continue;  // ended meanwhile, or a vCPU beyond the plan
    ++checked;
    if (!*c.matches)
      wrong.push_back(fmt::format("thread {} ('{}') runs on CPUs {}, not {}", c.tid, c.comm, *c.actual, *c.pinned));
  }
  if (!wrong.empty())
    throw PveApplyError(fmt::format("cannot pin running VM {}: {}; the config and hookscript are installed and pin it "
                                    "at its next start",
                                    vmid, fmt::join(wrong, "; ")));
  fmt::print(out, "VM {}: running QEMU {} pinned; /proc confirms all {} threads\n", vmid, *pid, checked);
}

void confine_running_pve_vm(std::ostream& out, const PveNode& node, unsigned vmid, const CpuSet& cpus) {
  std::optional<int> pid = running_qemu_pid(node, vmid);
  if (!pid || cpus.empty()) return;
  cpu_set_t* mask = CPU_ALLOC(cpus.last() + 1);
  const std::size_t size = CPU_ALLOC_SIZE(cpus.last() + 1);
  CPU_ZERO_S(size, mask);
  for (unsigned cpu : cpus) CPU_SET_S(cpu, size, mask);
  ProcPaths paths;
  std::vector<std::string> wrong;
  std::size_t checked = 0;
  for (const QemuThread& t : list_qemu_threads(*pid, "", paths)) {
    if (::sched_setaffinity(t.tid, size, mask) != 0 && errno != ESRCH)
      wrong.push_back(fmt::format("thread {} ('{}'): {}", t.tid, t.comm, std::strerror(errno)));
    const std::optional<CpuSet> now = read_thread_counters(*pid, t.tid, paths).cpus_allowed;
    if (!now) continue;  // ended meanwhile
    ++checked;
    if (*now != cpus) wrong.push_back(fmt::format("thread {} ('{}') runs on CPUs {}, not {}", t.tid, t.comm, *now, cpus));
  }
  CPU_FREE(mask);
  if (!wrong.empty())
    throw PveApplyError(fmt::format("cannot move running VM {} to CPUs {}: {}; its config has the new affinity for its "
                                    "next start",
                                    vmid, cpus, fmt::join(wrong, "; ")));
  fmt::print(out, "VM {}: running QEMU {} moved to CPUs {}; /proc confirms all {} threads\n", vmid, *pid, cpus, checked);
}

void add_pve_options(CLI::App& command, PveOptions& o) {
  auto* vmid = command.add_option("--vmid", o.vmid,
                                  "Proxmox VE: plan the VM with this ID from /etc/pve/qemu-server/ID.conf (on its node)")
                   ->option_text("ID")
                   ->check(CLI::Range(1u, 999999999u))
                   ->group("Proxmox VE");
  auto* file = command.add_option("--pve-config", o.config_file,
                                  "Proxmox VE: plan the VM of this config file (a copy of ID.conf; '-' reads standard "
                                  "input); with --vmid, that VM's hookscript")
                   ->option_text("FILE")
                   ->group("Proxmox VE");
  command.add_option("--hookscript-out", o.hookscript_out,
                     "Write the VM's hookscript (pins its threads when it starts) to FILE")
      ->option_text("FILE")
      ->group("Proxmox VE");
  command.add_option("--snippets-storage", o.snippets_storage,
                     "Storage whose snippets directory --apply installs the hookscript in ('local' is "
                     "/var/lib/vz/snippets)")
      ->option_text("NAME")
      ->capture_default_str()
      ->group("Proxmox VE");
  command.add_flag("--confine-host", o.confine_host,
                   "The hookscript also keeps the host's own processes on the host's CPUs while the VM runs "
                   "(systemd AllowedCPUs=)")
      ->group("Proxmox VE");
  command.add_flag("--strict", o.strict,
                   "The hookscript's pre-start refuses to start the VM on a node without the planned CPUs (default: "
                   "it starts unpinned there, with a warning in the task log, so HA recovery is not blocked)")
      ->group("Proxmox VE");
  command.add_option("--hugepages", o.hugepages, "Set hugepages: (and the numa lines it needs) to 2, 1024 or any")
      ->check(CLI::IsMember({"2", "1024", "any"}))
      ->group("Proxmox VE");
  for (const char* libvirt : {"--domain", "--xml", "--connect"})
    if (auto* option = command.get_option_no_throw(libvirt)) {
      vmid->excludes(option);
      file->excludes(option);
    }
}

bool has_pve_vm(const PveOptions& options) { return options.vmid != 0 || !options.config_file.empty(); }

void run_pve_suggest(const PveOptions& pve, const DomainOptions& actions, const HostOptions& host_options,
                     const RequestOptions& request_options, const CLI::App& command, bool json) {
  if (!has_pve_vm(pve) && (!pve.hookscript_out.empty() || pve.confine_host || pve.strict || !pve.hugepages.empty()))
    throw RequestError("--hookscript-out, --confine-host, --strict and --hugepages need a Proxmox VM: give --vmid N "
                       "or --pve-config FILE");
  if (actions.apply && (pve.vmid == 0 || !pve.config_file.empty()))
    throw RequestError("--apply writes the VM's own config on its node: give --vmid N (without --pve-config)");
  const PveNode node = this_pve_node();
  const PveConfig config = load_config(pve, node);
  const std::optional<unsigned> vmid = pve.vmid ? std::optional(pve.vmid) : config.vmid;
  // A locked VM is in the middle of a backup, migration or snapshot: its config is about to change.
  if (config.lock)
    throw PveConfigError(fmt::format("cannot plan {}: it is locked ({}); wait until that task ends (or `qm unlock "
                                     "{}` if it died), then plan again",
                                     vmid ? vm_label(*vmid, config) : "'" + config.source + "'", config.lock->substr(0, 40),
                                     vmid ? std::to_string(*vmid) : "VMID"));
  if (!pve.hookscript_out.empty() && !vmid)
    throw RequestError(fmt::format("cannot write a hookscript for '{}': its VMID is unknown; give --vmid N (or name "
                                   "the file ID.conf)",
                                   config.source));

  Topology topo = load_host(host_options);
  const GuestRequest defaults = request_defaults_from(config, &topo);
  Plan plan;
  try {
    plan = make_plan(topo, make_request(request_options, command, defaults, topo));
  } catch (const RequestError& e) {
    if (command.count("--vcpus") != 0) throw;
    throw RequestError(fmt::format("{} asks for {} vCPUs (sockets: {} x cores: {}{}): {}",
                                   vmid ? vm_label(*vmid, config) : "'" + config.source + "'", config.online_vcpus(),
                                   config.sockets, config.cores,
                                   config.online_vcpus() != config.vcpus()
                                       ? fmt::format(", vcpus: {}", config.online_vcpus())
                                       : "",
                                   e.what()));
  }
  const GuestPlan& guest = plan.guests.front();

  PvePatchOptions patch_options;
  if (vmid) patch_options.hookscript = fmt::format("{}:snippets/vpt-tune-{}.sh", pve.snippets_storage, *vmid);
  if (!pve.hugepages.empty()) patch_options.hugepages = pve.hugepages;
  const PvePatch patch = patch_pve_config(config, guest, topo, patch_options);
  std::optional<PveHookPlan> hook;
  if (vmid) {
    hook = make_pve_hook_plan(*vmid, config, guest, plan.host, pve.confine_host);
    hook->strict = pve.strict;
  }
  const std::string script = hook ? pve_hookscript(*hook) : "";

  std::ostream& out = json ? std::cerr : std::cout;
  if (json) {
    std::cout << plan_to_json(plan).dump(2) << '\n';
  } else {
    Plan shown = plan;
    shown.advice = pve_advice(config, plan, topo, {pve.confine_host, !pve.hugepages.empty()});
    fmt::print(out, "Plan for {} ({})\n\n", topo.cpu_model.empty() ? "this host" : topo.cpu_model, topo.source_name);
    write_plan_text(out, shown, request_options.explain);
    out << '\n';
  }
  const std::string label = vmid ? vm_label(*vmid, config) : "'" + config.source + "'";
  if (hook) {
    std::vector<std::string> io;
    for (std::size_t i = 0; i < hook->iothread_ids.size(); ++i)
      io.push_back(fmt::format("{} on CPUs {}", hook->iothread_ids[i], hook->iothreads[i]));
    fmt::print(out, "Hookscript for {}: vCPU i on CPU {} (in order){}, every other QEMU thread on CPUs {}{}\n", label,
               fmt::join(guest.vcpus, ","), io.empty() ? "" : fmt::format(", I/O thread {}", fmt::join(io, ", ")),
               hook->emulator, pve.confine_host ? fmt::format("; the host keeps CPUs {} while it runs", plan.host) : "");
  }

  for (const std::string& w : patch.warnings) fmt::print(out, "warning: {}\n", w);
  if (!pve.hookscript_out.empty()) {
    write_output_file(pve.hookscript_out, script, "hookscript", 0755, actions.force);
    fmt::print(out, "wrote the hookscript of {} to {}\n", label, pve.hookscript_out);
  }
  if (!actions.out.empty()) {
    // 0600: a config may hold cipassword's hash and sshkeys (the node keeps it 0640, root:www-data).
    write_output_file(actions.out, patch.text, "Proxmox config", 0600, actions.force);
    fmt::print(out, "wrote the config of {} with the plan to {}\n", label, actions.out);
  }
  // The same change as qemu-server's own command: on a running VM, qm set puts what it
  // cannot change live into [PENDING], so the config keeps describing the running QEMU.
  const std::string qm_set = vmid && !patch.edits.empty() ? pve_qm_set_command(*vmid, patch) : "";
  if (!qm_set.empty()) fmt::print(out, "the same change with qemu-server's own command:\n  {}\n", qm_set);
  if (vmid && !patch_options.hookscript.empty()) {
    std::string install_at;
    try {
      install_at = snippet_path(node, patch_options.hookscript);
    } catch (const std::exception&) {
      install_at = fmt::format("the snippets directory of storage '{}'", pve.snippets_storage);
    }
    fmt::print(out, "note: the config names hookscript {}: install the script as {} (--apply does{}) on every node "
                    "the VM may run on, before the VM starts\n",
               patch_options.hookscript, install_at,
               pve.hookscript_out.empty() ? "; --hookscript-out FILE writes it"
                                          : fmt::format("; a copy is in {}", pve.hookscript_out));
  }
  if (!actions.apply) {
    std::string diff = unified_diff(config.text, patch.text, fmt::format("{} (current)", config.source),
                                    fmt::format("{} (with the plan)", config.source));
    if (diff.empty()) fmt::print(out, "the config of {} already has this plan\n", label);
    out << diff;
    for (const std::string& note : patch.notes) out << "note: " << note << '\n';
    return;
  }
  // A running VM's config must keep describing the QEMU that runs (a live migration starts
  // the target from it): the changes go into [PENDING], as `qm set` records them.
  const bool running = running_qemu_pid(node, *vmid).has_value();
  const std::string new_config = running ? pve_pending_text(config, patch) : patch.text;
  PveApplyRequest request;
  request.vmid = *vmid;
  request.planned_from = config.text;
  request.new_config = new_config;
  request.hookscript = script;
  request.hookscript_volume = patch_options.hookscript;
  request.backup_dir = actions.backup_dir;
  PveApplyResult result = apply_pve_config(node, request);
  result.notes = patch.notes;
  result.notes.push_back(fmt::format("copy {} to the same place on every node VM {} may migrate to",
                                     result.hookscript_path, *vmid));
  write_pve_apply_result(out, result);
  if (running)
    fmt::print(out, "note: VM {} is running: the changes are in its [PENDING] section (as `qm set` writes them) and "
                    "take effect at its next start; the hookscript is set now\n", *vmid);
  if (actions.live) pin_running_pve_vm(out, node, *vmid, result.hookscript_path, *hook);
  else if (running)
    fmt::print(out, "note: add --live to pin the running VM now\n");
}

void run_pve_restore(unsigned vmid, const std::string& backup_arg, const std::string& backup_dir) {
  const std::string dir = backup_dir.empty() ? default_backup_dir() : backup_dir;
  const std::vector<Backup> backups = list_backups(dir, pve_backup_name(vmid), ".conf");
  std::string backup = backup_arg;
  if (backup.empty()) {
    if (backups.empty()) fmt::print(std::cout, "no backups of VM {} in {}\n", vmid, dir);
    for (const Backup& b : backups)
      fmt::print(std::cout, "{}  VM {}  {:<7}  {}\n", b.time, vmid, to_string(b.made_by), b.path);
    return;
  }
  if (backup == "latest") {
    const Backup* undo = latest_undo(backups);
    if (!undo)
      throw PveConfigError(fmt::format("cannot restore VM {}: no backup an apply took in '{}'{}", vmid, dir,
                                       backups.empty() ? "" : " (only the ones restores took: name one of them)"));
    backup = undo->path;
  }
  const PveNode node = this_pve_node();
  PveRestoreResult r = restore_pve_config(node, vmid, backup, dir);
  std::cout << r.diff;
  fmt::print(std::cout, "VM {}: config restored from {}\n", vmid, backup);
  if (!r.backup_of_replaced.empty())
    fmt::print(std::cout, "the config it replaced is backed up in {}\n", r.backup_of_replaced);
  if (running_qemu_pid(node, vmid))
    fmt::print(std::cout, "note: VM {} is running: the restored config takes effect at its next start\n", vmid);
}

PveMeasuredVm open_pve_vm(unsigned vmid) {
  const PveNode node = this_pve_node();
  const PveConfig config = load_pve_config_file(node.config_path(vmid));
  std::optional<int> pid = running_qemu_pid(node, vmid);
  if (!pid)
    throw BenchInputError(fmt::format("cannot measure VM {}: it is not running on this node (no live QEMU behind "
                                      "'{}')",
                                      vmid, node.pid_path(vmid)));
  QemuProcess process{*pid, {}};
  LivePins pins;
  std::optional<PveHookPlan> hook;
  if (config.hookscript) {
    try {
      std::string path = snippet_path(node, *config.hookscript);
      if (auto text = read_whole_file(path)) hook = read_pve_hookscript(*text, path);
      else fmt::print(std::cerr, "note: cannot read hookscript '{}': {}\n", path, std::strerror(errno));
    } catch (const PveConfigError& e) {
      fmt::print(std::cerr, "note: {}\n", e.what());
    }
  }
  if (hook) {
    pins = expected_pins(*hook);
    process.iothread_tids = iothread_tids(node, vmid, *hook, std::cerr);
  } else if (config.affinity) {
    fmt::print(std::cerr, "note: VM {} has no vpt-tune hookscript: every thread is checked against its affinity: {}\n",
               vmid, *config.affinity);
    pins.vcpus.assign(config.online_vcpus(), *config.affinity);
    pins.emulator = *config.affinity;
  } else {
    fmt::print(std::cerr, "note: VM {} has neither a vpt-tune hookscript nor affinity: its threads are listed, not "
                          "checked\n", vmid);
  }
  std::string name = config.name.empty() ? fmt::format("vm{}", vmid) : config.name;
  std::unique_ptr<Hypervisor> view = qemu_process_view(fmt::format("proxmox:{}", vmid), name, std::move(pins));
  return {std::move(view), std::move(name), std::move(process)};
}

}  // namespace vpt::cli
