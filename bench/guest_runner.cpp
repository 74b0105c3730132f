// `bench --domain`: the in-guest probe, through the guest agent or the serial
// command channel, stored as the results' "guest" section, with the vCPU
// threads' steal sampled while it keeps the vCPUs busy.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "bench/bench.hpp"
#include "bench/guest_agent.hpp"
#include "bench/guest_probe.hpp"
#include "bench/probe_hashes.hpp"
#include "bench/steal.hpp"
#include "common/input_file.hpp"
#include "common/sha256.hpp"
#include "common/text.hpp"

namespace vpt {

namespace fs = std::filesystem;

std::string_view to_string(GuestChannel channel) {
  switch (channel) {
    case GuestChannel::Auto: return "auto";
    case GuestChannel::Agent: return "agent";
    case GuestChannel::Serial: return "serial";
    case GuestChannel::None: return "none";
  }
  return "auto";
}

namespace {

using Clock = std::chrono::steady_clock;

// The commands the agent run needs, and since which qemu-ga they exist.
constexpr std::string_view kAgentCommands[] = {"guest-get-osinfo", "guest-file-open", "guest-file-write",
                                               "guest-file-close", "guest-exec", "guest-exec-status"};

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

void add_steal_window(Results& results, StealSampler& steal, double duration_s) {
  steal.stop();
  if (!results.steal) results.steal.emplace();
  results.steal->windows.push_back(steal.window(
      "guest probe",
      fmt::format("while the in-guest probe ran ({:.1f} s), which keeps the vCPUs busy: the steal the guest's own "
                  "work suffers; split into {} rounds of consecutive {} ms samples",
                  duration_s, results.rounds, steal.interval().count()),
      results.rounds));
}

std::chrono::milliseconds probe_timeout(const GuestProbeOptions& options) {
  if (options.timeout.count() > 0) return options.timeout;
  return options.quick ? std::chrono::seconds(60) : std::chrono::seconds(300);
}

std::vector<std::string> probe_arguments(const GuestProbeOptions& options, unsigned rounds) {
  std::vector<std::string> args;
  if (options.quick) args.push_back("--quick");
  args.push_back("--rounds");
  args.push_back(std::to_string(rounds));
  return args;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  return fmt::format("{}", fmt::join(items, separator));
}

// 16 hex digits from the system's random source: a file name in the guest no
// one can guess (Windows has no mktemp; the old name was pid and clock).
std::string random_name() {
  std::random_device random;
  return fmt::format("{:08x}{:08x}", random(), random());
}

// Warnings for what came back, whichever the channel.
void warn_about(Results& results, const std::string& domain, const GuestResults& run) {
  const std::string who = fmt::format("in-guest probe of domain '{}'", domain);
  if (!run.error.empty()) results.warnings.push_back(fmt::format("{}: {}", who, run.error));
  for (const std::string& p : run.output.problems) results.warnings.push_back(fmt::format("{}: {}", who, p));
  for (const GuestC2c& c : run.output.c2c)
    if (!c.error.empty())
      results.warnings.push_back(fmt::format("{}: ping-pong vCPU {} <-> {}: {}", who, c.cpu_a, c.cpu_b, c.error));
  if (run.output.online_cpus && *run.output.online_cpus < 2)
    results.warnings.push_back(fmt::format(
        "{}: the guest brought up {} CPU (a TCG guest without <features><acpi/><apic/></features> sees one)", who,
        *run.output.online_cpus));
}

// ---- The serial command channel ----

void run_serial(Results& results, const MeasuredDomain& domain, const std::string& socket,
                const GuestProbeOptions& options, const ProgressFn& progress) {
  GuestResults run;
  run.channel = "serial";
  run.via = socket;
  run.command = options.command.empty()
                    ? "vpt-guest-probe " + join(probe_arguments(options, results.rounds), " ")
                    : options.command;
  if (progress) progress(fmt::format("in-guest probe '{}' through the serial channel {}", run.command, run.via));
  std::unique_ptr<StealSampler> steal = steal_sampler(results);
  if (steal) steal->start();
  const auto start = Clock::now();
  try {
    GuestReply reply = run_guest_command(run.via, run.command, probe_timeout(options));
    run.exit_code = reply.exit_code;
    run.output = parse_guest_probe_output(reply.output);
    if (reply.exit_code != 0) run.error = fmt::format("'{}' exited with {} in the guest", run.command, reply.exit_code);
  } catch (const std::exception& e) {
    run.error = e.what();
  }
  run.duration_s = std::chrono::duration<double>(Clock::now() - start).count();
  if (steal) add_steal_window(results, *steal, run.duration_s);
  warn_about(results, domain.name, run);
  results.guest = std::move(run);
}

// ---- The guest agent ----

// Where the probe builds may be: --guest-probe-dir, $VPT_GUEST_PROBE_DIR, the
// installed lib/vpt-tune/guest next to bin/vpt-tune (packaging/README.md:
// binaries the host does not run), this build tree's guest/.
std::vector<fs::path> probe_dirs(const GuestProbeOptions& options) {
  if (!options.probe_dir.empty()) return {options.probe_dir};
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("VPT_GUEST_PROBE_DIR"); env && *env) dirs.emplace_back(env);
  dirs.emplace_back(VPT_GUEST_PROBE_INSTALL_DIR);
  // Beside the executable (the .deb's /usr/bin -> /usr/lib/vpt-tune/guest, a
  // build tree's build/cli -> build/guest): used only where untrusted_because()
  // finds nothing.
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    dirs.push_back(exe.parent_path().parent_path() / "lib" / "vpt-tune" / "guest");
    dirs.push_back(exe.parent_path().parent_path() / "guest");
  }
  return dirs;
}

// Why a probe file may not be copied into a guest (where it runs as root):
// "" when it and its directory belong to root (or to whoever runs vpt-tune)
// and no one else may write them.
std::string untrusted_because(const fs::path& file) {
  for (const fs::path& p : {file.parent_path(), file}) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return fmt::format("cannot stat {}: {}", p.string(), std::strerror(errno));
    if (st.st_uid != 0 && st.st_uid != ::geteuid())
      return fmt::format("{} belongs to uid {}, not root", p.string(), st.st_uid);
    if (st.st_mode & (S_IWGRP | S_IWOTH)) return fmt::format("others may write {}", p.string());
  }
  return "";
}

struct AgentFailure {
  std::string message;
};

class AgentRun {
 public:
  AgentRun(GuestAgent& agent, const GuestProbeOptions& options, const ProgressFn& progress)
      : agent_(agent), options_(options), progress_(progress) {}

  // The agent answers and can do what the run needs. Throws AgentFailure.
  AgentInfo check() {
    AgentInfo info;
    try {
      info = agent_.info();
    } catch (const AgentError& e) {
      throw AgentFailure{e.what()};
    }
    std::vector<std::string> missing, blocked;
    for (std::string_view command : kAgentCommands) {
      if (std::find(info.enabled.begin(), info.enabled.end(), command) != info.enabled.end()) continue;
      bool off = std::find(info.disabled.begin(), info.disabled.end(), command) != info.disabled.end();
      (off ? blocked : missing).push_back(std::string(command));
    }
    if (!missing.empty())
      throw AgentFailure{fmt::format(
          "the guest agent (qemu-ga {}) is too old: it lacks {} (guest-exec needs qemu-ga 2.5, guest-get-osinfo "
          "2.10); update qemu-guest-agent in the guest, or the virtio-win guest tools on Windows",
          info.version.empty() ? "of unknown version" : info.version, join(missing, ", "))};
    if (!blocked.empty())
      throw AgentFailure{fmt::format(
          "the guest agent (qemu-ga {}) blocks {}: allow them in the guest (qemu-ga's --allow-rpcs, or remove them "
          "from --block-rpcs / BLOCK_RPCS in its configuration)",
          info.version, join(blocked, ", "))};
    return info;
  }

  // Copies the probe in, runs it, collects its output, deletes it.
  GuestResults run(Results& results, const AgentInfo& info) {
    GuestResults run;
    run.channel = "agent";
    run.via = fmt::format("qemu-ga {}", info.version.empty() ? "(version unknown)" : info.version);
    GuestOsInfo os;
    try {
      os = agent_.osinfo();
    } catch (const AgentError& e) {
      throw AgentFailure{e.what()};
    }
    run.os = os.shown();
    if (!os.machine.empty() && os.machine != "x86_64" && os.machine != "amd64" && os.machine != "AMD64")
      throw AgentFailure{fmt::format("the guest is {} on {}: vpt-guest-probe is built for x86-64 guests only",
                                     *run.os, os.machine)};
    const std::string file = os.windows() ? "vpt-guest-probe.exe" : "vpt-guest-probe";
    std::optional<std::string> probe;
    std::vector<std::string> looked;
    for (const fs::path& dir : probe_dirs(options_)) {
      looked.push_back(dir.string());
      std::error_code ec;
      if (!fs::exists(dir / file, ec)) continue;
      if (std::string why = untrusted_because(dir / file); !why.empty())
        throw AgentFailure{fmt::format("refusing to copy {} into the guest, where it runs as root: {}",
                                       (dir / file).string(), why)};
      if ((probe = read_whole_file(dir / file))) {
        check_build_hash(results, dir / file, *probe, os.windows());
        break;
      }
    }
    if (!probe)
      throw AgentFailure{fmt::format(
          "no {} for this {} guest (looked in {}){}; give --guest-probe-dir DIR", file, os.windows() ? "Windows" : "Linux",
          join(looked, ", "),
          os.windows() ? ": it is built by the MinGW-w64 cross compiler (Debian: gcc-mingw-w64-x86-64)" : "")};

    const std::string nonce = random_name();
    const std::vector<std::string> args = probe_arguments(options_, results.rounds);
    std::unique_ptr<StealSampler> steal = steal_sampler(results);
    const auto start = Clock::now();
    if (os.windows()) {
      const std::string dir = windows_private_dir(nonce);
      const std::string path = dir + "\\vpt-guest-probe.exe";
      run.command = path + " " + join(args, " ");
      copy_in(path, *probe);
      if (steal) steal->start();
      execute(run, path, args, "taskkill", {"/F", "/PID"});
      remove(results, path, "cmd.exe", {"/c", "rmdir", "/s", "/q", dir});
    } else {
      // /tmp may be mounted noexec: then the shell's exec gives 126 and the next directory is tried.
      bool tried = false;
      for (const char* base : {"/tmp", "/var/tmp", "/dev/shm"}) {
        std::optional<std::string> dir;
        try {
          dir = private_dir(base);
        } catch (const AgentError& e) {
          throw AgentFailure{e.what()};
        }
        if (!dir) continue;
        tried = true;
        const std::string path = *dir + "/vpt-guest-probe";
        run.command = path + " " + join(args, " ");
        run.exit_code.reset();
        run.error.clear();
        run.output = {};
        copy_in(path, *probe);
        if (steal && !steal_started_) {
          steal->start();
          steal_started_ = true;
        }
        std::vector<std::string> shell = {"-c", "chmod 700 \"$0\" && exec \"$0\" \"$@\"", path};
        shell.insert(shell.end(), args.begin(), args.end());
        execute(run, "/bin/sh", shell, "kill", {"-9"});
        remove(results, path, "/bin/rm", {"-rf", "--", *dir});
        if (run.exit_code != 126) break;
      }
      if (!tried)
        throw AgentFailure{"cannot make a private directory for the probe in the guest's /tmp, /var/tmp or /dev/shm "
                           "(mktemp -d failed in each)"};
    }
    run.duration_s = std::chrono::duration<double>(Clock::now() - start).count();
    if (steal) add_steal_window(results, *steal, run.duration_s);
    return run;
  }

 private:
  void copy_in(const std::string& path, const std::string& bytes) {
    if (progress_) progress_(fmt::format("copying the in-guest probe ({} KiB) to {} through the guest agent",
                                         bytes.size() / 1024, path));
    try {
      agent_.write_file(path, bytes);
    } catch (const AgentError& e) {
      throw AgentFailure{e.what()};
    }
  }

  // Runs path + args with output captured; polls until it exits or the
  // timeout passes, then kills it (qemu-ga has no command for that: the
  // guest's own kill/taskkill).
  void execute(GuestResults& run, const std::string& path, const std::vector<std::string>& args,
               const std::string& kill, std::vector<std::string> kill_args) {
    if (progress_) progress_(fmt::format("in-guest probe '{}' through the guest agent", run.command));
    std::int64_t pid = 0;
    try {
      pid = agent_.exec(path, args);
    } catch (const AgentError& e) {
      run.error = e.what();
      return;
    }
    const auto timeout = probe_timeout(options_);
    const auto deadline = Clock::now() + timeout;
    ExecStatus status;
    try {
      for (;;) {
        status = agent_.exec_status(pid);
        if (status.exited || Clock::now() >= deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    } catch (const AgentError& e) {
      run.error = e.what();
      return;
    }
    if (!status.exited) {
      run.error = fmt::format("no result within {} s (--guest-timeout); stopped it with {}", timeout.count() / 1000,
                              kill);
      kill_args.push_back(std::to_string(pid));
      try {
        agent_.exec(kill, kill_args);
      } catch (const AgentError& e) {
        run.error += fmt::format(", which failed: {}", e.what());
      }
    }
    run.exit_code = status.exit_code;
    run.output = parse_guest_probe_output(status.out);
    if (status.truncated) run.output.problems.push_back("the guest agent cut the output at 16 MiB");
    if (status.exited && status.signal)
      run.error = fmt::format("'{}' was killed by signal {} in the guest", path, *status.signal);
    else if (status.exited && status.exit_code && *status.exit_code != 0) {
      const std::string err = printable(status.err.substr(0, status.err.find('\n')));
      run.error = fmt::format("'{}' exited with {} in the guest{}", run.command, *status.exit_code,
                              err.empty() ? "" : ": " + err);
    }
  }

  // Deletes the probe; a failure leaves a file and a warning naming it.
  void remove(Results& results, const std::string& path, const std::string& command,
              const std::vector<std::string>& args) {
    try {
      if (std::optional<ExecStatus> s = run_helper(command, args)) {
        if (s->exit_code && *s->exit_code != 0)
          results.warnings.push_back(fmt::format("the in-guest probe {} could not be deleted from domain '{}' ({} "
                                                 "exited with {}): delete it by hand",
                                                 path, agent_.domain(), command, *s->exit_code));
        return;
      }
      results.warnings.push_back(
          fmt::format("the in-guest probe {} may be left in domain '{}': deleting it did not finish", path,
                      agent_.domain()));
    } catch (const AgentError& e) {
      results.warnings.push_back(
          fmt::format("the in-guest probe {} is left in domain '{}': {}", path, agent_.domain(), e.what()));
    }
  }

  // A short helper command in the guest (mktemp, rm, echo %TEMP%): its status
  // once it exits, nullopt when it has not within one overall deadline.
  std::optional<ExecStatus> run_helper(const std::string& command, const std::vector<std::string>& args) {
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    const std::int64_t pid = agent_.exec(command, args);
    for (;;) {
      ExecStatus s = agent_.exec_status(pid);
      if (s.exited) return s;
      if (Clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  // A new directory only root reads (mktemp -d: a random name, mode 0700) under
  // `base`: no user of the guest can have made it, or the probe's file in it,
  // before the probe runs there as root.
  std::optional<std::string> private_dir(const std::string& base) {
    std::optional<ExecStatus> s =
        run_helper("/bin/sh", {"-c", "umask 077 && exec mktemp -d \"$0/vpt-guest-probe.XXXXXXXXXX\"", base});
    if (!s || !s->exit_code || *s->exit_code != 0) return std::nullopt;
    std::string dir = s->out;
    while (!dir.empty() && (dir.back() == '\n' || dir.back() == '\r')) dir.pop_back();
    const std::string prefix = base + "/vpt-guest-probe.";
    if (!dir.starts_with(prefix) || dir.size() == prefix.size() ||
        dir.find_first_of("/\n\r ", prefix.size()) != std::string::npos)
      return std::nullopt;  // not what mktemp prints
    return dir;
  }

  // %TEMP% of the account qemu-ga runs as (LocalSystem: C:\Windows\Temp); a
  // path cmd.exe would read as more than a path falls back to that one.
  std::string windows_temp_dir() {
    try {
      if (std::optional<ExecStatus> s = run_helper("cmd.exe", {"/c", "echo %TEMP%"})) {
        std::string dir = s->out;
        while (!dir.empty() && (dir.back() == '\n' || dir.back() == '\r' || dir.back() == ' ')) dir.pop_back();
        if (!dir.empty() && dir.find_first_of("%\n\r \"&|<>^()") == std::string::npos) return dir;
      }
    } catch (const AgentError&) {
    }
    return "C:\\Windows\\Temp";
  }

  // A directory of a random name in %TEMP% that only SYSTEM and the
  // Administrators may open (inherited rights removed): no user of the guest
  // can have made it, or put a file in it, before the probe runs there as
  // SYSTEM. mkdir fails when the name exists. The well-known SIDs (S-1-5-18,
  // S-1-5-32-544) hold on every Windows language.
  std::string windows_private_dir(const std::string& nonce) {
    const std::string dir = windows_temp_dir() + "\\vpt-guest-probe." + nonce;
    std::optional<ExecStatus> s;
    try {
      s = run_helper("cmd.exe", {"/c", "mkdir", dir, "&&", "icacls", dir, "/inheritance:r", "/grant:r",
                                 "*S-1-5-18:(OI)(CI)F", "*S-1-5-32-544:(OI)(CI)F"});
    } catch (const AgentError& e) {
      throw AgentFailure{e.what()};
    }
    if (!s || !s->exit_code || *s->exit_code != 0)
      throw AgentFailure{fmt::format("cannot make a private directory for the probe in the guest ({}: mkdir and "
                                     "icacls failed{})",
                                     dir, s && !s->err.empty() ? ": " + printable(s->err, 200) : "")};
    return dir;
  }

  // A probe from the install or build directory must be the one this
  // vpt-tune was built with (bench/probe_hashes.hpp); one named by
  // --guest-probe-dir is the admin's choice and is copied with a warning.
  void check_build_hash(Results& results, const fs::path& file, const std::string& bytes, bool windows) {
    const std::string_view built = built_probe_sha256(windows);
    const std::string actual = sha256_hex(bytes);
    if (actual == built) return;
    const std::string differs =
        built.empty() ? fmt::format("this vpt-tune was built without a {} probe, so nothing vouches for it (SHA-256 {})",
                                    windows ? "Windows" : "Linux", actual)
                      : fmt::format("its SHA-256 {} is not that of the probe this vpt-tune was built with ({})",
                                    actual, built);
    if (options_.probe_dir.empty())
      throw AgentFailure{fmt::format("refusing to copy {} into the guest, where it runs as root: {}; reinstall "
                                     "vpt-tune, or name a probe you trust with --guest-probe-dir",
                                     file.string(), differs)};
    results.warnings.push_back(fmt::format("the in-guest probe {} named by --guest-probe-dir: {}; copied as asked",
                                           file.string(), differs));
  }

  GuestAgent& agent_;
  const GuestProbeOptions& options_;
  const ProgressFn& progress_;
  bool steal_started_ = false;
};

// The note when there is no way into the guest.
std::string no_channel_note(const std::string& domain) {
  return fmt::format(
      "in-guest probe not run: domain '{}' has neither a guest agent channel (<channel type='unix'><target "
      "type='virtio' name='org.qemu.guest_agent.0'/></channel> with qemu-guest-agent, or the virtio-win guest "
      "tools, in the guest) nor a serial command channel: host-side checks only (pins, migrations, steal)",
      domain);
}

}  // namespace

void run_guest_probe(Results& results, const MeasuredDomain& domain, const GuestProbeOptions& options,
                     const ProgressFn& progress) {
  if (options.channel == GuestChannel::None) return;
  std::optional<std::string> agent_state, serial;
  try {
    const std::string xml = domain.connection.live_xml(domain.name);
    agent_state = agent_channel_state(xml);
    serial = guest_channel_path(xml);
  } catch (const std::exception& e) {
    results.warnings.push_back(fmt::format("in-guest probe not run: domain '{}': {}", domain.name, e.what()));
    return;
  }

  // The agent when the domain has its channel and it answers; else the serial shell.
  std::string agent_problem;
  if (options.channel == GuestChannel::Agent || (options.channel == GuestChannel::Auto && agent_state)) {
    if (!agent_state) {
      agent_problem = fmt::format(
          "domain '{}' has no guest agent channel (<channel type='unix'><target type='virtio' "
          "name='org.qemu.guest_agent.0'/></channel>)",
          domain.name);
    } else {
      GuestAgent agent(domain.connection, domain.name, options.agent_timeout);
      try {
        if (progress) progress(fmt::format("asking the guest agent of domain '{}' (guest-ping)", domain.name));
        agent.ping();
        AgentRun run(agent, options, progress);
        AgentInfo info = run.check();
        results.guest = run.run(results, info);
        warn_about(results, domain.name, *results.guest);
        return;
      } catch (const AgentError& e) {
        agent_problem = e.kind() == AgentError::Kind::NotResponding
                            ? fmt::format("{} (is qemu-guest-agent installed and running in the guest?)", e.what())
                            : e.what();
      } catch (const AgentFailure& f) {
        agent_problem = f.message;
      }
    }
    if (options.channel == GuestChannel::Agent || !serial) {
      results.warnings.push_back(fmt::format("in-guest probe not run through the guest agent: {}", agent_problem));
      if (options.channel == GuestChannel::Auto)
        results.warnings.push_back(fmt::format("domain '{}': host-side checks only (pins, migrations, steal)",
                                               domain.name));
      return;
    }
    results.warnings.push_back(
        fmt::format("the guest agent could not run the in-guest probe ({}); using the serial channel instead",
                    agent_problem));
  }
  if (!serial) {
    results.warnings.push_back(
        options.channel == GuestChannel::Serial
            ? fmt::format("in-guest probe not run: domain '{}' has no serial command channel (a <serial "
                          "type='unix'> with <source mode='bind'> on <target port='1'/> serving a shell)",
                          domain.name)
            : no_channel_note(domain.name));
    return;
  }
  run_serial(results, domain, *serial, options, progress);
}

}  // namespace vpt
