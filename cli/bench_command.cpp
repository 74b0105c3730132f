#include "cli/bench_command.hpp"

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "bench/bench.hpp"
#include "cli/domain_options.hpp"
#include "cli/pve_options.hpp"
#include "probe/probe.hpp"

namespace vpt::cli {

namespace {

struct BenchCommandOptions {
  bool quick = false;
  unsigned rounds = 0;         // --rounds N; 0 = the default for the mode
  std::string cpus;            // --cpus LIST
  std::string neighbour_cpus;  // --neighbour-cpus LIST
  DomainOptions domain;        // --connect, --domain
  unsigned vmid = 0;           // --vmid: a Proxmox VE VM running here
  std::string out;             // --out FILE.json (alias --save)
  bool force = false;
  bool no_guest = false;        // --no-guest: --guest-channel none
  std::string guest_channel = "auto";  // --guest-channel auto|agent|serial|none
  std::string guest_command;   // --guest-command CMD (serial channel)
  std::string guest_probe_dir; // --guest-probe-dir DIR (agent channel)
  double guest_timeout_s = 0;  // 0 = by mode
};

CpuSet parse_cpus(const std::string& text, std::string_view option) {
  if (text.empty()) return {};
  try {
    return CpuSet::parse(text);
  } catch (const std::invalid_argument& e) {
    throw BenchInputError(fmt::format("cannot parse {} '{}': {}", option, text, e.what()));
  }
}

void run_bench_command(const BenchCommandOptions& o) {
  BenchOptions options;
  options.quick = o.quick;
  if (o.rounds > 0) options.rounds = o.rounds;
  options.cpus = parse_cpus(o.cpus, "--cpus");
  options.neighbour_cpus = parse_cpus(o.neighbour_cpus, "--neighbour-cpus");
  std::error_code ec;
  // Refuse before measuring, not after ten seconds of it.
  if (!o.out.empty() && !o.force && std::filesystem::exists(o.out, ec))
    throw BenchInputError(fmt::format("cannot save results '{}': the file exists (use --force to replace it)", o.out));

  GuestChannel channel = GuestChannel::Auto;
  for (GuestChannel c : {GuestChannel::Auto, GuestChannel::Agent, GuestChannel::Serial, GuestChannel::None})
    if (to_string(c) == o.guest_channel) channel = c;
  if (o.no_guest) channel = GuestChannel::None;
  std::unique_ptr<Hypervisor> connection;
  std::optional<MeasuredDomain> domain;
  std::string read_only_note;
  if (!o.domain.domain.empty()) {
    // The guest agent needs a read-write connection (libvirt refuses
    // virDomainQemuAgentCommand on a read-only one); reading pins does not.
    const bool agent = channel == GuestChannel::Auto || channel == GuestChannel::Agent;
    if (agent) {
      try {
        connection = connect_libvirt(connect_uri(o.domain), /*read_write=*/true);
      } catch (const LibvirtError& e) {
        read_only_note = fmt::format("the guest agent needs a read-write libvirt connection, and {}", e.what());
      }
    }
    if (!connection) connection = connect_libvirt(connect_uri(o.domain), /*read_write=*/false);
    domain.emplace(open_measured_domain(*connection, o.domain.domain));
  } else if (o.vmid != 0) {
    PveMeasuredVm vm = open_pve_vm(o.vmid);
    connection = std::move(vm.connection);
    domain.emplace(MeasuredDomain{*connection, vm.name, vm.process});
  }
  Topology host = probe_live_host();

  const auto start = std::chrono::steady_clock::now();
  auto progress = [&](std::string_view step) {
    double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fmt::print(stderr, "[{:5.1f} s] {}\n", t, step);
  };
  Results results = run_bench(options, host, domain ? &*domain : nullptr, progress);
  // After the host kernels, which spin on the guest's CPUs and would disturb it.
  if (domain && channel != GuestChannel::None && o.vmid != 0) {
    results.warnings.push_back(fmt::format(
        "in-guest probe not run: VM {} is a Proxmox VE VM, and the probe gets into a guest through libvirt's guest "
        "agent or serial channel only; run vpt-guest-probe inside the guest by hand (guest/README.md)",
        o.vmid));
  } else if (domain && channel != GuestChannel::None) {
    if (!read_only_note.empty()) results.warnings.push_back(read_only_note);
    GuestProbeOptions guest;
    guest.quick = o.quick;
    guest.channel = channel;
    guest.command = o.guest_command;
    guest.probe_dir = o.guest_probe_dir;
    guest.timeout = std::chrono::milliseconds(static_cast<long long>(o.guest_timeout_s * 1000));
    run_guest_probe(results, *domain, guest, progress);
    results.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  write_results_text(std::cout, results);
  if (!o.out.empty()) {
    save_results_file(results, o.out, o.force);
    fmt::print(stderr, "saved {}\n", o.out);
  }
}

}  // namespace

void setup_bench(CLI::App& app) {
  auto options = std::make_shared<BenchCommandOptions>();
  CLI::App* bench = app.add_subcommand(
      "bench", "Measure core-to-core latency, the memory latency curve, cache interference and wake-up latency "
               "on this host, optionally on the CPUs of a running libvirt domain, with its vCPUs' steal and "
               "measurements inside the guest");
  bench->footer(
      "Examples:\n"
      "  vpt-tune bench --quick --out before.json           all CPUs this process may use, under 10 s on 2 CPUs\n"
      "  vpt-tune bench --cpus 0-3 --out host.json           thorough run on CPUs 0-3\n"
      "  vpt-tune bench --domain win11 --out after.json      the CPUs win11's vCPUs use; checks its threads' pins\n"
      "  vpt-tune bench --vmid 101 --out after.json          a Proxmox VE VM; checks its threads' pins\n"
      "  vpt-tune compare before.json after.json             did the pinning help?\n"
      "With --domain, the vCPU threads' steal (their wait for a host CPU) is sampled, and vpt-guest-probe runs\n"
      "inside the guest: ping-pong between vCPU pairs, a pointer chase and wake-up lateness, stored as the\n"
      "\"guest\" section. It gets there through the QEMU guest agent (qemu-guest-agent on Linux, the virtio-win\n"
      "guest tools on Windows: the probe build for the guest's OS is copied in, run and deleted), else through a\n"
      "serial command channel (a <serial type='unix'> on target port 1 serving a shell, as the live test's guest\n"
      "has), else not at all (--guest-channel).\n"
      "Every kernel runs in interleaved rounds (--rounds), so that compare can test the rounds' medians of one\n"
      "file a side. Progress goes to standard error, the summary to standard output. The JSON schema\n"
      "(vpt-tune/bench/2) keeps every raw sample, round by round.");
  bench->add_flag("--quick", options->quick, "Fewer samples and sizes (under 10 s on a 2-CPU host)");
  bench->add_option("--rounds", options->rounds,
                    "Interleaved rounds every kernel's samples are split into; compare tests the rounds' medians "
                    "(default: 5 with --quick, 10 without; 5 a side can reach p < 0.01)")
      ->option_text("N")
      ->check(CLI::Range(1u, 50u));
  bench->add_option("--cpus", options->cpus,
                    "CPUs to measure (core-to-core pairs, wake-up; memory latency on the first); "
                    "default: the domain's vCPU CPUs, else every CPU this process may use")
      ->option_text("LIST");
  bench->add_option("--neighbour-cpus", options->neighbour_cpus,
                    "CPUs for the interference kernel's cache-thrashing neighbour; default: the domain's "
                    "emulator/iothread CPUs outside its vCPUs', else a CPU outside the measured ones")
      ->option_text("LIST");
  add_connect_options(*bench, options->domain);
  auto* domain = bench->get_option("--domain");
  domain->description("A running libvirt domain, by name or UUID: check its threads' pins, measure its CPUs");
  bench->get_option("--connect")->needs(domain);
  bench->add_option("--vmid", options->vmid,
                    "A Proxmox VE VM running on this node: check its threads against its hookscript's plan, measure "
                    "its CPUs")
      ->option_text("ID")
      ->check(CLI::Range(1u, 999999999u))
      ->excludes(domain);
  bench->add_option("-o,--out,--save", options->out, "Write the results as JSON (schema vpt-tune/bench/2)")
      ->option_text("FILE.json");
  bench->add_flag("--force", options->force, "Replace an existing --out file");
  auto* guest_channel =
      bench->add_option("--guest-channel", options->guest_channel,
                        "How the in-guest probe gets into the guest: auto (the guest agent if it answers, else the "
                        "serial channel, else none), agent, serial, none")
          ->option_text("auto|agent|serial|none")
          ->check(CLI::IsMember({"auto", "agent", "serial", "none"}));
  auto* guest_command =
      bench->add_option("--guest-command", options->guest_command,
                        "Command line of the in-guest probe on the serial channel "
                        "(default: vpt-guest-probe [--quick] --rounds N)")
          ->option_text("CMD");
  auto* guest_probe_dir =
      bench->add_option("--guest-probe-dir", options->guest_probe_dir,
                        "Where vpt-guest-probe (Linux) and vpt-guest-probe.exe (Windows) are, for the guest agent "
                        "(default: $VPT_GUEST_PROBE_DIR, else lib/vpt-tune/guest next to vpt-tune)")
          ->option_text("DIR");
  auto* no_guest =
      bench->add_flag("--no-guest", options->no_guest, "Do not run the in-guest probe (--guest-channel none)");
  auto* guest_timeout = bench->add_option("--guest-timeout", options->guest_timeout_s,
                                          "Seconds to wait for the in-guest probe (default: 60 with --quick, 300)")
                            ->option_text("SECONDS")
                            ->check(CLI::PositiveNumber);
  guest_channel->needs(domain)->excludes(no_guest);
  guest_command->needs(domain)->excludes(no_guest);
  guest_probe_dir->needs(domain)->excludes(no_guest);
  guest_timeout->needs(domain);
  bench->callback([options] { run_bench_command(*options); });
}

}  // namespace vpt::cli
