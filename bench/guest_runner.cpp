// `bench --domain`: the in-guest probe run through the domain's command
// channel, stored as the results' "guest" section, with the vCPU threads'
// steal sampled while it keeps the vCPUs busy.
#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "bench/bench.hpp"
#include "bench/guest_probe.hpp"
#include "bench/steal.hpp"

namespace vpt {

namespace {

// Samples the vCPU threads' steal while the probe runs: the one window in
// which an otherwise idle guest wants every vCPU at once.
std::unique_ptr<StealSampler> steal_sampler(const Results& results) {
  if (!results.domain || !results.domain->qemu_pid) return nullptr;
  std::vector<QemuThread> vcpus;
  for (const QemuThread& t : list_qemu_threads(*results.domain->qemu_pid, results.domain->name, ProcPaths{}))
    if (t.kind == ThreadKind::Vcpu) vcpus.push_back(t);
  if (vcpus.empty()) return nullptr;
  std::sort(vcpus.begin(), vcpus.end(), [](const QemuThread& a, const QemuThread& b) { return a.index < b.index; });
  return std::make_unique<StealSampler>(*results.domain->qemu_pid, std::move(vcpus), std::chrono::milliseconds(100));
}

}  // namespace

void run_guest_probe(Results& results, const MeasuredDomain& domain, const GuestProbeOptions& options,
                     const ProgressFn& progress) {
  std::optional<std::string> channel;
  try {
    channel = guest_channel_path(domain.connection.live_xml(domain.name));
  } catch (const std::exception& e) {
    results.warnings.push_back(fmt::format("in-guest probe not run: domain '{}': {}", domain.name, e.what()));
    return;
  }
  if (!channel) {
    results.warnings.push_back(fmt::format(
        "in-guest probe not run: domain '{}' has no command channel (a <serial type='unix'> with <source "
        "mode='bind'> on <target port='1'/> serving a shell, as tests/live/guest/init does)",
        domain.name));
    return;
  }
  GuestResults run;
  run.channel = "serial";
  run.via = *channel;
  run.command = options.command.empty()
                    ? fmt::format("vpt-guest-probe{} --rounds {}", options.quick ? " --quick" : "", results.rounds)
                    : options.command;
  if (progress) progress(fmt::format("in-guest probe '{}' through {}", run.command, run.via));
  std::unique_ptr<StealSampler> steal = steal_sampler(results);
  if (steal) steal->start();
  const auto start = std::chrono::steady_clock::now();
  try {
    GuestReply reply = run_guest_command(run.via, run.command, options.timeout);
    run.exit_code = reply.exit_code;
    run.output = parse_guest_probe_output(reply.output);
    if (reply.exit_code != 0)
      run.error = fmt::format("'{}' exited with {} in the guest", run.command, reply.exit_code);
  } catch (const std::exception& e) {
    run.error = e.what();
  }
  run.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (steal) {
    steal->stop();
    if (!results.steal) results.steal.emplace();
    results.steal->windows.push_back(steal->window(
        "guest probe",
        fmt::format("while the in-guest probe ran ({:.1f} s), which keeps the vCPUs busy: the steal the guest's own "
                    "work suffers; split into {} rounds of consecutive {} ms samples",
                    run.duration_s, results.rounds, steal->interval().count()),
        results.rounds));
  }

  const std::string who = fmt::format("in-guest probe of domain '{}'", domain.name);
  if (!run.error.empty()) results.warnings.push_back(fmt::format("{}: {}", who, run.error));
  for (const std::string& p : run.output.problems) results.warnings.push_back(fmt::format("{}: {}", who, p));
  for (const GuestC2c& c : run.output.c2c)
    if (!c.error.empty())
      results.warnings.push_back(fmt::format("{}: ping-pong vCPU {} <-> {}: {}", who, c.cpu_a, c.cpu_b, c.error));
  if (run.output.online_cpus && *run.output.online_cpus < 2)
    results.warnings.push_back(fmt::format(
        "{}: the guest brought up {} CPU (a TCG guest without <features><acpi/><apic/></features> sees one)", who,
        *run.output.online_cpus));
  results.guest = std::move(run);
}

}  // namespace vpt
