#include "bench/results.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <fstream>
#include <sstream>
#include <type_traits>

#include <fmt/format.h>

#include "bench/kernel_table.hpp"
#include "bench/results_json.hpp"

#include "common/atomic_file.hpp"
#include "common/input_file.hpp"
#include "common/json_document.hpp"
#include "common/text.hpp"

namespace vpt {

using json = Json;

std::string_view to_string(ThreadKind kind) {
  switch (kind) {
    case ThreadKind::Vcpu: return "vcpu";
    case ThreadKind::Emulator: return "emulator";
    case ThreadKind::IoThread: return "iothread";
    case ThreadKind::Other: return "other";
  }
  return "other";
}

RoundSamples RoundSamples::split(const std::vector<double>& samples, unsigned rounds) {
  RoundSamples out;
  rounds = std::max(1u, rounds);
  std::size_t at = 0;
  for (unsigned r = 0; r < rounds; ++r) {
    const std::size_t n = samples.size() / rounds + (r < samples.size() % rounds ? 1 : 0);
    out.rounds.emplace_back(samples.begin() + static_cast<std::ptrdiff_t>(at),
                            samples.begin() + static_cast<std::ptrdiff_t>(at + n));
    at += n;
  }
  return out;
}

std::vector<double> RoundSamples::pooled() const {
  std::vector<double> all;
  all.reserve(count());
  for (const auto& round : rounds) all.insert(all.end(), round.begin(), round.end());
  return all;
}

void RoundSamples::append(const RoundSamples& other) {
  if (rounds.size() < other.rounds.size()) rounds.resize(other.rounds.size());
  for (std::size_t r = 0; r < other.rounds.size(); ++r)
    rounds[r].insert(rounds[r].end(), other.rounds[r].begin(), other.rounds[r].end());
}

std::size_t RoundSamples::count() const {
  std::size_t n = 0;
  for (const auto& round : rounds) n += round.size();
  return n;
}

Json round_samples_json(const RoundSamples& samples) {
  Json rounds = Json::array();
  for (const auto& round : samples.rounds) rounds.push_back(round);
  return rounds;
}

RoundSamples ResultsReader::round_samples(const Json& obj, const std::string& key, const std::string& path) const {
  const Json& list = array(obj, key, path);
  const std::string p = join(path, key);
  RoundSamples out;
  if (version1()) {
    out.rounds.push_back(numbers<double>(obj, key, path));
    return out;
  }
  std::size_t count = 0;
  for (std::size_t r = 0; r < list.size(); ++r) {
    const std::string rp = index(p, r);
    if (!list[r].is_array()) fail(rp, fmt::format("expected an array of samples, found {}", list[r].type_name()));
    if ((count += list[r].size()) > kMaxNumbers)
      fail(p, fmt::format("{} numbers, more than the {} this list may hold", count, kMaxNumbers));
    std::vector<double>& round = out.rounds.emplace_back();
    round.reserve(list[r].size());
    for (std::size_t i = 0; i < list[r].size(); ++i) round.push_back(get<double>(list[r][i], index(rp, i)));
  }
  return out;
}

namespace {

using Reader = ResultsReader;

json opt_set(const std::optional<CpuSet>& value) { return value ? json(value->to_string()) : json(nullptr); }

HostFingerprint read_host(const Reader& r, const json& j) {
  const std::string p = "host";
  HostFingerprint h;
  h.hostname = r.field<std::string>(j, "hostname", p);
  h.cpu_model = r.field<std::string>(j, "cpu_model", p);
  h.cpu_vendor = r.text_or_empty(j, "cpu_vendor", p);
  h.microcode = r.optional<std::string>(j, "microcode", p);
  h.kernel = r.field<std::string>(j, "kernel", p);
  h.bios_version = r.optional<std::string>(j, "bios_version", p);
  h.bios_date = r.optional<std::string>(j, "bios_date", p);
  h.online_cpus = r.field<unsigned>(j, "online_cpus", p);
  h.allowed_cpus = r.cpus(j, "allowed_cpus", p);
  h.governor = r.optional<std::string>(j, "governor", p);
  h.smt_active = r.optional<bool>(j, "smt_active", p);
  h.isolcpus = r.cpus(j, "isolcpus", p);
  h.nohz_full = r.cpus(j, "nohz_full", p);
  h.hypervisor = r.field<bool>(j, "hypervisor", p);
  h.transparent_hugepage = r.optional<std::string>(j, "transparent_hugepage", p);
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
  d.qemu_pid = r.optional<int>(j, "qemu_pid", p);
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
    c.index = r.optional<unsigned>(t, "index", tp);
    c.tid = r.field<int>(t, "tid", tp);
    c.comm = r.field<std::string>(t, "comm", tp);
    c.pinned = r.optional_cpus(t, "pinned", tp);
    c.actual = r.optional_cpus(t, "actual", tp);
    c.matches = r.optional<bool>(t, "matches", tp);
    c.migrations = r.optional<std::uint64_t>(t, "migrations", tp);
    c.nonvoluntary_switches = r.optional<std::uint64_t>(t, "nonvoluntary_switches", tp);
    d.threads.push_back(std::move(c));
  }
  return d;
}

}  // namespace

std::string results_to_json_text(const Results& res) {
  json doc;
  doc["schema"] = kBenchSchema;
  doc["tool_version"] = res.tool_version;
  doc["created"] = res.created;
  doc["mode"] = res.mode;
  doc["duration_s"] = res.duration_s;
  doc["rounds"] = res.rounds;

  const HostFingerprint& h = res.host;
  json caches = json::array();
  for (const CacheSize& c : h.caches) caches.push_back({{"level", c.level}, {"size_bytes", c.size_bytes}});
  doc["host"] = {{"hostname", h.hostname},
                 {"cpu_model", h.cpu_model},
                 {"cpu_vendor", h.cpu_vendor},
                 {"microcode", json_or_null(h.microcode)},
                 {"kernel", h.kernel},
                 {"bios_version", json_or_null(h.bios_version)},
                 {"bios_date", json_or_null(h.bios_date)},
                 {"online_cpus", h.online_cpus},
                 {"allowed_cpus", h.allowed_cpus.to_string()},
                 {"governor", json_or_null(h.governor)},
                 {"smt_active", json_or_null(h.smt_active)},
                 {"isolcpus", h.isolcpus.to_string()},
                 {"nohz_full", h.nohz_full.to_string()},
                 {"hypervisor", h.hypervisor},
                 {"transparent_hugepage", json_or_null(h.transparent_hugepage)},
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
                         {"index", json_or_null(t.index)},
                         {"tid", t.tid},
                         {"comm", t.comm},
                         {"pinned", opt_set(t.pinned)},
                         {"actual", opt_set(t.actual)},
                         {"matches", json_or_null(t.matches)},
                         {"migrations", json_or_null(t.migrations)},
                         {"nonvoluntary_switches", json_or_null(t.nonvoluntary_switches)}});
    doc["domain"] = {{"uri", d.uri},
                     {"name", d.name},
                     {"qemu_pid", json_or_null(d.qemu_pid)},
                     {"pins", {{"vcpus", vcpus}, {"emulator", d.pins.emulator.to_string()}, {"iothreads", io}}},
                     {"threads", threads}};
  } else {
    doc["domain"] = nullptr;
  }

  for (const Kernel* kernel : kernel_table()) kernel->write(res, doc);
  doc["warnings"] = res.warnings;
  // Text from the system (thread names, models) may not be UTF-8: replaced, not a failure.
  return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

namespace {

Results results_from_json(std::string_view text) {
  json doc;
  try {
    doc = parse_json_document(text);
  } catch (const JsonDocumentError& e) {
    Reader::fail("", e.what());
  }
  if (!doc.is_object()) Reader::fail("", "not a JSON object");
  auto schema = Reader::optional<std::string>(doc, "schema", "");
  if (!schema)
    Reader::fail("", fmt::format("no \"schema\" field: not a vpt-tune bench file (expected {})", kBenchSchema));
  if (*schema != kBenchSchema && *schema != kBenchSchema1)
    Reader::fail("", fmt::format("schema '{}' is not the supported '{}' (or '{}')", printable(*schema, 60), kBenchSchema,
                                 kBenchSchema1));
  const Reader r(*schema);

  Results res;
  res.schema = *schema;
  res.tool_version = r.field<std::string>(doc, "tool_version", "");
  res.created = r.field<std::string>(doc, "created", "");
  res.mode = r.field<std::string>(doc, "mode", "");
  res.duration_s = r.field<double>(doc, "duration_s", "");
  res.rounds = r.version1() ? 1 : r.field<unsigned>(doc, "rounds", "");
  if (res.rounds == 0) r.fail("rounds", "must be at least 1");
  res.host = read_host(r, r.at(doc, "host", ""));
  res.measured_cpus = r.cpus(doc, "measured_cpus", "");
  if (const json* d = r.find(doc, "domain")) res.domain = read_domain(r, *d);
  for (const Kernel* kernel : kernel_table()) kernel->read(r, doc, res);
  if (const json* w = r.find(doc, "warnings")) res.warnings = r.get<std::vector<std::string>>(*w, "warnings");
  return res;
}

}  // namespace

Results results_from_json_text(std::string_view text, const std::string& name) {
  try {
    return results_from_json(text);
  } catch (const JsonFieldError& e) {
    throw BenchInputError(fmt::format("cannot read results '{}': {}", name, e.what()));
  }
}

Results load_results_file(const std::string& path) {
  std::string text;
  try {
    text = read_input_file_text(path);
  } catch (const InputFileError& e) {
    throw BenchInputError(fmt::format("cannot read results '{}': {}", path, e.what()));
  }
  return results_from_json_text(text, path);
}

void save_results_file(const Results& results, const std::string& path, bool overwrite) {
  std::error_code ec;
  if (!overwrite && std::filesystem::exists(path, ec))
    throw BenchInputError(fmt::format("cannot save results '{}': the file exists (use --force to replace it)", path));
  write_file_atomically(path, results_to_json_text(results), "results", 0644,
                        overwrite ? ExistingFile::Replace : ExistingFile::Keep);
}

}  // namespace vpt
