#include "bench/domain_threads.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <pugixml.hpp>

#include "common/input_file.hpp"

namespace vpt {

namespace fs = std::filesystem;

namespace {

template <typename T>
std::optional<T> parse_number(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  return value;
}

// "Key:\tvalue" (status) or "key   :   value" (sched) → value, trimmed.
std::optional<std::string> field(const std::string& text, std::string_view key) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.starts_with(key)) continue;
    std::string_view rest(line);
    rest.remove_prefix(key.size());
    auto colon = rest.find(':');
    if (colon == std::string_view::npos) continue;
    if (rest.substr(0, colon).find_first_not_of(" \t") != std::string_view::npos) continue;  // longer key
    rest.remove_prefix(colon + 1);
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
    while (!rest.empty() && (rest.back() == '\n' || rest.back() == ' ')) rest.remove_suffix(1);
    return std::string(rest);
  }
  return std::nullopt;
}

bool process_exists(int pid, const ProcPaths& paths) {
  std::error_code ec;
  return fs::is_directory(fs::path(paths.proc) / std::to_string(pid), ec);
}

// "-name guest=web,debug-threads=on" (libvirt) or "-name web".
bool cmdline_names_guest(const std::string& cmdline, const std::string& name) {
  std::vector<std::string> args;
  std::string arg;
  for (char c : cmdline) {
    if (c == '\0') {
      args.push_back(arg);
      arg.clear();
    } else {
      arg += c;
    }
  }
  if (!arg.empty()) args.push_back(arg);
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] != "-name") continue;
    std::string_view value = args[i + 1];
    if (value.starts_with("guest=")) value.remove_prefix(6);
    value = value.substr(0, value.find(','));
    if (value == name) return true;
  }
  return false;
}

}  // namespace

std::optional<int> find_qemu_pid(const std::string& name, const ProcPaths& paths) {
  if (auto text = read_whole_file(fs::path(paths.libvirt_run) / (name + ".pid")))
    if (auto pid = parse_number<int>(*text); pid && process_exists(*pid, paths)) return pid;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(paths.proc, ec)) {
    auto pid = parse_number<int>(entry.path().filename().string());
    if (!pid || std::to_string(*pid) != entry.path().filename().string()) continue;
    if (auto cmdline = read_whole_file(entry.path() / "cmdline"); cmdline && cmdline_names_guest(*cmdline, name))
      return pid;
  }
  return std::nullopt;
}

std::pair<ThreadKind, std::optional<unsigned>> classify_qemu_thread(std::string_view comm, int tid, int pid) {
  if (comm.starts_with("CPU ")) {
    std::string_view rest = comm.substr(4);
    auto slash = rest.find('/');
    if (slash != std::string_view::npos)
      if (auto n = parse_number<unsigned>(rest.substr(0, slash))) return {ThreadKind::Vcpu, n};
  }
  if (comm.starts_with("IO iothread"))
    if (auto n = parse_number<unsigned>(comm.substr(11))) return {ThreadKind::IoThread, n};
  if (tid == pid) return {ThreadKind::Emulator, std::nullopt};
  return {ThreadKind::Other, std::nullopt};
}

std::vector<QemuThread> list_qemu_threads(int pid, const std::string& domain_name, const ProcPaths& paths) {
  std::vector<QemuThread> threads;
  std::error_code ec;
  fs::path task_dir = fs::path(paths.proc) / std::to_string(pid) / "task";
  for (const auto& entry : fs::directory_iterator(task_dir, ec)) {
    auto tid = parse_number<int>(entry.path().filename().string());
    if (!tid) continue;
    QemuThread t;
    t.tid = *tid;
    t.comm = read_whole_file(entry.path() / "comm").value_or("");
    while (!t.comm.empty() && t.comm.back() == '\n') t.comm.pop_back();
    std::tie(t.kind, t.index) = classify_qemu_thread(t.comm, t.tid, pid);
    threads.push_back(std::move(t));
  }
  bool named_vcpus = std::any_of(threads.begin(), threads.end(), [](auto& t) { return t.kind == ThreadKind::Vcpu; });
  if (!named_vcpus) {
    // libvirt's status XML: <domstatus><vcpus><vcpu id='0' pid='TID'/></vcpus>
    pugi::xml_document doc;
    if (doc.load_file((fs::path(paths.libvirt_run) / (domain_name + ".xml")).c_str())) {
      for (auto vcpu : doc.select_nodes("/domstatus/vcpus/vcpu")) {
        int tid = vcpu.node().attribute("pid").as_int(0);
        for (auto& t : threads)
          if (t.tid == tid && tid != pid) {
            t.kind = ThreadKind::Vcpu;
            t.index = vcpu.node().attribute("id").as_uint();
          }
      }
    }
  }
  std::sort(threads.begin(), threads.end(), [](auto& a, auto& b) { return a.tid < b.tid; });
  return threads;
}

void mark_iothreads(std::vector<QemuThread>& threads, const std::map<int, unsigned>& iothread_tids) {
  for (QemuThread& t : threads)
    if (auto it = iothread_tids.find(t.tid); it != iothread_tids.end()) {
      t.kind = ThreadKind::IoThread;
      t.index = it->second;
    }
}

ThreadCounters read_thread_counters(int pid, int tid, const ProcPaths& paths) {
  ThreadCounters c;
  fs::path dir = fs::path(paths.proc) / std::to_string(pid) / "task" / std::to_string(tid);
  if (auto status = read_whole_file(dir / "status")) {
    if (auto list = field(*status, "Cpus_allowed_list")) {
      try {
        c.cpus_allowed = CpuSet::parse(*list);
      } catch (const std::invalid_argument&) {
      }
    }
    if (auto n = field(*status, "nonvoluntary_ctxt_switches")) c.nonvoluntary_switches = parse_number<std::uint64_t>(*n);
  }
  if (auto sched = read_whole_file(dir / "sched"))
    if (auto n = field(*sched, "se.nr_migrations")) c.migrations = parse_number<std::uint64_t>(*n);
  return c;
}

std::vector<ThreadCheck> check_threads(const LivePins& pins, const std::vector<QemuThread>& threads,
                                       const std::vector<ThreadCounters>& before,
                                       const std::vector<ThreadCounters>& after) {
  std::vector<ThreadCheck> checks;
  for (std::size_t i = 0; i < threads.size(); ++i) {
    const QemuThread& t = threads[i];
    ThreadCheck c;
    c.kind = t.kind;
    c.index = t.index;
    c.tid = t.tid;
    c.comm = t.comm;
    switch (t.kind) {
      case ThreadKind::Vcpu:
        if (t.index && *t.index < pins.vcpus.size()) c.pinned = pins.vcpus[*t.index];
        break;
      case ThreadKind::IoThread:
        if (t.index)
          if (auto io = pins.iothreads.find(*t.index); io != pins.iothreads.end()) c.pinned = io->second;
        break;
      case ThreadKind::Emulator:
      case ThreadKind::Other:
        if (!pins.emulator.empty()) c.pinned = pins.emulator;
        break;
    }
    if (i < before.size()) c.actual = before[i].cpus_allowed;
    if (c.pinned && c.actual) c.matches = *c.pinned == *c.actual;
    if (i < before.size() && i < after.size()) {
      const auto &b = before[i], &a = after[i];
      if (b.migrations && a.migrations && *a.migrations >= *b.migrations) c.migrations = *a.migrations - *b.migrations;
      if (b.nonvoluntary_switches && a.nonvoluntary_switches && *a.nonvoluntary_switches >= *b.nonvoluntary_switches)
        c.nonvoluntary_switches = *a.nonvoluntary_switches - *b.nonvoluntary_switches;
    }
    checks.push_back(std::move(c));
  }
  return checks;
}

}  // namespace vpt
