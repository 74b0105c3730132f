#include "bench/results.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace vpt {

using nlohmann::json;

std::string_view to_string(ThreadKind kind) {
  switch (kind) {
    case ThreadKind::Vcpu: return "vcpu";
    case ThreadKind::Emulator: return "emulator";
    case ThreadKind::IoThread: return "iothread";
    case ThreadKind::Other: return "other";
  }
  return "other";
}

namespace {

template <typename T>
json opt(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

json opt_set(const std::optional<CpuSet>& value) { return value ? json(value->to_string()) : json(nullptr); }

void put_error(json& row, const std::string& error) {
  if (!error.empty()) row["error"] = error;
}

json wakeup_json(const WakeupResult& w) {
  json row = {{"cpu", w.cpu}, {"p50_us", opt(w.p50_us)}, {"p99_us", opt(w.p99_us)}, {"max_us", opt(w.max_us)},
              {"samples_us", w.samples_us}};
  put_error(row, w.error);
  return row;
}

// ---- Reading, with the path of the field in every error -------------------

class Reader {
 public:
  explicit Reader(std::string name) : name_(std::move(name)) {}

  [[noreturn]] void fail(const std::string& path, const std::string& problem) const {
    throw BenchInputError(fmt::format("cannot read results '{}': {}{}", name_, path.empty() ? "" : path + ": ", problem));
  }

  const json& at(const json& obj, const std::string& key, const std::string& path) const {
    if (!obj.is_object()) fail(path, "not an object");
    auto it = obj.find(key);
    if (it == obj.end()) fail(join(path, key), "missing");
    return *it;
  }
  const json* find(const json& obj, const std::string& key) const {
    auto it = obj.find(key);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
  }

  template <typename T>
  T get(const json& value, const std::string& path) const {
    try {
      return value.get<T>();
    } catch (const json::exception&) {
      fail(path, fmt::format("expected {}, found {}", expected<T>(), value.type_name()));
    }
  }
  template <typename T>
  T field(const json& obj, const std::string& key, const std::string& path) const {
    return get<T>(at(obj, key, path), join(path, key));
  }
  template <typename T>
  std::optional<T> optional_field(const json& obj, const std::string& key, const std::string& path) const {
    if (!obj.is_object()) fail(path, "not an object");
    const json* v = find(obj, key);
    if (!v) return std::nullopt;
    return get<T>(*v, join(path, key));
  }
  std::string string_or_empty(const json& obj, const std::string& key, const std::string& path) const {
    return optional_field<std::string>(obj, key, path).value_or("");
  }
  CpuSet cpus(const json& obj, const std::string& key, const std::string& path) const {
    auto text = field<std::string>(obj, key, path);
    try {
      return CpuSet::parse(text);
    } catch (const std::invalid_argument& e) {
      fail(join(path, key), e.what());
    }
  }
  std::optional<CpuSet> optional_cpus(const json& obj, const std::string& key, const std::string& path) const {
    if (!find(obj, key)) return std::nullopt;
    return cpus(obj, key, path);
  }
  // A list of numbers; a bad element is named by its index.
  template <typename T>
  std::vector<T> numbers(const json& obj, const std::string& key, const std::string& path) const {
    const json& list = array(obj, key, path);
    std::vector<T> out;
    out.reserve(list.size());
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (!list[i].is_number()) fail(index(join(path, key), i), fmt::format("expected a number, found {}", list[i].type_name()));
      out.push_back(get<T>(list[i], index(join(path, key), i)));
    }
    return out;
  }
  const json& array(const json& obj, const std::string& key, const std::string& path) const {
    const json& v = at(obj, key, path);
    if (!v.is_array()) fail(join(path, key), fmt::format("expected an array, found {}", v.type_name()));
    return v;
  }

  static std::string join(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }
  static std::string index(const std::string& path, std::size_t i) { return fmt::format("{}[{}]", path, i); }

 private:
  template <typename T>
  static std::string_view expected() {
    if constexpr (std::is_same_v<T, std::string>) return "a string";
    else if constexpr (std::is_same_v<T, bool>) return "true or false";
    else if constexpr (std::is_arithmetic_v<T>) return "a number";
    else return "a list";
  }
  std::string name_;
};

HostFingerprint read_host(const Reader& r, const json& j) {
  const std::string p = "host";
  HostFingerprint h;
  h.hostname = r.field<std::string>(j, "hostname", p);
  h.cpu_model = r.field<std::string>(j, "cpu_model", p);
  h.cpu_vendor = r.string_or_empty(j, "cpu_vendor", p);
  h.microcode = r.optional_field<std::string>(j, "microcode", p);
  h.kernel = r.field<std::string>(j, "kernel", p);
  h.bios_version = r.optional_field<std::string>(j, "bios_version", p);
  h.bios_date = r.optional_field<std::string>(j, "bios_date", p);
  h.online_cpus = r.field<unsigned>(j, "online_cpus", p);
  h.allowed_cpus = r.cpus(j, "allowed_cpus", p);
  h.governor = r.optional_field<std::string>(j, "governor", p);
  h.smt_active = r.optional_field<bool>(j, "smt_active", p);
  h.isolcpus = r.cpus(j, "isolcpus", p);
  h.nohz_full = r.cpus(j, "nohz_full", p);
  h.hypervisor = r.field<bool>(j, "hypervisor", p);
  h.transparent_hugepage = r.optional_field<std::string>(j, "transparent_hugepage", p);
  const json& caches = r.array(j, "caches", p);
  for (std::size_t i = 0; i < caches.size(); ++i) {
    std::string cp = Reader::index(p + ".caches", i);
    h.caches.push_back({r.field<int>(caches[i], "level", cp), r.field<std::uint64_t>(caches[i], "size_bytes", cp)});
  }
  return h;
}

ThreadKind thread_kind(const Reader& r, const std::string& text, const std::string& path) {
  for (ThreadKind k : {ThreadKind::Vcpu, ThreadKind::Emulator, ThreadKind::IoThread, ThreadKind::Other})
    if (to_string(k) == text) return k;
  r.fail(path, fmt::format("unknown thread kind '{}'", text));
}

DomainInForce read_domain(const Reader& r, const json& j) {
  const std::string p = "domain";
  DomainInForce d;
  d.uri = r.field<std::string>(j, "uri", p);
  d.name = r.field<std::string>(j, "name", p);
  d.qemu_pid = r.optional_field<int>(j, "qemu_pid", p);
  const json& pins = r.at(j, "pins", p);
  const json& vcpus = r.array(pins, "vcpus", p + ".pins");
  for (std::size_t i = 0; i < vcpus.size(); ++i) {
    std::string text = r.get<std::string>(vcpus[i], Reader::index(p + ".pins.vcpus", i));
    try {
      d.pins.vcpus.push_back(CpuSet::parse(text));
    } catch (const std::invalid_argument& e) {
      r.fail(Reader::index(p + ".pins.vcpus", i), e.what());
    }
  }
  d.pins.emulator = r.cpus(pins, "emulator", p + ".pins");
  const json& io = r.array(pins, "iothreads", p + ".pins");
  for (std::size_t i = 0; i < io.size(); ++i) {
    std::string ip = Reader::index(p + ".pins.iothreads", i);
    const auto id = r.field<unsigned>(io[i], "id", ip);
    if (!d.pins.iothreads.emplace(id, r.cpus(io[i], "cpus", ip)).second)
      r.fail(Reader::join(ip, "id"), fmt::format("iothread {} is listed twice", id));
  }
  const json& threads = r.array(j, "threads", p);
  for (std::size_t i = 0; i < threads.size(); ++i) {
    std::string tp = Reader::index(p + ".threads", i);
    const json& t = threads[i];
    ThreadCheck c;
    c.kind = thread_kind(r, r.field<std::string>(t, "kind", tp), tp + ".kind");
    c.index = r.optional_field<unsigned>(t, "index", tp);
    c.tid = r.field<int>(t, "tid", tp);
    c.comm = r.field<std::string>(t, "comm", tp);
    c.pinned = r.optional_cpus(t, "pinned", tp);
    c.actual = r.optional_cpus(t, "actual", tp);
    c.matches = r.optional_field<bool>(t, "matches", tp);
    c.migrations = r.optional_field<std::uint64_t>(t, "migrations", tp);
    c.nonvoluntary_switches = r.optional_field<std::uint64_t>(t, "nonvoluntary_switches", tp);
    d.threads.push_back(std::move(c));
  }
  return d;
}

Method read_method(const Reader& r, const json& j) {
  const std::string p = "method";
  Method m;
  const json& c2c = r.at(j, "core_to_core", p);
  m.c2c_samples = r.field<unsigned>(c2c, "samples", p + ".core_to_core");
  m.c2c_round_trips = r.field<unsigned>(c2c, "round_trips_per_sample", p + ".core_to_core");
  m.c2c_warmup = r.field<unsigned>(c2c, "warmup_samples_discarded", p + ".core_to_core");
  m.c2c_budget_s = r.field<double>(c2c, "budget_s_per_pair", p + ".core_to_core");
  const json& chase = r.at(j, "memory_latency", p);
  m.chase_cpu = r.field<unsigned>(chase, "cpu", p + ".memory_latency");
  m.chase_samples = r.field<unsigned>(chase, "samples", p + ".memory_latency");
  m.chase_warmup = r.field<unsigned>(chase, "warmup_samples_discarded", p + ".memory_latency");
  m.chase_loads_per_sample = r.field<std::uint64_t>(chase, "loads_per_sample", p + ".memory_latency");
  m.line_bytes = r.field<unsigned>(chase, "line_bytes", p + ".memory_latency");
  const json& itf = r.at(j, "interference", p);
  m.interference_samples = r.field<unsigned>(itf, "samples_per_condition", p + ".interference");
  m.interference_rounds = r.field<unsigned>(itf, "rounds", p + ".interference");
  m.thrash_bytes = r.field<std::uint64_t>(itf, "thrash_bytes", p + ".interference");
  const json& w = r.at(j, "wakeup", p);
  m.wakeup_count = r.field<unsigned>(w, "count", p + ".wakeup");
  m.wakeup_warmup = r.field<unsigned>(w, "warmup_discarded", p + ".wakeup");
  m.wakeup_interval_us = r.field<unsigned>(w, "interval_us", p + ".wakeup");
  m.wakeup_policy = r.field<std::string>(w, "policy", p + ".wakeup");
  return m;
}

WakeupResult read_wakeup(const Reader& r, const json& j, const std::string& p) {
  WakeupResult w;
  w.cpu = r.field<unsigned>(j, "cpu", p);
  w.p50_us = r.optional_field<double>(j, "p50_us", p);
  w.p99_us = r.optional_field<double>(j, "p99_us", p);
  w.max_us = r.optional_field<double>(j, "max_us", p);
  w.samples_us = r.numbers<double>(j, "samples_us", p);
  w.error = r.string_or_empty(j, "error", p);
  return w;
}

}  // namespace

std::string results_to_json_text(const Results& res) {
  json doc;
  doc["schema"] = res.schema;
  doc["tool_version"] = res.tool_version;
  doc["created"] = res.created;
  doc["mode"] = res.mode;
  doc["duration_s"] = res.duration_s;

  const HostFingerprint& h = res.host;
  json caches = json::array();
  for (const CacheSize& c : h.caches) caches.push_back({{"level", c.level}, {"size_bytes", c.size_bytes}});
  doc["host"] = {{"hostname", h.hostname},
                 {"cpu_model", h.cpu_model},
                 {"cpu_vendor", h.cpu_vendor},
                 {"microcode", opt(h.microcode)},
                 {"kernel", h.kernel},
                 {"bios_version", opt(h.bios_version)},
                 {"bios_date", opt(h.bios_date)},
                 {"online_cpus", h.online_cpus},
                 {"allowed_cpus", h.allowed_cpus.to_string()},
                 {"governor", opt(h.governor)},
                 {"smt_active", opt(h.smt_active)},
                 {"isolcpus", h.isolcpus.to_string()},
                 {"nohz_full", h.nohz_full.to_string()},
                 {"hypervisor", h.hypervisor},
                 {"transparent_hugepage", opt(h.transparent_hugepage)},
                 {"caches", std::move(caches)}};
  doc["measured_cpus"] = res.measured_cpus.to_string();

  if (res.domain) {
    const DomainInForce& d = *res.domain;
    json vcpus = json::array();
    for (const CpuSet& s : d.pins.vcpus) vcpus.push_back(s.to_string());
    json io = json::array();
    for (const auto& [id, cpus] : d.pins.iothreads) io.push_back({{"id", id}, {"cpus", cpus.to_string()}});
    json threads = json::array();
    for (const ThreadCheck& t : d.threads)
      threads.push_back({{"kind", to_string(t.kind)},
                         {"index", opt(t.index)},
                         {"tid", t.tid},
                         {"comm", t.comm},
                         {"pinned", opt_set(t.pinned)},
                         {"actual", opt_set(t.actual)},
                         {"matches", opt(t.matches)},
                         {"migrations", opt(t.migrations)},
                         {"nonvoluntary_switches", opt(t.nonvoluntary_switches)}});
    doc["domain"] = {{"uri", d.uri},
                     {"name", d.name},
                     {"qemu_pid", opt(d.qemu_pid)},
                     {"pins", {{"vcpus", vcpus}, {"emulator", d.pins.emulator.to_string()}, {"iothreads", io}}},
                     {"threads", threads}};
  } else {
    doc["domain"] = nullptr;
  }

  const Method& m = res.method;
  doc["method"] = {
      {"core_to_core",
       {{"estimator", "one-way latency = round trip / 2; matrix cells are medians"},
        {"samples", m.c2c_samples},
        {"round_trips_per_sample", m.c2c_round_trips},
        {"warmup_samples_discarded", m.c2c_warmup},
        {"budget_s_per_pair", m.c2c_budget_s}}},
      {"memory_latency",
       {{"estimator", "ns per dependent load over a random cycle, one node per line; rows are medians"},
        {"cpu", m.chase_cpu},
        {"samples", m.chase_samples},
        {"warmup_samples_discarded", m.chase_warmup},
        {"loads_per_sample", m.chase_loads_per_sample},
        {"line_bytes", m.line_bytes}}},
      {"interference",
       {{"samples_per_condition", m.interference_samples},
        {"rounds", m.interference_rounds},
        {"thrash_bytes", m.thrash_bytes}}},
      {"wakeup",
       {{"count", m.wakeup_count},
        {"warmup_discarded", m.wakeup_warmup},
        {"interval_us", m.wakeup_interval_us},
        {"policy", m.wakeup_policy}}}};

  if (res.core_to_core) {
    const CoreToCore& c = *res.core_to_core;
    json matrix = json::array();
    for (const auto& row : c.median_ns) {
      json r = json::array();
      for (const auto& cell : row) r.push_back(opt(cell));
      matrix.push_back(std::move(r));
    }
    json pairs = json::array();
    for (const CoreToCorePair& p : c.pairs) {
      json row = {{"from", p.from_cpu},
                  {"to", p.to_cpu},
                  {"round_trips_per_sample", p.round_trips_per_sample},
                  {"samples_ns", p.samples_ns}};
      put_error(row, p.error);
      pairs.push_back(std::move(row));
    }
    doc["core_to_core"] = {{"cpus", c.cpus},
                           {"median_ns", std::move(matrix)},
                           {"warmup_samples_discarded", c.warmup_samples_discarded},
                           {"pairs", std::move(pairs)}};
  } else {
    doc["core_to_core"] = nullptr;
  }

  json memory = json::array();
  for (const LatencyPoint& p : res.memory_latency) {
    json row = {{"bytes", p.bytes}, {"ns", opt(p.ns)}, {"level", p.level}, {"samples_ns", p.samples_ns}};
    put_error(row, p.error);
    memory.push_back(std::move(row));
  }
  doc["memory_latency"] = std::move(memory);

  json interference = json::array();
  for (const InterferencePoint& p : res.interference) {
    json row = {{"bytes", p.bytes},
                {"sized_to", p.sized_to},
                {"cpu", p.cpu},
                {"neighbour_cpus", p.neighbour_cpus.to_string()},
                {"quiet_ns", opt(p.quiet_ns)},
                {"noisy_ns", opt(p.noisy_ns)},
                {"ratio", opt(p.ratio)},
                {"quiet_samples_ns", p.quiet_samples_ns},
                {"noisy_samples_ns", p.noisy_samples_ns}};
    put_error(row, p.error);
    interference.push_back(std::move(row));
  }
  doc["interference"] = std::move(interference);

  doc["wakeup"] = res.wakeup.empty() ? json(nullptr) : wakeup_json(res.wakeup.front());
  json by_cpu = json::array();
  for (const WakeupResult& w : res.wakeup) by_cpu.push_back(wakeup_json(w));
  doc["wakeup_by_cpu"] = std::move(by_cpu);

  doc["guest"] = res.guest_json ? json::parse(*res.guest_json) : json(nullptr);
  doc["warnings"] = res.warnings;
  return doc.dump(2) + "\n";
}

Results results_from_json_text(std::string_view text, const std::string& name) {
  Reader r(name);
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    r.fail("", fmt::format("not JSON (byte {})", e.byte));
  }
  if (!doc.is_object()) r.fail("", "not a JSON object");
  auto schema = r.optional_field<std::string>(doc, "schema", "");
  if (!schema) r.fail("", fmt::format("no \"schema\" field: not a vpt-tune bench file (expected {})", kBenchSchema));
  if (*schema != kBenchSchema)
    r.fail("", fmt::format("schema '{}' is not the supported '{}'", *schema, kBenchSchema));

  Results res;
  res.schema = *schema;
  res.tool_version = r.field<std::string>(doc, "tool_version", "");
  res.created = r.field<std::string>(doc, "created", "");
  res.mode = r.field<std::string>(doc, "mode", "");
  res.duration_s = r.field<double>(doc, "duration_s", "");
  res.host = read_host(r, r.at(doc, "host", ""));
  res.measured_cpus = r.cpus(doc, "measured_cpus", "");
  if (const json* d = r.find(doc, "domain")) res.domain = read_domain(r, *d);
  res.method = read_method(r, r.at(doc, "method", ""));

  if (const json* c = r.find(doc, "core_to_core")) {
    CoreToCore c2c;
    c2c.cpus = r.numbers<unsigned>(*c, "cpus", "core_to_core");
    const json& matrix = r.array(*c, "median_ns", "core_to_core");
    if (matrix.size() != c2c.cpus.size())
      r.fail("core_to_core.median_ns", fmt::format("{} rows for {} CPUs", matrix.size(), c2c.cpus.size()));
    for (std::size_t i = 0; i < matrix.size(); ++i) {
      std::string rp = Reader::index("core_to_core.median_ns", i);
      if (!matrix[i].is_array() || matrix[i].size() != c2c.cpus.size())
        r.fail(rp, fmt::format("expected a row of {} cells", c2c.cpus.size()));
      std::vector<std::optional<double>> row;
      for (std::size_t k = 0; k < matrix[i].size(); ++k) {
        if (matrix[i][k].is_null()) row.push_back(std::nullopt);
        else row.push_back(r.get<double>(matrix[i][k], Reader::index(rp, k)));
      }
      c2c.median_ns.push_back(std::move(row));
    }
    c2c.warmup_samples_discarded = r.field<unsigned>(*c, "warmup_samples_discarded", "core_to_core");
    const json& pairs = r.array(*c, "pairs", "core_to_core");
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      std::string pp = Reader::index("core_to_core.pairs", i);
      CoreToCorePair p;
      p.from_cpu = r.field<unsigned>(pairs[i], "from", pp);
      p.to_cpu = r.field<unsigned>(pairs[i], "to", pp);
      p.round_trips_per_sample = r.field<unsigned>(pairs[i], "round_trips_per_sample", pp);
      p.samples_ns = r.numbers<double>(pairs[i], "samples_ns", pp);
      p.error = r.string_or_empty(pairs[i], "error", pp);
      c2c.pairs.push_back(std::move(p));
    }
    res.core_to_core = std::move(c2c);
  }

  const json& memory = r.array(doc, "memory_latency", "");
  for (std::size_t i = 0; i < memory.size(); ++i) {
    std::string p = Reader::index("memory_latency", i);
    LatencyPoint pt;
    pt.bytes = r.field<std::uint64_t>(memory[i], "bytes", p);
    pt.ns = r.optional_field<double>(memory[i], "ns", p);
    pt.level = r.string_or_empty(memory[i], "level", p);
    pt.samples_ns = r.numbers<double>(memory[i], "samples_ns", p);
    pt.error = r.string_or_empty(memory[i], "error", p);
    res.memory_latency.push_back(std::move(pt));
  }

  const json& interference = r.array(doc, "interference", "");
  for (std::size_t i = 0; i < interference.size(); ++i) {
    std::string p = Reader::index("interference", i);
    const json& j = interference[i];
    InterferencePoint pt;
    pt.bytes = r.field<std::uint64_t>(j, "bytes", p);
    pt.sized_to = r.string_or_empty(j, "sized_to", p);
    pt.cpu = r.field<unsigned>(j, "cpu", p);
    pt.neighbour_cpus = r.cpus(j, "neighbour_cpus", p);
    pt.quiet_ns = r.optional_field<double>(j, "quiet_ns", p);
    pt.noisy_ns = r.optional_field<double>(j, "noisy_ns", p);
    pt.ratio = r.optional_field<double>(j, "ratio", p);
    pt.quiet_samples_ns = r.numbers<double>(j, "quiet_samples_ns", p);
    pt.noisy_samples_ns = r.numbers<double>(j, "noisy_samples_ns", p);
    pt.error = r.string_or_empty(j, "error", p);
    res.interference.push_back(std::move(pt));
  }

  if (const json* all = r.find(doc, "wakeup_by_cpu")) {
    if (!all->is_array()) r.fail("wakeup_by_cpu", "expected an array");
    for (std::size_t i = 0; i < all->size(); ++i)
      res.wakeup.push_back(read_wakeup(r, (*all)[i], Reader::index("wakeup_by_cpu", i)));
  } else if (const json* one = r.find(doc, "wakeup")) {
    res.wakeup.push_back(read_wakeup(r, *one, "wakeup"));
  }

  if (const json* g = r.find(doc, "guest")) res.guest_json = g->dump();
  if (const json* w = r.find(doc, "warnings")) res.warnings = r.get<std::vector<std::string>>(*w, "warnings");
  return res;
}

Results load_results_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw BenchInputError(fmt::format("cannot read results '{}': {}", path, std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  return results_from_json_text(text.str(), path);
}

void save_results_file(const Results& results, const std::string& path, bool overwrite) {
  std::error_code ec;
  if (!overwrite && std::filesystem::exists(path, ec))
    throw BenchInputError(fmt::format("cannot save results '{}': the file exists (use --force to replace it)", path));
  std::string text = results_to_json_text(results);
  // Write beside the target and rename, so a failed run never leaves half a file.
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error(fmt::format("cannot save results '{}': {}", path, std::strerror(errno)));
    out << text;
    out.flush();
    if (!out) throw std::runtime_error(fmt::format("cannot save results '{}': write failed", path));
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw std::runtime_error(fmt::format("cannot save results '{}': {}", path, ec.message()));
}

}  // namespace vpt
