// build_report: every computation of the report, done once.
#include "report/report.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "check/findings_writers.hpp"
#include "common/text.hpp"
#include "optimizer/plan_writers.hpp"
#include "optimizer/sharing.hpp"
#include "probe/topology_writers.hpp"
#include "report/redact.hpp"
#include "virt/domain_xml.hpp"

namespace vpt {

std::optional<ReportFormat> format_from_extension(std::string_view path) {
  const std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".md" || ext == ".markdown") return ReportFormat::Markdown;
  if (ext == ".bbcode" || ext == ".bb") return ReportFormat::Bbcode;
  if (ext == ".html" || ext == ".htm") return ReportFormat::Html;
  return std::nullopt;
}

std::string_view to_string(ReportFormat format) {
  switch (format) {
    case ReportFormat::Html: return "html";
    case ReportFormat::Markdown: return "markdown";
    case ReportFormat::Bbcode: return "bbcode";
    case ReportFormat::BbcodePlain: return "bbcode-plain";
  }
  return "html";
}

std::string_view to_string(Sharing sharing) {
  switch (sharing) {
    case Sharing::Private: return "private";
    case Sharing::Shared: return "shared";
    case Sharing::Unknown: return "unknown";
  }
  return "unknown";
}

void write_report(std::ostream& out, const Report& report, ReportFormat format) {
  if (format == ReportFormat::Html)
    write_html_report(out, report);
  else
    write_forum_summary(out, report, format);
}

namespace {

// "1 core", "2 cores": the English plural of `one` that adds an s (common/text.hpp has the rest).
std::string plural(unsigned n, std::string_view one) { return vpt::plural(n, one, std::string(one) + "s"); }

// ---- Redaction -------------------------------------------------------------------

// Redacts the inputs, once, before anything is computed from them: each
// document is redacted whole and read back (JSON for the topology, plan and
// results, the XML for the domain), so no field, present or future, is
// passed over. Everything the report shows is computed from the copies.
class Redactor {
 public:
  Redactor(bool on, RedactionSecrets secrets) : on_(on), secrets_(std::move(secrets)) {}

  Topology topology(const Topology& t) const {
    if (!on_) return t;
    nlohmann::json doc = topology_to_json(t);
    redact_json(doc, secrets_, topology_vocabulary(), warnings_tool_text());
    return topology_from_json(doc, "the redacted topology");
  }
  Plan plan(const Plan& p) const {
    if (!on_) return p;
    nlohmann::json doc = plan_to_json(p);
    redact_json(doc, secrets_, plan_vocabulary(), plan_tool_text());
    return plan_from_json(doc, "the redacted plan");
  }
  Results results(const Results& res) const {
    if (!on_) return res;
    nlohmann::json doc = nlohmann::json::parse(results_to_json_text(res));
    redact_json(doc, secrets_, results_vocabulary(), warnings_tool_text());
    return results_from_json_text(doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                                  "the redacted results");
  }
  Domain domain(const Domain& d) const {
    if (!on_) return d;
    return parse_domain_xml(redact_xml(d.xml, secrets_, domain_xml_vocabulary()), "the redacted domain");
  }
  CheckReport check(const CheckReport& c) const {
    if (!on_) return c;
    nlohmann::json doc = findings_to_json(c);
    redact_json(doc, secrets_, check_vocabulary(), check_tool_text());
    CheckReport out = findings_from_json(doc, "the redacted review");
    // A title or why that is the check table's own, word for word, is shown as written.
    static const std::vector<CheckInfo> table = check_table();
    for (std::size_t i = 0; i < out.findings.size() && i < c.findings.size(); ++i) {
      auto row = std::find_if(table.begin(), table.end(), [&](const CheckInfo& r) { return r.id == c.findings[i].id; });
      if (row == table.end()) continue;
      if (c.findings[i].title == row->title) out.findings[i].title = row->title;
      if (c.findings[i].why == row->why) out.findings[i].why = row->why;
    }
    return out;
  }
  // A file named on the command line: its base name, redacted.
  std::string path(const std::string& p) const {
    return !on_ || p.empty() ? p : redact_text(redact_path(p), secrets_);
  }
  std::string text(const std::string& t) const { return on_ ? redact_text(t, secrets_) : t; }
  std::string tool_text(const std::string& t) const { return on_ ? redact_tool_text(t, secrets_) : t; }

 private:
  bool on_;
  RedactionSecrets secrets_;
};

RedactionSecrets secrets_of(const ReportSources& src) {
  RedactionSecrets s;
  auto host = [&](const std::string& h) {
    if (!h.empty()) s.hostnames.push_back(h);
  };
  host(src.topology.host.hostname);
  for (const auto* r : {&src.bench, &src.before, &src.after})
    if (*r) host((*r)->host.hostname);
  for (const std::string* p : {&src.topology.source_name, &src.plan_file, &src.bench_file, &src.before_file,
                               &src.after_file, &src.check_file})
    if (!p->empty()) s.paths.push_back(*p);
  return s;
}

ReportSources redacted(const ReportSources& src, const Redactor& r) {
  ReportSources out;
  out.topology = r.topology(src.topology);
  out.plan = r.plan(src.plan);
  out.plan_file = r.path(src.plan_file);
  if (src.domain) out.domain = r.domain(*src.domain);
  if (src.bench) out.bench = r.results(*src.bench);
  out.bench_file = r.path(src.bench_file);
  if (src.before) out.before = r.results(*src.before);
  out.before_file = r.path(src.before_file);
  if (src.after) out.after = r.results(*src.after);
  out.after_file = r.path(src.after_file);
  if (src.check) out.check = r.check(*src.check);
  out.check_file = r.path(src.check_file);
  out.no_plan = r.tool_text(src.no_plan);
  out.as_defined = src.as_defined;  // vpt-tune's own words, by index: nothing to hide
  for (const std::string& name : src.host_shared_with) out.host_shared_with.push_back(r.text(name));
  return out;
}

ReviewSection review_section(const CheckReport& check) {
  ReviewSection review;
  review.domain = check.domain;
  review.summary = check.summary;
  unsigned errors = 0, warnings = 0, notes = 0;
  for (const Finding& f : check.findings) {
    (f.severity == Severity::Error ? errors : f.severity == Severity::Warning ? warnings : notes)++;
    review.findings.push_back(f);
  }
  std::stable_sort(review.findings.begin(), review.findings.end(),
                   [](const Finding& a, const Finding& b) { return a.severity < b.severity; });
  review.counts = check.findings.empty() ? "no findings"
                                         : fmt::format("{}, {}, {}", plural(errors, "error"), plural(warnings, "warning"),
                                                       plural(notes, "note"));
  review.skipped = check.skipped;
  return review;
}

// ---- Host summary -----------------------------------------------------------------

// "8 P-cores, 12 E-cores" for the cores that hold any CPU of `cpus`.
std::string cores_by_kind(const Topology& topo, const CpuSet& cpus) {
  std::map<unsigned, unsigned> count;
  for (const Core& core : topo.cores)
    if (core.cpus.intersects(cpus)) ++count[core.kind];
  std::vector<std::string> parts;
  for (auto it = count.rbegin(); it != count.rend(); ++it) parts.push_back(count_of_cores(topo, it->first, it->second));
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::string cache_summary(const Topology& topo, int level) {
  // Instances grouped by (size, cores sharing one).
  std::map<std::pair<std::uint64_t, unsigned>, unsigned> groups;
  std::vector<std::pair<std::uint64_t, unsigned>> order;
  for (const Cache* c : caches_at_level(topo, level)) {
    unsigned cores = 0;
    for (const Core& core : topo.cores) cores += c->cpus.contains(core.cpus);
    std::pair<std::uint64_t, unsigned> key{c->size_bytes.value_or(0), cores};
    if (!groups.count(key)) order.push_back(key);
    ++groups[key];
  }
  std::vector<std::string> parts;
  for (const auto& key : order) {
    std::string shared = key.second <= 1 ? "one per core" : fmt::format("each shared by {} cores", key.second);
    parts.push_back(key.first ? fmt::format("{} × {}, {}", groups[key], format_bytes(key.first), shared)
                              : fmt::format("{} of unknown size, {}", groups[key], shared));
  }
  return fmt::format("{}", fmt::join(parts, "; "));
}

std::string source_kind(TopologySource s) {
  switch (s) {
    case TopologySource::LiveHost: return "this host, probed live";
    case TopologySource::HwlocXml: return "hwloc XML";
    case TopologySource::LscpuText: return "lscpu -e text";
  }
  return "";
}

std::string opt_text(const std::optional<std::string>& s) { return s ? *s : "unknown"; }

std::vector<Fact> host_facts(const Topology& topo, const Results* run) {
  std::vector<Fact> facts;
  std::string model = topo.cpu_model;
  if (model.empty() && run && !run->host.cpu_model.empty()) model = run->host.cpu_model + " (from the bench results)";
  if (model.empty())
    model = topo.source == TopologySource::LscpuText ? "unknown (`lscpu -e` does not name it)" : "unknown";
  facts.push_back({"CPU", model});
  std::string vendor = !topo.cpu_vendor.empty() ? topo.cpu_vendor : run ? run->host.cpu_vendor : "";
  if (!vendor.empty()) facts.push_back({"Vendor", vendor});

  unsigned smt_cores = 0;
  for (const Core& c : topo.cores) smt_cores += c.cpus.size() > 1;
  std::string smt = smt_cores == 0 ? "no SMT"
                    : smt_cores == topo.cores.size()
                        ? fmt::format("SMT: {} threads per core", threads_per_core_max(topo))
                        : fmt::format("SMT on {} of the cores", smt_cores);
  facts.push_back({"Size", fmt::format("{}, {}, {} ({})", plural(static_cast<unsigned>(topo.packages.size()), "package"),
                                       plural(static_cast<unsigned>(topo.cores.size()), "core"),
                                       plural(static_cast<unsigned>(topo.cpus.size()), "logical CPU"), smt)});
  if (topo.kinds.size() > 1) {
    std::vector<std::string> parts;
    for (auto it = topo.kinds.rbegin(); it != topo.kinds.rend(); ++it) {
      unsigned cores = 0;
      for (const Core& c : topo.cores) cores += c.kind == it->rank;
      parts.push_back(fmt::format("{} (CPUs {}{})", count_of_cores(topo, it->rank, cores), it->cpus,
                                  it->max_mhz ? fmt::format(", up to {} MHz", *it->max_mhz) : ""));
    }
    facts.push_back({"Core kinds", fmt::format("{}", fmt::join(parts, "; "))});
  }
  for (int level : {1, 2, 3, 4}) {
    std::string s = cache_summary(topo, level);
    if (!s.empty()) facts.push_back({level == 1 ? "L1 data" : fmt::format("L{}", level), s});
  }
  if (caches_at_level(topo, 3).empty()) facts.push_back({"L3", "unknown (the host model has none)"});
  {
    std::vector<std::string> parts;
    for (const NumaNode& n : topo.numa_nodes)
      parts.push_back(fmt::format("node {}: {}{}", n.os_index, n.cpus.empty() ? "no CPUs" : "CPUs " + n.cpus.to_string(),
                                  n.memory_bytes ? ", " + format_bytes(n.memory_bytes) : ""));
    if (parts.size() > 8) {
      std::size_t n = parts.size();
      parts.resize(6);
      parts.push_back(fmt::format("… {} more", n - 6));
    }
    if (!parts.empty())
      facts.push_back({fmt::format("NUMA ({})", topo.numa_nodes.size()), fmt::format("{}", fmt::join(parts, "; "))});
  }
  if (!topo.offline_cpus.empty()) facts.push_back({"Offline CPUs", topo.offline_cpus.to_string()});
  {
    std::vector<std::string> gpus;
    for (const PciDevice& d : topo.pci)
      if (d.device_class == PciDevice::Class::Gpu)
        gpus.push_back(fmt::format("{}{}{}", d.address, d.name.empty() ? "" : " " + d.name,
                                   d.numa ? fmt::format(" (NUMA {})", *d.numa) : ""));
    if (!gpus.empty()) facts.push_back({"GPUs", fmt::format("{}", fmt::join(gpus, "; "))});
  }
  const HostState& h = topo.host;
  if (!h.hostname.empty()) facts.push_back({"Host name", h.hostname});
  std::string kernel = !h.kernel.empty() ? h.kernel : run ? run->host.kernel : "";
  if (!kernel.empty()) facts.push_back({"Kernel", kernel});
  if (run) {
    const HostFingerprint& f = run->host;
    if (f.microcode) facts.push_back({"Microcode", *f.microcode});
    if (f.bios_version || f.bios_date)
      facts.push_back({"BIOS", fmt::format("{} ({})", opt_text(f.bios_version), opt_text(f.bios_date))});
    if (f.governor) facts.push_back({"Governor", *f.governor});
    if (f.transparent_hugepage) facts.push_back({"Transparent hugepages", *f.transparent_hugepage});
  }
  if (h.known) {
    facts.push_back({"isolcpus", h.isolcpus.empty() ? "none" : h.isolcpus.to_string()});
    if (!h.nohz_full.empty()) facts.push_back({"nohz_full", h.nohz_full.to_string()});
    if (h.smt_active) facts.push_back({"SMT active", *h.smt_active ? "yes" : "no"});
    std::vector<std::string> pools;
    for (const HugepagePool& p : h.hugepages)
      if (!p.numa && p.total > 0)
        pools.push_back(fmt::format("{} × {} ({} free)", p.total, format_bytes(p.page_bytes), p.free));
    facts.push_back({"Hugepages", pools.empty() ? "none reserved" : fmt::format("{}", fmt::join(pools, ", "))});
  } else if (run) {
    facts.push_back({"isolcpus (at bench time)", run->host.isolcpus.empty() ? "none" : run->host.isolcpus.to_string()});
  }
  return facts;
}

// ---- Guests ----------------------------------------------------------------------

std::string cpus_or_none(const CpuSet& s) { return s.empty() ? "none" : cpus_text(s); }

CpuSet helpers_of(const GuestPlan& g) {
  CpuSet s = g.emulator;
  for (const CpuSet& io : g.iothreads) s |= io;
  return s;
}

// Who shares the cores or caches of `level` (1 = the core) that guest `g`'s
// vCPUs touch (`span`: their CPUs): other guests, their helpers, the host, the
// guest's own helpers. The host's part is the plan's own analysis
// (optimizer/sharing.hpp, as `suggest` warns): where the host runs on the
// guest's CPUs (--reserve 0) it shares them.
std::string describe_others(const Topology& topo, const Plan& plan, unsigned g, const CpuSet& span, int level,
                            bool& shared) {
  const GuestPlan& guest = plan.guests[g];
  const CpuSet others = span - guest.vcpu_cpus();
  std::vector<std::string> parts;
  CpuSet own_helpers = others & helpers_of(guest);
  CpuSet covered = own_helpers;
  for (unsigned o = 0; o < plan.guests.size(); ++o) {
    if (o == g) continue;
    CpuSet theirs = others & plan.guests[o].vcpu_cpus();
    if (!theirs.empty())
      parts.push_back(fmt::format("guest '{}' (CPUs {})", plan.guests[o].name, theirs));
    covered |= theirs;
    CpuSet their_helpers = (others & helpers_of(plan.guests[o])) - covered;
    if (!their_helpers.empty())
      parts.push_back(fmt::format("the helper threads of '{}' (CPUs {})", plan.guests[o].name, their_helpers));
    covered |= their_helpers;
  }
  // The host's CPUs, including those that also run this guest's helpers.
  CpuSet host_shares;
  for (const SharedPart& part : shared_between(topo, guest.vcpu_cpus(), plan.host))
    if (part.level <= level) host_shares |= part.cpus & plan.host;
  CpuSet host = host_shares - (covered - own_helpers);
  if (!host.empty()) {
    std::string text = fmt::format("the host ({})", cpus_or_none(host));
    if (!own_helpers.empty() && host.contains(own_helpers))
      text += own_helpers == host ? ", which runs its emulator and I/O threads"
                                  : fmt::format(", whose {} run its emulator and I/O threads", cpus_or_none(own_helpers));
    parts.insert(parts.begin(), text);
  }
  if (!own_helpers.empty() && !host.contains(own_helpers))
    parts.push_back(fmt::format("its own emulator and I/O threads ({})", cpus_or_none(own_helpers - host)));
  shared = !parts.empty();
  if (parts.empty()) return "";
  if (parts.size() == 1) return parts[0];
  std::string last = parts.back();
  parts.pop_back();
  return fmt::format("{} and {}", fmt::join(parts, ", "), last);
}

// "#0-#11", "#0, #2, #5-#7": the instances, consecutive ones as a range.
std::string cache_list(const std::vector<const Cache*>& caches) {
  std::vector<std::string> parts;
  for (std::size_t i = 0; i < caches.size();) {
    std::size_t j = i;
    while (j + 1 < caches.size() && caches[j + 1]->index == caches[j]->index + 1) ++j;
    parts.push_back(j == i ? fmt::format("#{}", caches[i]->index)
                           : fmt::format("#{}-#{}", caches[i]->index, caches[j]->index));
    i = j + 1;
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

CacheVerdict cache_verdict(const Topology& topo, const Plan& plan, unsigned g, int level) {
  const GuestPlan& guest = plan.guests[g];
  CpuSet vcpus = guest.vcpu_cpus();
  CacheVerdict v;
  v.level = fmt::format("L{}", level);
  std::vector<const Cache*> touched;
  CpuSet span;
  for (unsigned cpu : vcpus) {
    const Cache* found = nullptr;
    for (const Cache* c : caches_at_level(topo, level))
      if (c->cpus.contains(cpu)) found = c;
    if (!found) {
      v.sharing = Sharing::Unknown;
      v.text = fmt::format("unknown: the host model has no L{} for CPU {}", level, cpu);
      return v;
    }
    if (std::find(touched.begin(), touched.end(), found) == touched.end()) touched.push_back(found);
    span |= found->cpus;
  }
  std::sort(touched.begin(), touched.end(), [](const Cache* a, const Cache* b) { return a->index < b->index; });
  bool shared = false;
  std::string others = describe_others(topo, plan, g, span, level, shared);
  std::optional<std::uint64_t> size = touched.empty() ? std::nullopt : touched.front()->size_bytes;
  bool same_size = std::all_of(touched.begin(), touched.end(), [&](const Cache* c) { return c->size_bytes == size; });
  bool per_core = std::all_of(touched.begin(), touched.end(), [&](const Cache* c) {
    return std::any_of(topo.cores.begin(), topo.cores.end(), [&](const Core& core) { return core.cpus == c->cpus; });
  });
  std::string sizes = same_size && size ? format_bytes(size) + (touched.size() > 1 ? " each" : "") : "";
  std::string what;
  if (touched.size() == 1)
    what = fmt::format("L{} #{}{}", level, touched.front()->index, size ? " (" + format_bytes(size) + ")" : "");
  else if (per_core)
    what = fmt::format("{} L{}s, one per core{}", touched.size(), level, sizes.empty() ? "" : " (" + sizes + ")");
  else
    what = fmt::format("{} L{}s ({}{})", touched.size(), level, cache_list(touched), sizes.empty() ? "" : ", " + sizes);
  if (!shared) {
    v.sharing = Sharing::Private;
    v.text = fmt::format("{}: used by this guest alone", what);
  } else {
    v.sharing = Sharing::Shared;
    v.text = fmt::format("{} shared with {}", what, others);
    if (caches_at_level(topo, level).size() == 1)
      v.text += fmt::format(" — unavoidable: this CPU has a single L{}", level);
  }
  return v;
}

CacheVerdict core_verdict(const Topology& topo, const Plan& plan, unsigned g) {
  const GuestPlan& guest = plan.guests[g];
  CpuSet vcpus = guest.vcpu_cpus();
  CpuSet span;
  for (const Core& c : topo.cores)
    if (c.cpus.intersects(vcpus)) span |= c.cpus;
  CacheVerdict v;
  v.level = "core";
  bool shared = false;
  std::string others = describe_others(topo, plan, g, span, 1, shared);
  if (!shared) {
    v.sharing = Sharing::Private;
    v.text = fmt::format("{} whole, no other thread on them (L1 and SMT siblings private)",
                         cores_by_kind(topo, vcpus));
  } else {
    v.sharing = Sharing::Shared;
    v.text = fmt::format("cores shared with {}: their L1 and execution units too", others);
  }
  return v;
}

std::string topology_text(const GuestTopology& t) {
  std::vector<std::string> parts = {plural(t.sockets, "socket")};
  if (t.dies > 1) parts.push_back(plural(t.dies, "die"));
  parts.push_back(plural(t.cores, "core"));
  parts.push_back(plural(t.threads, "thread"));
  return fmt::format("{}", fmt::join(parts, " × "));
}

GuestSummary guest_summary(const Topology& topo, const Plan& plan, unsigned g) {
  const GuestPlan& guest = plan.guests[g];
  GuestSummary s;
  s.name = guest.name;
  s.vcpus = static_cast<unsigned>(guest.vcpus.size());
  s.cpus = guest.vcpu_cpus().to_string();
  s.cores = cores_by_kind(topo, guest.vcpu_cpus());
  std::set<unsigned> l3s;
  for (unsigned cpu : guest.vcpus)
    if (const LogicalCpu* c = find_cpu(topo, cpu); c && c->l3) l3s.insert(*c->l3);
  if (l3s.size() > 1) s.cores += fmt::format(" on {} L3s", l3s.size());
  s.presented = topology_text(guest.topology);
  auto where = [&](const CpuSet& cpus) {
    std::string text = cpus_or_none(cpus);
    if (!cpus.empty() && plan.host.contains(cpus)) text += cpus.size() > 1 ? " (host CPUs)" : " (a host CPU)";
    return text;
  };
  s.emulator = where(guest.emulator);
  std::vector<std::string> io;
  for (std::size_t i = 0; i < guest.iothreads.size(); ++i)
    io.push_back(fmt::format("{}: {}", i + 1, where(guest.iothreads[i])));
  s.iothreads = io.empty() ? "none" : fmt::format("{}", fmt::join(io, "; "));
  s.memory = guest.memory_nodes.empty() ? "not placed (no <numatune>)"
                                        : fmt::format("NUMA node{} {} (strict)",
                                                      guest.memory_nodes.size() > 1 ? "s" : "", guest.memory_nodes);
  if (!guest.numa_cells.empty()) {
    std::vector<std::string> cells;
    for (const NumaCell& c : guest.numa_cells)
      cells.push_back(fmt::format("cell {}: vCPUs {} on node {}", c.cell, c.vcpus, c.host_node));
    s.memory += fmt::format("; guest NUMA cells {}", fmt::join(cells, ", "));
  }
  s.caches.push_back(core_verdict(topo, plan, g));
  for (int level : {2, 3})
    if (!caches_at_level(topo, level).empty()) s.caches.push_back(cache_verdict(topo, plan, g, level));
  s.xml = plan_snippet_xml(guest);
  return s;
}

// A guest the plan leaves as defined: what it is, and no XML to paste.
GuestSummary as_defined_summary(GuestSummary s, const std::string& what) {
  s.presented = what;
  s.emulator = s.iothreads = "as defined";
  s.memory = "as defined";
  s.xml.clear();
  return s;
}

// ---- Domain ------------------------------------------------------------------------

std::string pins_text(const std::map<unsigned, CpuSet>& pins) {
  if (pins.empty()) return "not pinned: vCPUs may run on any host CPU";
  std::vector<std::string> parts;
  for (const auto& [vcpu, cpus] : pins) parts.push_back(fmt::format("{}→{}", vcpu, cpus));
  if (parts.size() > 12) {
    std::size_t n = parts.size();
    parts.resize(10);
    parts.push_back(fmt::format("… ({} pins)", n));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

const GuestPlan* guest_for(const Plan& plan, const std::string& name) {
  for (const GuestPlan& g : plan.guests)
    if (g.name == name) return &g;
  return plan.guests.size() == 1 ? &plan.guests.front() : nullptr;
}

void domain_facts(const Domain& d, const Plan& plan, Report& report) {
  std::vector<Fact>& f = report.domain;
  f.push_back({"Name", d.name});
  if (!d.uuid.empty()) f.push_back({"UUID", d.uuid});
  f.push_back({"vCPUs", d.current_vcpus == d.max_vcpus ? std::to_string(d.max_vcpus)
                                                       : fmt::format("{} (current {})", d.max_vcpus, d.current_vcpus)});
  f.push_back({"vCPU pins now", pins_text(d.vcpupins)});
  f.push_back({"Emulator pin now", d.emulatorpin ? d.emulatorpin->to_string() : "none"});
  f.push_back({"I/O threads now", d.iothreadpins.empty() ? std::to_string(d.iothreads)
                                                        : fmt::format("{} ({})", d.iothreads, pins_text(d.iothreadpins))});
  f.push_back({"<cpu> now", d.cpu_mode ? *d.cpu_mode + (d.cpu_model ? " (" + *d.cpu_model + ")" : "")
                                       : "none (QEMU's default CPU)"});
  if (d.cpu_topology) f.push_back({"Guest topology now", topology_text(*d.cpu_topology)});
  if (!d.hostdevs.empty()) f.push_back({"PCI passthrough", fmt::format("{}", fmt::join(d.hostdevs, ", "))});

  const GuestPlan* g = guest_for(plan, d.name);
  if (!g) return;
  std::map<unsigned, CpuSet> planned;
  for (unsigned v = 0; v < g->vcpus.size(); ++v) planned[v] = CpuSet{g->vcpus[v]};
  if (d.vcpupins == planned && d.emulatorpin == g->emulator) {
    f.push_back({"Compared with the plan", "the vCPU and emulator pins already match"});
  } else {
    f.push_back({"Compared with the plan", "the pins differ: paste the XML below, or use `vpt-tune suggest` with --domain"});
    report.advice.push_back(fmt::format("Domain '{}' is not pinned as planned yet: apply the XML below (`virsh edit {}`).",
                                        d.name, d.name));
  }
  if (d.max_vcpus != g->vcpus.size())
    report.warnings.push_back(fmt::format("Domain '{}' has {} vCPUs; the plan has {}.", d.name, d.max_vcpus,
                                          g->vcpus.size()));
  if (g->cache_passthrough && d.cpu_mode && *d.cpu_mode != "host-passthrough")
    report.advice.push_back(fmt::format("The domain's <cpu mode='{}'> hides the host's caches from the guest: the plan "
                                        "uses host-passthrough with <cache mode='passthrough'/>.",
                                        *d.cpu_mode));
  if (g->require_topoext && !d.require_topoext)
    report.advice.push_back("This is an AMD host: require topoext in <cpu> (in the XML below) so that the guest "
                            "sees SMT siblings and the L3 layout.");
}

// ---- Bench -----------------------------------------------------------------------

std::vector<CacheSize> cache_marks(const Topology& topo, const Results& run) {
  if (!run.host.caches.empty()) return run.host.caches;
  std::vector<CacheSize> marks;
  for (int level : {1, 2, 3}) {
    for (const Cache* c : caches_at_level(topo, level))
      if (c->size_bytes) {
        marks.push_back({level, *c->size_bytes});
        break;
      }
  }
  return marks;
}

std::string pins_in_force(const Results& run, const Plan& plan) {
  if (!run.domain) return "no domain given: the host's CPUs as they were";
  const DomainInForce& d = run.domain.value();
  CpuSet used;
  bool single = true;
  for (const CpuSet& s : d.pins.vcpus) {
    used |= s;
    single = single && s.size() == 1;
  }
  std::string text = fmt::format("domain '{}': {} on CPUs {}", d.name, plural(static_cast<unsigned>(d.pins.vcpus.size()), "vCPU"),
                                 used);
  if (const GuestPlan* g = guest_for(plan, d.name)) {
    bool same = single && d.pins.vcpus.size() == g->vcpus.size();
    for (std::size_t i = 0; same && i < g->vcpus.size(); ++i) same = d.pins.vcpus[i].first() == g->vcpus[i];
    text += same ? " (this plan)" : " (not this plan)";
  }
  return text;
}

BenchSection bench_section(const Topology& topo, const Plan& plan, const Results& run, const std::string& name) {
  BenchSection b;
  b.name = name;
  b.results = run;
  b.cache_marks = cache_marks(topo, run);
  const Results& res = b.results;
  b.facts.push_back({"File", name});
  b.facts.push_back({"Measured", fmt::format("{} ({} mode, {:.0f} s, vpt-tune {})", res.created.empty() ? "unknown" : res.created,
                                             res.mode.empty() ? "?" : res.mode, res.duration_s, res.tool_version)});
  if (!res.host.hostname.empty()) b.facts.push_back({"Host name", res.host.hostname});
  b.facts.push_back({"CPU", res.host.cpu_model.empty() ? "unknown" : res.host.cpu_model});
  b.facts.push_back({"CPUs measured", res.measured_cpus.empty() ? "none" : res.measured_cpus.to_string()});
  b.facts.push_back({"Pins in force", pins_in_force(res, plan)});
  std::vector<std::string> method;
  if (res.core_to_core) {
    const CoreToCoreMethod& m = res.core_to_core->method;
    method.push_back(fmt::format("core-to-core: median one-way ns, {} samples × up to {} round trips per pair "
                                 "({} warm-up dropped a round)",
                                 m.samples, m.round_trips_per_sample, m.warmup_per_round));
  }
  if (res.memory_latency)
    method.push_back(fmt::format("memory: ns per dependent load on CPU {}, {} samples a size",
                                 res.memory_latency->method.cpu, res.memory_latency->method.samples));
  if (res.wakeup)
    method.push_back(fmt::format("wake-up: {} timer wake-ups every {} µs, {}", res.wakeup->method.count,
                                 res.wakeup->method.interval_us, res.wakeup->method.policy));
  b.facts.push_back({"Method", fmt::format("{}; every kernel in {} interleaved round{}", fmt::join(method, "; "),
                                           res.rounds, res.rounds == 1 ? "" : "s")});
  return b;
}

// A one-vCPU guest has no "steal, all vCPUs" row: its vCPU's row is the aggregate.
bool single_vcpu_steal(const Comparison& c, const std::string& metric) {
  std::string window = metric.substr(metric.find(", ") + 2);
  return std::none_of(c.rows.begin(), c.rows.end(),
                      [&](const ComparisonRow& r) { return r.metric == "steal, all vCPUs, " + window; });
}

// Aggregate rows (not one pair or one CPU), one memory row per level, the
// in-guest ping-pong and tail, the vCPUs' steal: the numbers a reader takes in
// at a glance. Matches the kernels' metric names (bench/kernel_table.hpp).
std::vector<std::size_t> headline_rows(const Comparison& c) {
  std::vector<std::size_t> rows;
  std::map<std::string, std::size_t> last_memory_row;  // level -> row (the largest size wins)
  std::vector<std::string> memory_order;
  for (std::size_t i = 0; i < c.rows.size(); ++i) {
    const std::string& m = c.rows[i].metric;
    if (m.starts_with("memory ")) {
      auto open = m.rfind('(');
      std::string level = open == std::string::npos ? m : m.substr(open);
      if (!last_memory_row.count(level)) memory_order.push_back(level);
      last_memory_row[level] = i;
    }
  }
  std::set<std::size_t> memory_rows;
  for (const auto& [level, i] : last_memory_row) memory_rows.insert(i);
  for (std::size_t i = 0; i < c.rows.size(); ++i) {
    const std::string& m = c.rows[i].metric;
    bool aggregate = m.starts_with("core-to-core, all") || m.starts_with("wake-up lateness, all") ||
                     (m.starts_with("interference ") && m.ends_with(" ratio")) || memory_rows.count(i) ||
                     m.starts_with("guest_c2c ") || m.starts_with("guest_wakeup p99") ||
                     m.starts_with("steal, all vCPUs") || (m.starts_with("steal vCPU ") && single_vcpu_steal(c, m));
    if (aggregate) rows.push_back(i);
  }
  return rows;
}

void bench_warnings(const Topology& topo, const Results& run, const std::string& name, Report& report) {
  const HostFingerprint& f = run.host;
  if (!topo.cpu_model.empty() && !f.cpu_model.empty() && topo.cpu_model != f.cpu_model)
    report.warnings.push_back(fmt::format("The bench results '{}' come from a '{}', the host model is a '{}'.", name,
                                          f.cpu_model, topo.cpu_model));
  else if (f.online_cpus != 0 && f.online_cpus != topo.cpus.size())
    report.warnings.push_back(fmt::format("The bench results '{}' come from a host with {} online CPUs; the host model "
                                          "has {}.",
                                          name, f.online_cpus, topo.cpus.size()));
  if (f.hypervisor)
    report.warnings.push_back(fmt::format("'{}' was measured inside a virtual machine: its latencies include the outer "
                                          "hypervisor.",
                                          name));
  if (f.governor && *f.governor != "performance")
    report.advice.push_back(fmt::format("The frequency governor was '{}' during '{}': latencies vary less with "
                                        "'performance' (cpupower frequency-set -g performance).",
                                        *f.governor, name));
}

void add_unique(std::vector<std::string>& to, const std::vector<std::string>& from) {
  for (const std::string& s : from)
    if (std::find(to.begin(), to.end(), s) == to.end()) to.push_back(s);
}

}  // namespace

Report build_report(const ReportSources& raw, const ReportSettings& settings) {
  // Nothing below sees an unredacted input.
  const ReportSources src = redacted(raw, Redactor(settings.redact, secrets_of(raw)));
  const Topology& topo = src.topology;
  const Plan& plan = src.plan;

  Report report;
  report.tool_version = VPT_VERSION;
  report.redacted = settings.redact;

  const Results* run = src.bench ? &*src.bench : src.after ? &*src.after : nullptr;

  // Title: the CPU and what the guests get.
  std::string cpu = !topo.cpu_model.empty() ? topo.cpu_model
                    : run && !run->host.cpu_model.empty()
                        ? run->host.cpu_model
                        : fmt::format("{}-core, {}-thread host", topo.cores.size(), topo.cpus.size());
  std::vector<std::string> guests;
  for (const GuestPlan& g : plan.guests) guests.push_back(fmt::format("'{}' {} vCPU{}", g.name, g.vcpus.size(), g.vcpus.size() == 1 ? "" : "s"));
  report.title = guests.empty() ? fmt::format("{}: {}", cpu, run ? "measurements" : "the host")
                                : fmt::format("{}: {}", cpu, fmt::join(guests, ", "));
  report.no_plan = src.no_plan;

  // Inputs.
  report.inputs.push_back({"Host model", topo.source == TopologySource::LiveHost
                                             ? source_kind(topo.source)
                                             : fmt::format("{}: {}", source_kind(topo.source), topo.source_name)});
  report.inputs.push_back({"Plan", !src.no_plan.empty() ? std::string("none")
                                   : src.plan_file.empty()
                                       ? fmt::format("computed by vpt-tune {} ({})", VPT_VERSION, plan.search)
                                       : fmt::format("read from {} ({})", src.plan_file, plan.search)});
  if (src.domain) report.inputs.push_back({"Domain", src.domain->name});
  if (src.bench) report.inputs.push_back({"Bench results", src.bench_file});
  if (src.check)
    report.inputs.push_back({"Review", src.check_file.empty()
                                           ? fmt::format("vpt-tune check of domain '{}'", src.check->domain)
                                           : fmt::format("read from {}", src.check_file)});
  if (src.before && src.after)
    report.inputs.push_back({"Comparison", fmt::format("before: {}, after: {}", src.before_file, src.after_file)});
  report.inputs.push_back({"Redaction", settings.redact ? "on: host names, UUIDs, MAC addresses, serial numbers and "
                                                          "file paths are hidden"
                                                        : "off (--no-redact): everything is shown as read"});

  report.host = host_facts(topo, run);
  report.layout = layout_topology(topo, plan);
  for (unsigned g = 0; g < plan.guests.size(); ++g) {
    auto it = src.as_defined.find(g);
    report.guests.push_back(it == src.as_defined.end() ? guest_summary(topo, plan, g)
                                                       : as_defined_summary(guest_summary(topo, plan, g), it->second));
  }
  report.host_keeps = !src.no_plan.empty() ? ""
                      : plan.host.empty()   ? "no CPUs of its own"
                                        : fmt::format("CPUs {} ({})", plan.host, cores_by_kind(topo, plan.host));
  if (!src.host_shared_with.empty())
    report.host_keeps += fmt::format(", shared with {} (no cores of their own)", fmt::join(src.host_shared_with, ", "));
  report.explanation = plan.explanation;

  // CPUs the plan names that the host model does not have.
  CpuSet named = plan.host;
  for (const GuestPlan& g : plan.guests) named |= g.vcpu_cpus() | helpers_of(g);
  CpuSet missing = named - all_cpus(topo);
  if (!missing.empty())
    report.warnings.push_back(fmt::format("The plan names CPUs {} that the host model does not have: it was made for "
                                          "another host.",
                                          missing));
  // Bench files of another machine drawn on this host's model (report --before/--after alone).
  for (const Results* results : {src.bench ? &*src.bench : nullptr, src.before ? &*src.before : nullptr,
                                 src.after ? &*src.after : nullptr}) {
    if (!results || results->host.cpu_model.empty() || topo.cpu_model.empty() ||
        results->host.cpu_model == topo.cpu_model)
      continue;
    report.warnings.push_back(fmt::format(
        "The measurements come from a machine with CPU '{}', but the host model is {} (CPU '{}'): the topology "
        "and facts shown are not the measured machine's; give that machine's --topology or --lscpu.",
        results->host.cpu_model, machine_words(topo), topo.cpu_model));
    break;
  }
  add_unique(report.warnings, plan.warnings);
  add_unique(report.warnings, topo.warnings);
  add_unique(report.advice, plan.advice);

  if (src.domain) domain_facts(*src.domain, plan, report);
  if (src.check) report.review = review_section(*src.check);

  if (run) {
    const std::string& name = src.bench ? src.bench_file : src.after_file;
    report.bench = bench_section(topo, plan, *run, name);
    bench_warnings(topo, report.bench->results, name, report);
    add_unique(report.warnings, report.bench->results.warnings);
  }
  if (src.before && src.after) {
    ComparisonSection section;
    // Redacted host names stay apart ("[host]", "[host 2]"): different hosts are still refused.
    section.comparison = compare_results(*src.before, *src.after, src.before_file, src.after_file, settings.compare);
    Comparison& c = section.comparison;
    section.headline = headline_rows(c);
    add_unique(report.warnings, c.warnings);
    report.comparison = std::move(section);
  }
  return report;
}

}  // namespace vpt
