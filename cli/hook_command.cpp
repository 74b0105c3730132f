#include "cli/hook_command.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "cli/domain_options.hpp"
#include "common/atomic_file.hpp"
#include "common/cpuset.hpp"
#include "common/input_file.hpp"
#include "optimizer/optimizer.hpp"
#include "optimizer/plan_writers.hpp"
#include "probe/probe.hpp"
#include "virt/domain.hpp"
#include "virt/hook_script.hpp"

namespace vpt::cli {

namespace {

struct HookOptions {
  DomainOptions domain;   // --connect, --domain
  std::string host_cpus;  // --host-cpus LIST
  std::string plan_file;  // --plan FILE.json
  std::string path;  // "" = /etc/libvirt/hooks/qemu.d/vpt-tune-DOMAIN
  bool print = false;
  bool force = false;
};

// The CPUs the host keeps: --host-cpus, the plan's host CPUs, or every CPU of
// this host the domain's vCPUs are not pinned to.
CpuSet host_cpus(const HookOptions& options) {
  if (!options.host_cpus.empty()) {
    CpuSet cpus;
    try {
      cpus = CpuSet::parse(options.host_cpus);
    } catch (const std::invalid_argument& e) {
      throw CLI::ValidationError("--host-cpus", e.what());
    }
    if (cpus.empty()) throw CLI::ValidationError("--host-cpus", "the host needs at least one CPU");
    return cpus;
  }
  if (!options.plan_file.empty()) {
    Plan plan = load_plan_file(options.plan_file);
    if (plan.host.empty())
      throw RequestError(fmt::format("cannot take the host's CPUs from plan '{}': it leaves the host no CPU of its "
                                     "own; give --host-cpus LIST",
                                     options.plan_file));
    fmt::print(std::cerr, "vpt-tune: the host keeps {}, the host CPUs of plan '{}'\n", cpus_text(plan.host),
               options.plan_file);
    return plan.host;
  }
  const Domain domain = load_domain(options.domain);
  CpuSet vcpus;
  for (const auto& [vcpu, pin] : domain.vcpupins) vcpus |= pin;
  if (vcpus.empty())
    throw RequestError(fmt::format("cannot take the host's CPUs from domain '{}': its vCPUs are not pinned; run "
                                   "`vpt-tune suggest --domain {} --apply` first, or give --host-cpus LIST",
                                   domain.name, domain.name));
  const CpuSet cpus = all_cpus(probe_live_host()) - vcpus;
  if (cpus.empty())
    throw RequestError(fmt::format("cannot take the host's CPUs from domain '{}': its vCPUs are pinned to every "
                                   "CPU of this host; give --host-cpus LIST",
                                   domain.name));
  fmt::print(std::cerr, "vpt-tune: the host keeps {}: every CPU of this host that domain '{}' does not pin a vCPU "
                        "to\n",
             cpus_text(cpus), domain.name);
  return cpus;
}

void run_hook(const HookOptions& options) {
  const CpuSet cpus = host_cpus(options);
  const std::string& name = options.domain.domain;
  const std::string script = qemu_hook_script(name, cpus);
  if (options.print) {
    std::cout << script;
    return;
  }
  namespace fs = std::filesystem;
  const fs::path path =
      options.path.empty() ? fs::path("/etc/libvirt/hooks/qemu.d") / ("vpt-tune-" + name) : fs::path(options.path);
  std::error_code ec;
  const bool exists = fs::exists(path, ec);
  if (exists) {
    if (read_whole_file(path).value_or("") == script) {
      fmt::print(std::cout, "hook {} is already installed, unchanged\n", path.string());
      return;
    }
    if (!options.force)
      throw std::runtime_error(fmt::format("cannot install hook '{}': a different file is there (see it, then "
                                           "use --force to replace it, or --path for another place)",
                                           path.string()));
  }
  fs::create_directories(path.parent_path(), ec);
  if (ec) throw std::runtime_error(fmt::format("cannot create directory '{}': {}", path.parent_path().string(), ec.message()));
  // libvirtd runs it: executable, readable by all (as hooks are), and a file
  // that appeared since the check above is not replaced without --force.
  write_file_atomically(path.string(), script, "hook", 0755, exists ? ExistingFile::Replace : ExistingFile::Keep);
  fmt::print(std::cout,
             "installed {}: while '{}' runs, the host keeps {}\n"
             "note: libvirtd looks for hooks when it starts: restart it once after installing the first hook\n",
             path.string(), name, cpus_text(cpus));
}

}  // namespace

void setup_hook(CLI::App& app) {
  auto options = std::make_shared<HookOptions>();
  CLI::App* hook = app.add_subcommand(
      "hook", "Write a libvirt qemu hook that confines the host to its CPUs while a guest runs");
  hook->footer(
      "The hook acts on the guest's 'prepare begin' (before QEMU starts) and 'release end' (after it is gone):\n"
      "with systemd it sets AllowedCPUs= on user.slice, system.slice and init.scope; without, it writes\n"
      "cpuset.cpus of the host's cgroups (v2 or v1). The values the host had are saved in /run/vpt-tune\n"
      "before the first guest confines it and put back when the last one stops. With several confined\n"
      "guests (one hook each, or Proxmox hookscripts) the host keeps the CPUs all of them leave it; a guest\n"
      "whose QEMU is gone no longer counts (docs/host-confinement.md).\n"
      "Examples:\n"
      "  vpt-tune hook --domain win11 --print                   the host keeps the CPUs win11's vCPUs are not pinned to\n"
      "  vpt-tune suggest --domain win11 --json > plan.json; vpt-tune hook --domain win11 --plan plan.json\n"
      "  vpt-tune hook --domain win11 --host-cpus 16-27 --print    show it\n"
      "  vpt-tune hook --domain win11 --host-cpus 16-27            install /etc/libvirt/hooks/qemu.d/vpt-tune-win11\n"
      "  vpt-tune hook --domain win11 --host-cpus 16-27 --path /etc/libvirt/hooks/qemu");
  add_connect_options(*hook, options->domain);
  hook->get_option("--domain")->description("The guest whose start and stop trigger the hook")->required();
  auto* cpus = hook->add_option("--host-cpus", options->host_cpus,
                                "CPUs the host keeps while the guest runs, e.g. 0-1,8-9 (default: every CPU the "
                                "domain's vCPUs are not pinned to, read through --connect)")
                   ->option_text("LIST");
  hook->add_option("--plan", options->plan_file, "Take the CPUs the host keeps from a plan (`vpt-tune suggest --json`)")
      ->option_text("FILE.json")
      ->excludes(cpus);
  hook->add_flag("--print", options->print, "Print the script instead of installing it");
  hook->add_option("--path", options->path,
                   "Install here (default: /etc/libvirt/hooks/qemu.d/vpt-tune-NAME, which libvirt runs besides "
                   "/etc/libvirt/hooks/qemu)")
      ->option_text("FILE");
  hook->add_flag("--force", options->force, "Replace a different file at that path");
  hook->callback([options] { run_hook(*options); });
}

}  // namespace vpt::cli
