#include "cli/whole_host.hpp"


#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <filesystem>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "cli/output_file.hpp"
#include "cli/pve_options.hpp"
#include "common/text.hpp"
#include "common/unified_diff.hpp"
#include "optimizer/host_plan.hpp"
#include "optimizer/plan_writers.hpp"
#include "report/report.hpp"
#include "pve/hookscript.hpp"
#include "pve/pve_apply.hpp"
#include "pve/pve_config.hpp"
#include "pve/pve_node.hpp"
#include "virt/apply.hpp"
#include "virt/domain.hpp"
#include "virt/domain_xml.hpp"
#include "virt/libvirt_connection.hpp"

namespace vpt::cli {

namespace {

// More VMs than any host runs: a bound on what a connection or a command line hands us.
constexpr std::size_t kMaxGuests = 512;

std::string fs_parent(const std::string& path) { return std::filesystem::path(path).parent_path().string(); }

struct Vm {
  Domain domain;
  std::string source;  // "domain 'win11'" or the file
};

std::vector<Vm> load_vms(const WholeHostOptions& options, const DomainOptions& domain, Hypervisor* hv,
                         std::vector<std::string>& skipped) {
  std::vector<Vm> vms;
  if (!options.xml_files.empty()) {
    for (const std::string& file : options.xml_files)
      vms.push_back({require_qemu_guest(load_domain_xml_file(file), file), file});
    return vms;
  }
  const bool secure = domain.apply || !options.out_dir.empty();
  std::vector<std::string> names;
  if (options.all) {
    names = hv->domain_names();
  } else {
    for (const std::string& name : options.domains) names.push_back(hv->find_domain(name));
  }
  if (names.size() > kMaxGuests)
    throw RequestError(fmt::format("cannot plan {} domains at once: at most {}; name them with --domain", names.size(),
                                   kMaxGuests));
  for (const std::string& name : names) {
    try {
      vms.push_back({require_qemu_guest(parse_domain_xml(hv->definition_xml(name, secure), name), name),
                     fmt::format("domain '{}'", name)});
    } catch (const DomainInputError& e) {
      if (!options.all) throw;
      skipped.push_back(printable(e.what()));  // --all: an LXC or Xen domain is not ours to plan
    }
  }
  return vms;
}

// Every CPU the domain's <vcpupin>s name (its <vcpu cpuset> when it has none).
CpuSet pinned_cpus(const Domain& d) {
  CpuSet cpus;
  for (const auto& [vcpu, set] : d.vcpupins) cpus |= set;
  if (cpus.empty() && d.vcpu_cpuset) cpus = *d.vcpu_cpuset;
  return cpus;
}

// Every name of --dedicated/--shared/--keep is one of `known` (else "no such
// VM `where`"), and none is given to two of them.
void check_names(const WholeHostOptions& o, const std::set<std::string>& known, const std::string& where) {
  std::map<std::string, std::string> flag_of;
  for (const auto& [flag, names] : {std::pair{"--dedicated", &o.dedicated}, std::pair{"--shared", &o.shared},
                                    std::pair{"--keep", &o.keep}})
    for (const std::string& name : *names) {
      if (!known.count(name)) throw RequestError(fmt::format("{} {}: no such VM {}", flag, printable(name), where));
      auto [it, fresh] = flag_of.emplace(name, flag);
      if (!fresh && it->second != flag)
        throw RequestError(fmt::format("VM '{}' is given to both {} and {}: choose one", printable(name), it->second, flag));
    }
}

// The role the command line gives a VM (`named` says whether a list of
// --keep/--dedicated/--shared names it), else the default: dedicated when it
// passes a device through, shared otherwise. The caller fills a kept guest's CPUs.
void assign_role(const WholeHostOptions& o, const std::function<bool(const std::vector<std::string>&)>& named,
                 HostGuest& g) {
  if (named(o.keep)) {
    g.role = GuestRole::Kept;
    g.role_reason = "--keep";
  } else if (named(o.dedicated)) {
    g.role = GuestRole::Dedicated;
    g.role_reason = "--dedicated";
  } else if (named(o.shared)) {
    g.role = GuestRole::Shared;
    g.role_reason = "--shared";
  } else if (!g.devices.empty()) {
    g.role = GuestRole::Dedicated;
    g.role_reason = fmt::format("passes through {}", g.devices.front());
  } else {
    g.role = GuestRole::Shared;
    g.role_reason = "no passed-through device";
  }
}

// What every guest shares: --reserve, --exclude, --isolated and the weights.
HostRequest host_request_base(const RequestOptions& options) {
  const Request base = make_request(options);
  HostRequest request;
  request.reserve_cores = base.reserve_cores;
  request.excluded = base.excluded;
  request.isolated = base.isolated;
  request.weights = base.weights;
  return request;
}

HostGuest host_guest(const WholeHostOptions& o, const Vm& vm, const RequestOptions& request, const CLI::App& command,
                     const Topology& topo) {
  HostGuest g;
  g.request = make_request(request, command, vm.domain, topo, /*keep_pins=*/false).guests.front();
  g.devices = vm.domain.hostdevs;
  assign_role(o, [&](const std::vector<std::string>& names) {
    return std::find(names.begin(), names.end(), vm.domain.name) != names.end();
  }, g);
  if (g.role == GuestRole::Dedicated) {
    const auto review = review_domain_pins(request, command, vm.domain, topo, g.request, make_request(request).isolated);
    if (review && review->keep) {
      g.clean_pins = review->cpus;
      g.clean_pins_reason = review->reason;
    } else if (review) {
      g.request.notes.push_back(fmt::format("its current vCPU pins are planned anew: {}", review->reason));
    }
  }
  if (g.role == GuestRole::Kept) {
    g.kept_cpus = pinned_cpus(vm.domain);
    if (vm.domain.emulatorpin) g.kept_helper_cpus |= *vm.domain.emulatorpin;
    for (const auto& [id, cpus] : vm.domain.iothreadpins) g.kept_helper_cpus |= cpus;
  }
  return g;
}

// The change a guest's role makes to its definition; nullopt for a kept guest.
std::optional<DefinitionPatch> change_for(const HostGuestPlan& p, const Domain& d) {
  switch (p.role) {
    case GuestRole::Dedicated: {
      GuestPlan plan = *p.plan;
      return DefinitionPatch([plan](const std::string& xml) { return patch_domain(xml, plan); });
    }
    case GuestRole::Shared: {
      DomainTuning tuning;
      for (unsigned v = 0; v < d.max_vcpus; ++v) tuning.vcpu_pins[v] = p.pool;
      tuning.emulator_pin = p.pool;
      for (unsigned id : d.iothread_ids) tuning.iothread_pins[id] = p.pool;
      return DefinitionPatch([tuning](const std::string& xml) { return patch_domain(xml, tuning); });
    }
    case GuestRole::Kept: return std::nullopt;
  }
  return std::nullopt;
}

std::string threads_column(const HostGuestPlan& p) {
  switch (p.role) {
    case GuestRole::Dedicated: return p.plan->helper_cpus().to_string();
    case GuestRole::Shared: return "the pool";
    case GuestRole::Kept: return "as defined";
  }
  return "";
}

std::string vcpus_column(const HostGuestPlan& p) {
  switch (p.role) {
    case GuestRole::Dedicated: return p.plan->vcpu_cpus().to_string();
    case GuestRole::Shared: return fmt::format("pool {}", p.pool);
    case GuestRole::Kept: return fmt::format("{} (its pins)", p.kept_cpus);
  }
  return "";
}

void write_host_plan_text(std::ostream& out, const Topology& topo, const HostPlan& plan,
                          const std::vector<std::string>& skipped) {
  std::map<GuestRole, unsigned> count;
  for (const HostGuestPlan& g : plan.guests) ++count[g.role];
  fmt::print(out, "Whole-host plan for {} ({}): {} guest{}, {} dedicated, {} shared, {} kept\n\n",
             topo.cpu_model.empty() ? "this host" : topo.cpu_model, topo.source_name, plan.guests.size(),
             plan.guests.size() == 1 ? "" : "s", count[GuestRole::Dedicated], count[GuestRole::Shared],
             count[GuestRole::Kept]);
  fmt::print(out, "  {:<20} {:<10} {:>5}  {:<22} {:<14} {}\n", "guest", "role", "vCPUs", "vCPUs run on",
             "QEMU threads", "why");
  for (const HostGuestPlan& g : plan.guests)
    fmt::print(out, "  {:<20} {:<10} {:>5}  {:<22} {:<14} {}\n", printable(g.name, 20), role_name(g.role), g.vcpus,
               vcpus_column(g), threads_column(g), printable(g.role_reason, 60));
  out << '\n';
  for (const std::string& line : plan.explanation) out << line << '\n';
  fmt::print(out, "The host keeps {}.\n", cpus_text(plan.host));
  for (const std::string& s : skipped) fmt::print(out, "skipped: {}\n", s);
  for (const std::string& w : plan.warnings) fmt::print(out, "warning: {}\n", w);
  if (!plan.dedicated.guests.empty()) {
    out << "\nThe dedicated guests (one search over the cost model):\n";
    write_plan_text(out, plan.dedicated);  // the score as one line; --explain is for one guest
  }
}

// --report FILE: the whole host as one report (report/report.hpp), redacted.
void write_host_report(std::ostream& out, const Topology& topo, const HostPlan& plan, const std::string& file,
                       bool force) {
  if (file.empty()) return;
  ReportSources sources;
  sources.topology = topo;
  sources.plan = as_one_plan(plan);
  std::size_t index = 0;
  for (const HostGuestPlan& g : plan.guests) {
    if (g.role == GuestRole::Kept) sources.as_defined[index] = "its own pins, left as defined (--keep)";
    if (g.role == GuestRole::Shared) sources.host_shared_with.push_back(g.name);
    if (g.role != GuestRole::Shared) ++index;  // as_one_plan's order: dedicated and kept guests
  }
  std::ostringstream text;
  write_report(text, build_report(sources, ReportSettings{}), format_from_extension(file).value_or(ReportFormat::Html));
  write_output_file(file, text.str(), "report", 0644, force);
  fmt::print(out, "wrote the whole-host report to {}\n", file);
}

// The plan as JSON on stdout or as text; returns where the rest goes (stderr with JSON).
std::ostream& print_host_plan(const Topology& topo, const HostPlan& plan, const std::vector<std::string>& skipped,
                              bool json) {
  if (!json) {
    write_host_plan_text(std::cout, topo, plan, skipped);
    return std::cout;
  }
  std::cout << host_plan_to_json(plan).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  return std::cerr;
}

void make_private_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    throw std::runtime_error(fmt::format("cannot create --out-dir '{}': {}", dir, std::strerror(errno)));
}

void apply_all(std::ostream& out, Hypervisor& hv, const DomainOptions& domain,
               const std::vector<DomainChange>& changes) {
  ApplyOptions apply;
  apply.live = domain.live;
  apply.backup_dir = domain.backup_dir;
  for (const ApplyResult& r : apply_changes(hv, changes, apply)) write_apply_result(out, r);
  fmt::print(out, "undo all of it: vpt-tune restore --all{}\n",
             domain.backup_dir.empty() ? std::string() : fmt::format(" --backup-dir {}", domain.backup_dir));
}

// ---- Proxmox VE: a node's VM configs ----------------------------------------

struct PveVm {
  unsigned vmid = 0;
  PveConfig config;
};

// Every DIR/<VMID>.conf, by VMID. Containers' configs, templates and locked
// VMs are skipped with a line saying why.
std::vector<PveVm> load_pve_vms(const std::string& dir, std::vector<std::string>& skipped) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw RequestError(fmt::format("cannot read --pve-dir '{}': not a directory (give a copy of "
                                   "/etc/pve/qemu-server)",
                                   dir));
  std::map<unsigned, std::string> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.ends_with(".conf") || name.size() < 6 || name.size() > 14) continue;
    const std::string id = name.substr(0, name.size() - 5);
    if (!std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; }) || id.front() == '0') continue;
    files[static_cast<unsigned>(std::stoul(id))] = entry.path().string();
    if (files.size() > kMaxGuests)
      throw RequestError(fmt::format("cannot plan more than {} VMs at once from '{}'", kMaxGuests, dir));
  }
  if (ec) throw RequestError(fmt::format("cannot read --pve-dir '{}': {}", dir, ec.message()));
  std::vector<PveVm> vms;
  for (const auto& [vmid, path] : files) {
    PveVm vm{vmid, {}};
    try {
      vm.config = load_pve_config_file(path);
    } catch (const PveConfigError& e) {
      skipped.push_back(printable(e.what()));
      continue;
    }
    auto template_flag = vm.config.options.find("template");
    if (template_flag != vm.config.options.end() && template_flag->second == "1") {
      skipped.push_back(fmt::format("VM {}: a template (it never runs)", vmid));
      continue;
    }
    if (vm.config.lock) {
      skipped.push_back(fmt::format("VM {}: locked ({}); plan again when that task ends", vmid,
                                    printable(*vm.config.lock, 40)));
      continue;
    }
    vms.push_back(std::move(vm));
  }
  return vms;
}

// --dedicated/--shared/--keep take a VMID or a VM's name.
bool names_vm(const std::vector<std::string>& names, const PveVm& vm, const std::string& name) {
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& n) { return n == std::to_string(vm.vmid) || n == name; });
}

// What the plan writes for one VM.
struct PveOutput {
  std::optional<PvePatch> patch;  // nullopt: kept
  std::string script;             // dedicated VMs: the hookscript
  std::string script_volume;      // ... and the volume the config names it by
  std::optional<PveHookPlan> hook;
};

// --apply (--live): every VM's config and hookscript in one step that is
// undone whole when one VM fails (pve/pve_apply.hpp apply_pve_configs); a
// running VM's changes go into [PENDING] as `qm set` records them, and with
// --live its QEMU is re-pinned now.
void apply_pve_host(std::ostream& out, const std::vector<PveVm>& vms, const HostPlan& plan,
                    const std::vector<PveOutput>& outputs, const DomainOptions& domain) {
  const PveNode node = this_pve_node();
  std::vector<PveApplyRequest> requests;
  std::vector<std::size_t> index_of;  // request -> VM
  std::vector<bool> running;
  for (std::size_t k = 0; k < vms.size(); ++k) {
    if (!outputs[k].patch) continue;
    const PveVm& vm = vms[k];
    PveApplyRequest request;
    request.vmid = vm.vmid;
    request.planned_from = vm.config.text;
    const bool runs = running_qemu_pid(node, vm.vmid).has_value();
    request.new_config = runs ? pve_pending_text(vm.config, *outputs[k].patch) : outputs[k].patch->text;
    request.hookscript = outputs[k].script;
    request.hookscript_volume = outputs[k].script_volume;
    requests.push_back(std::move(request));
    index_of.push_back(k);
    running.push_back(runs);
  }
  std::vector<PveApplyResult> results = apply_pve_configs(node, requests, domain.backup_dir);
  for (std::size_t r = 0; r < results.size(); ++r) {
    const std::size_t k = index_of[r];
    const PveVm& vm = vms[k];
    out << '\n';
    PveApplyResult shown = results[r];
    shown.notes.insert(shown.notes.begin(), outputs[k].patch->notes.begin(), outputs[k].patch->notes.end());
    write_pve_apply_result(out, shown);
    if (running[r] && shown.config_written)
      fmt::print(out, "note: VM {} is running: its changes are in its [PENDING] section (as `qm set` writes them) and "
                      "take effect at its next start\n", vm.vmid);
    if (!domain.live || !running[r]) continue;
    if (outputs[k].hook) pin_running_pve_vm(out, node, vm.vmid, results[r].hookscript_path, *outputs[k].hook);
    else confine_running_pve_vm(out, node, vm.vmid, plan.guests[k].pool);
  }
  bool any_written = false;
  for (const PveApplyResult& r : results) any_written = any_written || r.config_written;
  if (any_written) fmt::print(out, "\nundo this apply with: vpt-tune restore --all\n");
  if (!domain.live && std::find(running.begin(), running.end(), true) != running.end())
    fmt::print(out, "note: add --live to re-pin the running VMs now\n");
}

void run_pve_whole_host(const WholeHostOptions& o, const DomainOptions& domain, const PveOptions& pve,
                        const HostOptions& host, const RequestOptions& request, const CLI::App& command, bool json) {
  if (domain.apply && !o.all_vmids)
    throw RequestError("--apply writes this node's own configs: use --all-vmids on the node (--pve-dir plans a copy; "
                       "write it with --out-dir DIR)");
  if (domain.live && !domain.apply) throw RequestError("--live re-pins running VMs as part of --apply: add --apply");
  const std::string dir = o.all_vmids ? fs_parent(this_pve_node().config_path(1)) : o.pve_dir;
  std::vector<std::string> skipped;
  std::vector<PveVm> vms = load_pve_vms(dir, skipped);
  if (vms.empty()) throw RequestError(fmt::format("no VM config to plan in '{}'", dir));
  Topology topo = load_host(host);

  HostRequest host_request = host_request_base(request);
  std::set<std::string> known;
  for (const PveVm& vm : vms) {
    HostGuest g;
    g.request = make_request(request, command, request_defaults_from(vm.config, &topo), topo).guests.front();
    known.insert(std::to_string(vm.vmid));
    known.insert(g.request.name);
    g.devices = vm.config.hostpci;
    for (const std::string& mapping : vm.config.hostpci_mappings) g.devices.push_back("mapping=" + mapping);
    assign_role(o, [&](const std::vector<std::string>& names) { return names_vm(names, vm, g.request.name); }, g);
    if (g.role == GuestRole::Kept && vm.config.affinity) g.kept_cpus = *vm.config.affinity;
    host_request.guests.push_back(std::move(g));
  }
  check_names(o, known, fmt::format("(VMID or name) in '{}'", dir));
  const HostPlan plan = plan_host(topo, host_request);
  std::ostream& out = print_host_plan(topo, plan, skipped, json);
  write_host_report(out, topo, plan, o.report_file, domain.force);
  // Every patch first: a VM whose config cannot take its plan stops the whole
  // plan before anything is written.
  std::vector<PveOutput> outputs(vms.size());
  std::vector<std::string> refused;
  for (std::size_t k = 0; k < vms.size(); ++k) {
    const PveVm& vm = vms[k];
    const HostGuestPlan& p = plan.guests[k];
    try {
      switch (p.role) {
        case GuestRole::Kept: break;
        case GuestRole::Shared: outputs[k].patch = patch_pve_affinity(vm.config, p.pool); break;
        case GuestRole::Dedicated: {
          PvePatchOptions options;
          options.hookscript = fmt::format("{}:snippets/vpt-tune-{}.sh", pve.snippets_storage, vm.vmid);
          outputs[k].patch = patch_pve_config(vm.config, *p.plan, topo, options);
          outputs[k].script_volume = options.hookscript;
          PveHookPlan hook = make_pve_hook_plan(vm.vmid, vm.config, *p.plan, plan.host, pve.confine_host);
          hook.strict = pve.strict;
          outputs[k].script = pve_hookscript(hook);
          outputs[k].hook = std::move(hook);
          break;
        }
      }
    } catch (const std::exception& e) {
      refused.push_back(fmt::format("VM {}: {}", vm.vmid, e.what()));
    }
  }
  if (!refused.empty())
    throw PveConfigError(fmt::format("cannot write the whole-host plan ({} of {} VMs cannot take theirs; nothing was "
                                     "written): {}",
                                     refused.size(), vms.size(), fmt::join(refused, "; ")));
  if (!o.out_dir.empty()) make_private_dir(o.out_dir);
  if (domain.apply) {
    apply_pve_host(out, vms, plan, outputs, domain);
    return;
  }
  for (std::size_t k = 0; k < vms.size(); ++k) {
    const PveVm& vm = vms[k];
    const HostGuestPlan& p = plan.guests[k];
    const std::string label = fmt::format("VM {} ({})", vm.vmid, printable(p.name, 40));
    if (!outputs[k].patch) {
      if (!json) fmt::print(out, "\n{}: kept as configured (--keep)\n", label);
      continue;
    }
    const PvePatch& patch = *outputs[k].patch;
    const std::string& script = outputs[k].script;
    if (!o.out_dir.empty()) {
      const std::string conf = fmt::format("{}/{}.conf", o.out_dir, vm.vmid);
      write_output_file(conf, patch.text, "patched config", 0600, domain.force);
      fmt::print(out, "wrote the patched config of {} to {}\n", label, conf);
      if (!script.empty()) {
        const std::string hook = fmt::format("{}/vpt-tune-{}.sh", o.out_dir, vm.vmid);
        write_output_file(hook, script, "hookscript", 0755, domain.force);
        fmt::print(out, "wrote its hookscript to {} (install it as {}:snippets/vpt-tune-{}.sh)\n", hook,
                   pve.snippets_storage, vm.vmid);
      }
    }
    if (json) continue;
    const std::string diff = unified_diff(vm.config.text, patch.text, fmt::format("{}.conf (current)", vm.vmid),
                                          fmt::format("{}.conf (with the plan)", vm.vmid));
    out << '\n';
    if (diff.empty()) fmt::print(out, "{} already has this plan\n", label);
    out << diff;
    for (const std::string& note : patch.notes) out << "note: " << note << '\n';
    for (const std::string& w : patch.warnings) out << "warning: " << w << '\n';
  }
}

}  // namespace

void add_whole_host_options(CLI::App& command, WholeHostOptions& o, DomainOptions& domain) {
  // --domain and --xml become repeatable: one-VM code still reads domain.domain / xml_file.
  command.remove_option(command.get_option("--domain"));
  command.remove_option(command.get_option("--xml"));
  auto* d = command
                .add_option_function<std::vector<std::string>>(
                    "-d,--domain",
                    [&o, &domain](const std::vector<std::string>& names) {
                      o.domains = names;
                      domain.domain = names.back();
                    },
                    "The libvirt domain, by name or UUID (repeat to plan several VMs together)")
                ->option_text("NAME")
                ->expected(1)
                ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  auto* x = command
                .add_option_function<std::vector<std::string>>(
                    "--xml",
                    [&o, &domain](const std::vector<std::string>& files) {
                      o.xml_files = files;
                      domain.xml_file = files.back();
                    },
                    "Read the domain from a file (`virsh dumpxml NAME > FILE`; '-' reads standard input; repeat "
                    "to plan several VMs together)")
                ->option_text("FILE")
                ->expected(1)
                ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  x->excludes(d);
  const char* group = "Whole host (several VMs planned together)";
  command.add_flag("--all", o.all, "Plan every domain of the libvirt connection together")->group(group)->excludes(x);
  command.add_option("--dedicated", o.dedicated,
                     "This VM gets cores of its own (default: only VMs with a passed-through device); repeat")
      ->option_text("NAME")
      ->group(group);
  command.add_option("--shared", o.shared, "This VM floats over the shared pool with the other shared VMs; repeat")
      ->option_text("NAME")
      ->group(group);
  command.add_option("--keep", o.keep, "Keep this VM's current pins; the others are planned around them; repeat")
      ->option_text("NAME")
      ->group(group);
  command.add_option("--pve-dir", o.pve_dir,
                     "Proxmox VE: plan every VM config of DIR together (a copy of a node's /etc/pve/qemu-server)")
      ->option_text("DIR")
      ->group(group);
  command.add_flag("--all-vmids", o.all_vmids, "Proxmox VE: plan every VM of this node together")->group(group);
  command.add_option("--report", o.report_file,
                     "Write the whole host drawn as a shareable report: every guest in its own colour, the shared "
                     "pool and the host's CPUs (HTML; .md or .bbcode for a forum post; names and addresses redacted)")
      ->option_text("FILE")
      ->group(group);
  command.add_option("--out-dir", o.out_dir,
                     "Write each VM's patched definition to DIR/NAME.xml (Proxmox: DIR/VMID.conf and its hookscript)")
      ->option_text("DIR")
      ->group(group);
}

bool wants_whole_host(const WholeHostOptions& o) {
  return o.all || o.all_vmids || !o.pve_dir.empty() || o.domains.size() > 1 || o.xml_files.size() > 1 || !o.dedicated.empty() || !o.shared.empty() ||
         !o.keep.empty() || !o.out_dir.empty();
}

void run_whole_host_suggest(const WholeHostOptions& options, const DomainOptions& domain, const PveOptions& pve,
                            const HostOptions& host, const RequestOptions& request, const CLI::App& command,
                            bool json) {
  for (const char* one : {"--vcpus", "--guest", "--name", "--gpu", "--memory", "--cpus"})
    if (command.count(one) != 0)
      throw RequestError(fmt::format("{} is for one guest: in a whole-host plan each VM's vCPUs, memory and GPU come "
                                     "from its definition (plan that VM alone with one --domain to use it)",
                                     one));
  if (!domain.out.empty()) throw RequestError("--out writes one definition: with several VMs use --out-dir DIR");
  if (options.all_vmids || !options.pve_dir.empty()) {
    if (options.all || !options.domains.empty() || !options.xml_files.empty())
      throw RequestError("plan a Proxmox node (--pve-dir, --all-vmids) or libvirt domains (--all, --domain, --xml), "
                         "not both at once");
    if (options.all_vmids && !options.pve_dir.empty())
      throw RequestError("--all-vmids reads this node's configs; --pve-dir a copy of them: give one");
    run_pve_whole_host(options, domain, pve, host, request, command, json);
    return;
  }
  if (domain.apply && !options.xml_files.empty())
    throw RequestError("--apply defines domains through libvirt: name them with --domain NAME (or --all), not --xml");
  if (options.domains.empty() && options.xml_files.empty() && !options.all)
    throw RequestError("name the VMs to plan together: --all, or --domain NAME (or --xml FILE) for each");
  std::unique_ptr<Hypervisor> hv;
  if (options.xml_files.empty()) {
    if (host.topology_xml.empty() && host.lscpu_text.empty() && is_remote_uri(connect_uri(domain)))
      throw RequestError(fmt::format("cannot plan the domains on '{}' from this host's topology: give that host's "
                                     "with --topology FILE.xml or --lscpu FILE",
                                     connect_uri(domain)));
    hv = connect_libvirt(connect_uri(domain), /*read_write=*/domain.apply || !options.out_dir.empty());
  }
  std::vector<std::string> skipped;
  std::vector<Vm> vms = load_vms(options, domain, hv.get(), skipped);
  if (vms.empty()) throw RequestError(fmt::format("no QEMU/KVM domain to plan on '{}'", connect_uri(domain)));
  std::set<std::string> known;
  for (const Vm& vm : vms) known.insert(vm.domain.name);
  check_names(options, known, fmt::format("among those planned ({})", fmt::join(known, ", ")));
  Topology topo = load_host(host);

  HostRequest host_request = host_request_base(request);
  for (const Vm& vm : vms) host_request.guests.push_back(host_guest(options, vm, request, command, topo));
  const HostPlan plan = plan_host(topo, host_request);
  std::ostream& out = print_host_plan(topo, plan, skipped, json);
  write_host_report(out, topo, plan, options.report_file, domain.force);

  std::vector<DomainChange> changes;
  if (!options.out_dir.empty()) make_private_dir(options.out_dir);
  for (std::size_t k = 0; k < vms.size(); ++k) {
    const Domain& d = vms[k].domain;
    std::optional<DefinitionPatch> change = change_for(plan.guests[k], d);
    if (!change) {
      if (!json) fmt::print(out, "\ndomain '{}': kept as defined (--keep)\n", printable(d.name));
      continue;
    }
    PatchResult patched = (*change)(d.xml);
    if (!options.out_dir.empty()) {
      if (d.name.find('/') != std::string::npos || d.name == "." || d.name == "..")
        throw RequestError(fmt::format("cannot write '{}' under --out-dir: the name is not a file name",
                                       printable(d.name)));
      const std::string path = options.out_dir + "/" + d.name + ".xml";
      write_output_file(path, patched.xml, "patched definition", 0600, domain.force);
      fmt::print(out, "wrote the patched definition of domain '{}' to {}\n", printable(d.name), path);
    }
    if (domain.apply) {
      if (patched.xml != d.xml) changes.push_back({d.name, *change});
      continue;
    }
    if (json) continue;
    fmt::print(out, "\n");
    const std::string diff =
        unified_diff(d.xml, patched.xml, d.name + " (current definition)", d.name + " (with the plan)");
    if (diff.empty()) fmt::print(out, "domain '{}' already has this plan\n", printable(d.name));
    out << diff;
    for (const std::string& note : patched.notes) out << "note: " << note << '\n';
  }
  if (domain.apply) {
    if (changes.empty()) {
      fmt::print(out, "every domain already has this plan: nothing to apply\n");
      return;
    }
    out << '\n';
    apply_all(out, *hv, domain, changes);
  }
}

}  // namespace vpt::cli
