// Redaction cannot forget a field: a marker host name is planted in every
// string of every input document (topology, plan, before/after/bench results
// as JSON, the domain as XML, the file names), wherever the document's own
// reader still accepts it, and no report format shows it. The planting walks
// the documents, not a list of fields, so a field added later is planted too.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "bench/results.hpp"
#include "check/findings_writers.hpp"
#include "optimizer/plan_writers.hpp"
#include "probe/topology_writers.hpp"
#include "report/redact.hpp"
#include "report/report.hpp"
#include "tests/report/report_test_util.hpp"
#include "tests/vpt_tune_runner.hpp"
#include "virt/domain.hpp"

namespace vpt {
namespace {

using nlohmann::json;

constexpr const char* kMarker = "zorblax";  // the host's name: what must not leak

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool shows_marker(const std::string& text) { return lower(text).find(kMarker) != std::string::npos; }

// ---- Planting -------------------------------------------------------------------

// The fields whose strings are vpt-tune's own sentences (report/redact.hpp,
// redact_tool_text): a host's value reaches them only as vpt-tune writes one
// into a sentence, quoted ("guest 'win11' shares ..."), so the marker is
// planted there quoted. A bare word there is vpt-tune's ("the host", "the
// VM"): RedactionOfToolText checks that it stays.
bool tool_text_field(const json::json_pointer& at) {
  static const std::set<std::string> fields = {"explanation", "warnings", "advice",  "title",
                                                "why",         "fix",      "manual_reason", "skipped"};
  for (json::json_pointer p = at; !p.empty(); p = p.parent_pointer()) {
    const std::string& key = p.back();
    if (!key.empty() && std::all_of(key.begin(), key.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      continue;  // an array index: the array's field counts
    return fields.count(key) > 0;
  }
  return false;
}

// Appends " zorblax" to every string of `doc` (and tries a "zorblax" in every
// null and every empty array) that `reads` still accepts; returns how many.
// In vpt-tune's own sentences the marker is quoted: " 'zorblax'".
int plant_json(json& doc, const std::function<void(const json&)>& reads, const std::string& marker = kMarker) {
  int planted = 0;
  std::vector<json::json_pointer> leaves;
  std::function<void(const json&, const json::json_pointer&)> collect = [&](const json& v, const json::json_pointer& at) {
    if (v.is_object())
      for (auto& [key, child] : v.items()) collect(child, at / key);
    else if (v.is_array() && !v.empty())
      for (std::size_t i = 0; i < v.size(); ++i) collect(v[i], at / i);
    else if (v.is_string() || v.is_null() || v.is_array())
      leaves.push_back(at);
  };
  collect(doc, json::json_pointer());
  for (const auto& at : leaves) {
    json old = doc[at];
    const std::string value = tool_text_field(at) ? "'" + marker + "'" : marker;
    if (old.is_string()) doc[at] = old.get<std::string>() + " " + value;
    else if (old.is_null()) doc[at] = value;
    else doc[at] = json::array({value});
    try {
      reads(doc);
      ++planted;
    } catch (const std::exception&) {
      doc[at] = old;  // a word the reader checks, a CPU list, a number
    }
  }
  return planted;
}

// The same for every attribute value and text of an XML document.
int plant_xml(std::string& xml, const std::function<void(const std::string&)>& reads,
              const std::string& marker = kMarker) {
  pugi::xml_document doc;
  const unsigned flags = pugi::parse_default | pugi::parse_comments | pugi::parse_ws_pcdata;
  EXPECT_TRUE(doc.load_string(xml.c_str(), flags));
  std::vector<std::function<void(bool)>> sites;  // plant (true) or undo (false)
  std::function<void(pugi::xml_node)> collect = [&](pugi::xml_node node) {
    for (pugi::xml_attribute a : node.attributes())
      sites.push_back([a, &marker, old = std::string(a.value())](bool plant) mutable {
        a.set_value((plant ? old + " " + marker : old).c_str());
      });
    for (pugi::xml_node child : node.children()) {
      if (child.type() == pugi::node_element) collect(child);
      else if (child.type() == pugi::node_pcdata || child.type() == pugi::node_comment)
        sites.push_back([child, &marker, old = std::string(child.value())](bool plant) mutable {
          child.set_value((plant ? old + " " + marker : old).c_str());
        });
    }
  };
  collect(doc.document_element());
  auto text = [&] {
    std::ostringstream out;
    doc.save(out, "", pugi::format_raw | pugi::format_no_declaration);
    return out.str();
  };
  int planted = 0;
  for (auto& site : sites) {
    site(true);
    try {
      reads(text());
      ++planted;
    } catch (const std::exception&) {
      site(false);
    }
  }
  xml = text();
  return planted;
}

// ---- The documents ------------------------------------------------------------------

struct Planted {
  ReportSources sources;
  std::map<std::string, int> counts;  // document -> strings planted
};

// Every optional part of a results document present, every row with an error
// (written only when there is one), so that each gets a marker too.
json full_results_json(Results res) {
  ThreadCheck vcpu0;
  vcpu0.kind = ThreadKind::Vcpu;
  vcpu0.index = 0;
  vcpu0.tid = 4243;
  vcpu0.comm = "CPU 0/KVM";
  vcpu0.pinned = vcpu0.actual = CpuSet{0};
  vcpu0.matches = true;
  if (!res.domain) res.domain.emplace();
  res.domain->uri = "qemu:///system";
  res.domain->name = "win11";
  res.domain->threads = {vcpu0};
  if (res.core_to_core)
    for (CoreToCorePair& p : res.core_to_core->pairs) p.error = "failed";
  if (res.memory_latency)
    for (LatencyPoint& p : res.memory_latency->points) p.error = "failed";
  if (res.interference)
    for (InterferencePoint& p : res.interference->points) p.error = "failed";
  if (res.wakeup)
    for (WakeupResult& w : res.wakeup->cpus) w.error = "failed";
  const RoundSamples one{{{1.0}}};
  res.steal = Steal{{StealWindow{"quiet", "between rounds", 0.1, 1.0, {VcpuSteal{0, 4243, one, one, 3, "ended"}}}}};
  GuestResults guest;
  guest.channel = "serial";
  guest.via = "/run/libvirt/qemu/guest.sock";
  guest.command = "vpt-guest-probe --quick";
  guest.os = "Debian GNU/Linux 12";
  guest.exit_code = 0;
  guest.error = "the probe failed";
  guest.output.version = 2;
  guest.output.os = "linux";
  guest.output.c2c = {GuestC2c{0, 1, 100, one, "pin failed"}};
  guest.output.chase = {GuestChase{0, 16384, 1000, one, "pin failed"}};
  guest.output.wakeup = {GuestWakeup{0, 1000, "clock_nanosleep", one, "pin failed"}};
  guest.output.problems = {"a malformed line"};
  res.guest = guest;
  return json::parse(results_to_json_text(res));
}

// Every field of the live host's state filled in, as `vpt-tune probe` on a
// host would: each gets a marker too.
Topology with_live_host_state(Topology topo) {
  HostState& h = topo.host;
  h.known = true;
  h.kernel = "6.1.0-13-amd64";
  h.isolcpus = CpuSet{2, 3};
  h.nohz_full = CpuSet{2, 3};
  h.smt_active = true;
  h.hugepages = {{2u << 20, 0u, 512, 512}};
  h.cpufreq[0] = {"intel_pstate", "powersave", "balance_performance"};
  h.thp_enabled = "madvise";
  h.thp_defrag = "madvise";
  h.kvm_halt_poll_ns = 200000;
  h.irqbalance = IrqbalanceDaemon{812, CpuSet{2, 3}};
  h.irqs = {{128, "vfio-msix[0](0000:84:00.0)", CpuSet{0, 1}, true, "0000:84:00.0"}};
  h.libvirt_qemu_hooks = {"qemu", "vpt-tune-win11"};
  return topo;
}

// `marker` is appended to every string; the host's name and the file names
// are always the kMarker host's.
Planted planted_sources(const std::string& marker = kMarker) {
  Planted p;
  // A host with PCI devices (names, OS devices), two packages and NUMA nodes.
  Topology topo = test::load_corpus("hwloc/32em64t-2n8c2t-pci-wholeio.xml");
  json topo_doc = topology_to_json(with_live_host_state(topo));
  p.counts["topology"] = plant_json(topo_doc, [](const json& d) { topology_from_json(d, "t"); }, marker);
  topo_doc["host"]["hostname"] = kMarker;  // the secret itself, as an hwloc export names its host
  p.sources.topology = topology_from_json(topo_doc, "t");

  Plan plan = test::plan_for(topo, 8);
  json plan_doc = plan_to_json(plan);
  p.counts["plan"] = plant_json(plan_doc, [](const json& d) { plan_from_json(d, "p.json"); }, marker);
  p.sources.plan = plan_from_json(plan_doc, "p.json");
  p.sources.plan_file = std::string("/home/") + kMarker + "/plans/" + kMarker + "-plan.json";

  std::string xml = test::read_file_text(std::string(VPT_DATA_DIR) + "/domains/win11-gaming.xml");
  p.counts["domain XML"] = plant_xml(xml, [](const std::string& x) { parse_domain_xml(x, "d"); }, marker);
  p.sources.domain = parse_domain_xml(xml, "d");

  test::SampleConfig before_config, after_config;
  before_config.pinned = false;
  before_config.hostname = after_config.hostname = kMarker;
  auto planted_results = [&, marker](const test::SampleConfig& config, const std::string& name) {
    json doc = full_results_json(test::sample_results(topo, plan, config));
    p.counts[name] = plant_json(doc, [](const json& d) { results_from_json_text(d.dump(), "r"); }, marker);
    doc["host"]["hostname"] = kMarker;
    return results_from_json_text(doc.dump(), "r");
  };
  p.sources.before = planted_results(before_config, "before results");
  p.sources.after = planted_results(after_config, "after results");
  p.sources.bench = planted_results(after_config, "bench results");
  p.sources.before_file = std::string("/home/") + kMarker + "/before.json";
  p.sources.after_file = std::string("/srv/") + kMarker + "/after-" + kMarker + ".json";
  p.sources.bench_file = std::string("~/") + kMarker + ".json";

  json check_doc = findings_to_json(test::sample_review());
  p.counts["review"] = plant_json(check_doc, [](const json& d) { findings_from_json(d, "c"); }, marker);
  p.sources.check = findings_from_json(check_doc, "c");
  p.sources.check_file = std::string("/home/") + kMarker + "/check.json";
  return p;
}

std::string every_format(const Report& report) {
  std::string all;
  for (ReportFormat format : {ReportFormat::Html, ReportFormat::Markdown, ReportFormat::Bbcode}) {
    std::ostringstream out;
    write_report(out, report, format);
    all += out.str();
  }
  return all;
}

TEST(RedactionOfEveryField, PlantsTheMarkerInEveryDocument) {
  Planted p = planted_sources();
  // Lower bounds counted by hand from the documents: the topology has 4 PCI
  // devices with a name and OS devices, 2 packages with a model, kinds and
  // warnings; the domain XML dozens of attributes and texts.
  EXPECT_GE(p.counts["topology"], 15);
  EXPECT_GE(p.counts["plan"], 10);
  EXPECT_GE(p.counts["domain XML"], 60);
  // The live host's kernel, governor, THP, IRQ names and hooks (with_live_host_state).
  EXPECT_GE(p.counts["topology"], 15 + 8);
  // Domain, summary, and per finding title, why, evidence, fix, manual reason; the skipped list.
  EXPECT_GE(p.counts["review"], 12);
  for (const char* r : {"before results", "after results", "bench results"}) EXPECT_GE(p.counts[r], 40) << r;
  for (const auto& [doc, n] : p.counts) std::cout << doc << ": " << n << " strings planted\n";
}

TEST(RedactionOfEveryField, NoReportFormatShowsTheMarker) {
  Planted p = planted_sources();
  Report report = build_report(p.sources, {});
  std::string text = every_format(report);
  auto at = lower(text).find(kMarker);
  EXPECT_EQ(at, std::string::npos) << "leaked: ..." << text.substr(at == std::string::npos ? 0 : at - std::min<std::size_t>(at, 120), 240);
  // The values the writers draw from hold none either.
  ASSERT_TRUE(report.bench);
  EXPECT_FALSE(shows_marker(results_to_json_text(report.bench->results)));
  ASSERT_TRUE(report.comparison);
  std::ostringstream comparison;
  write_comparison_text(comparison, report.comparison->comparison);
  EXPECT_FALSE(shows_marker(comparison.str()));
}

// Issue 28, point 9: every other form that identifies a person, planted in every
// string of every document at once; none of the tell-tale parts may show.
TEST(RedactionOfEveryField, NoReportFormatShowsAnIdentifyingForm) {
  const std::vector<std::pair<std::string, std::string>> forms = {
      {"10.23.45.67", "10.23.45.67"},
      {"fd00:1234:5678::42", "fd00:1234:5678"},
      {"BC24115A2B01", "bc24115a2b01"},
      {"bc24.115a.2b01", "bc24.115a.2b01"},
      {"5f3c2a1e9b7d4c2e8f1a0b2c3d4e5f60", "5f3c2a1e9b7d4c2e"},
      {"serialnumber QX7781Z", "qx7781z"},
      {"C:\\Users\\qalice\\Documents", "qalice"},
      {"qcarol@example.org", "qcarol"},
      {"root@qpvenode", "qpvenode"},
      {"/dev/mapper/vg_qdave-root", "qdave"},
      {"/dev/zvol/rpool/data/qerin-disk", "qerin"},
      {"/run/user/4242/pipewire-0", "user/4242"},
  };
  std::string planted;
  for (const auto& [form, tell] : forms) planted += (planted.empty() ? "" : " ") + form;
  Planted p = planted_sources(planted);
  EXPECT_GE(p.counts["domain XML"], 60);
  EXPECT_GE(p.counts["review"], 12);
  const std::string text = lower(every_format(build_report(p.sources, {})));
  for (const auto& [form, tell] : forms) {
    auto at = text.find(tell);
    EXPECT_EQ(at, std::string::npos) << form << " leaked: ..."
                                     << text.substr(at == std::string::npos ? 0 : at - std::min<std::size_t>(at, 120), 240);
  }
  // The control: without redaction they are there.
  ReportSettings off;
  off.redact = false;
  const std::string raw = lower(every_format(build_report(p.sources, off)));
  for (const auto& [form, tell] : forms) EXPECT_NE(raw.find(tell), std::string::npos) << form;
}

// The control: the marker does reach the pages when redaction is off.
TEST(RedactionOfEveryField, WithoutRedactionTheMarkerIsShown) {
  ReportSettings off;
  off.redact = false;
  EXPECT_TRUE(shows_marker(every_format(build_report(planted_sources().sources, off))));
}

// A host named like any word of the documents ("storage", "vcpu",
// "host-passthrough", "topoext") leaves every document readable and the
// domain's settings as they were: the vocabularies in report/redact.hpp are complete.
std::set<std::string> hostname_like_strings(const json& doc) {
  std::set<std::string> out;
  static const std::regex hostname("[A-Za-z0-9][A-Za-z0-9.-]*");
  std::function<void(const json&)> walk = [&](const json& v) {
    if (v.is_string() && std::regex_match(v.get<std::string>(), hostname)) out.insert(v.get<std::string>());
    if (v.is_structured())
      for (const json& child : v) walk(child);
  };
  walk(doc);
  return out;
}

TEST(RedactionVocabulary, AHostNamedLikeAnyWordKeepsTheJsonDocumentsReadable) {
  Topology topo = test::load_corpus("hwloc/32em64t-2n8c2t-pci-wholeio.xml");
  Plan plan = test::plan_for(topo, 8);
  json topo_doc = topology_to_json(with_live_host_state(topo)), plan_doc = plan_to_json(plan),
       results_doc = full_results_json(test::sample_results(topo, plan, {})),
       check_doc = findings_to_json(test::sample_review());
  std::set<std::string> words = hostname_like_strings(topo_doc);
  for (const json* d : {&plan_doc, &results_doc, &check_doc}) words.merge(hostname_like_strings(*d));
  ASSERT_GE(words.size(), 20u);
  const CheckReport review = findings_from_json(check_doc, "c");
  for (const std::string& word : words) {
    RedactionSecrets secrets;
    secrets.hostnames = {word};
    json t = topo_doc, p = plan_doc, r = results_doc, c = check_doc;
    redact_json(t, secrets, topology_vocabulary());
    redact_json(p, secrets, plan_vocabulary());
    redact_json(r, secrets, results_vocabulary());
    redact_json(c, secrets, check_vocabulary());
    EXPECT_NO_THROW(topology_from_json(t, "t")) << word;
    EXPECT_NO_THROW(plan_from_json(p, "p.json")) << word;
    EXPECT_NO_THROW(results_from_json_text(r.dump(), "r")) << word;
    CheckReport back;
    ASSERT_NO_THROW(back = findings_from_json(c, "c")) << word;
    ASSERT_EQ(back.findings.size(), review.findings.size()) << word;
    for (std::size_t i = 0; i < back.findings.size(); ++i) {
      EXPECT_EQ(back.findings[i].id, review.findings[i].id) << word;
      EXPECT_EQ(back.findings[i].severity, review.findings[i].severity) << word;
    }
  }
}

TEST(RedactionVocabulary, AHostNamedLikeAnyWordKeepsTheDomainsSettings) {
  for (const char* file : {"win11-gaming.xml", "win10-untuned.xml", "linux-server.xml", "custom-cpu.xml", "minimal.xml"}) {
    std::string xml = test::read_file_text(std::string(VPT_DATA_DIR) + "/domains/" + file);
    Domain original = parse_domain_xml(xml, file);
    std::set<std::string> words;
    static const std::regex word("[A-Za-z0-9][A-Za-z0-9.-]*");
    for (auto it = std::sregex_iterator(xml.begin(), xml.end(), word); it != std::sregex_iterator(); ++it)
      words.insert(it->str());
    for (const std::string& w : words) {
      RedactionSecrets secrets;
      secrets.hostnames = {w};
      Domain d;
      ASSERT_NO_THROW(d = parse_domain_xml(redact_xml(xml, secrets, domain_xml_vocabulary()), file)) << file << ": " << w;
      EXPECT_EQ(d.max_vcpus, original.max_vcpus) << w;
      EXPECT_EQ(d.current_vcpus, original.current_vcpus) << w;
      EXPECT_EQ(d.iothreads, original.iothreads) << w;
      EXPECT_EQ(d.vcpupins, original.vcpupins) << w;
      EXPECT_EQ(d.emulatorpin, original.emulatorpin) << w;
      EXPECT_EQ(d.iothreadpins, original.iothreadpins) << w;
      EXPECT_EQ(d.cpu_mode, original.cpu_mode) << file << ": " << w;
      EXPECT_EQ(d.cache_passthrough, original.cache_passthrough) << w;
      EXPECT_EQ(d.require_topoext, original.require_topoext) << w;
      EXPECT_EQ(d.numatune_mode, original.numatune_mode) << w;
      EXPECT_EQ(d.numatune_nodeset, original.numatune_nodeset) << w;
      EXPECT_EQ(d.hostdevs, original.hostdevs) << file << ": " << w;
      EXPECT_EQ(d.type, original.type) << w;
    }
  }
}

// ---- Host names that are common words ---------------------------------------------

std::string fact_of(const std::vector<Fact>& facts, const std::string& name) {
  for (const Fact& f : facts)
    if (f.name == name) return f.value;
  return "(no fact " + name + ")";
}

std::string format(const Report& r, ReportFormat f) {
  std::ostringstream out;
  write_report(out, r, f);
  return out.str();
}

constexpr const char* kDocsUrl = "https://www.linux-kvm.org/page/Tuning_KVM";
constexpr const char* kOwnTitle = "The host PC of a server resets the VM";
constexpr const char* kOwnWhy = "Set vm.nr_hugepages (/proc/sys/vm/nr_hugepages); see https://www.linux-kvm.org/page/Tuning_KVM "
                                "and http://example.org/vm/pc/server.html.";

// A host named `word`, a guest and domain named the same (values), bench
// results from it, and findings whose texts (vpt-tune's) hold the word, sysctl
// names and documentation links.
ReportSources common_word_sources(const std::string& word, const CheckInfo& reset_row) {
  ReportSources src;
  src.topology = test::load_corpus("lscpu/intel-core-i7-14700f.txt");
  src.topology.host.hostname = word;
  src.plan = test::plan_for(src.topology, 16, word);
  test::SampleConfig config;
  config.hostname = word;
  src.bench = test::sample_results(src.topology, src.plan, config);
  src.bench_file = "bench.json";
  CheckReport review;
  review.domain = word;
  review.summary = "16 vCPUs, Windows guest";
  Finding from_table;  // as `vpt-tune check` writes it: the table's title and why
  from_table.id = reset_row.id;
  from_table.severity = reset_row.severity;
  from_table.title = reset_row.title;
  from_table.why = reset_row.why;
  from_table.evidence = "<hyperv> of " + word + " has no <reset>";
  Finding own;
  own.id = "hugepages-none";
  own.severity = Severity::Warning;
  own.title = kOwnTitle;
  own.why = kOwnWhy;
  own.evidence = "'" + word + "' reserves none";
  own.fix = "sysctl -w vm.nr_hugepages=8192";
  review.findings = {own, from_table};
  src.check = findings_from_json(findings_to_json(review), "findings.json");  // as read from a file
  src.check_file = "findings.json";
  return src;
}

TEST(RedactionOfToolText, HostsNamedLikeCommonWordsLeaveVptTunesTextsIntact) {
  const std::vector<CheckInfo> table = check_table();
  auto reset = std::find_if(table.begin(), table.end(), [](const CheckInfo& c) { return c.id == "hyperv-reset"; });
  ASSERT_NE(reset, table.end());
  ASSERT_NE(reset->why.find("reset the VM through an MSR"), std::string::npos);  // the text this test is about
  for (const std::string word : {"vm", "host", "pc", "server", "VM"}) {
    SCOPED_TRACE(word);
    Report r = build_report(common_word_sources(word, *reset), {});
    // The values that came from the host: hidden.
    EXPECT_EQ(fact_of(r.host, "Host name"), "[host]");
    ASSERT_TRUE(r.bench);
    EXPECT_EQ(fact_of(r.bench->facts, "Host name"), "[host]");
    ASSERT_EQ(r.guests.size(), 1u);
    EXPECT_EQ(r.guests[0].name, "[host]");
    ASSERT_TRUE(r.review);
    EXPECT_EQ(r.review->domain, "[host]");
    ASSERT_EQ(r.review->findings.size(), 2u);
    const Finding& own = r.review->findings[0];  // the warning sorts first
    const Finding& from_table = r.review->findings[1];
    EXPECT_EQ(own.evidence, "'[host]' reserves none");
    EXPECT_EQ(from_table.evidence, "<hyperv> of [host] has no <reset>");
    // vpt-tune's own words: as written.
    EXPECT_EQ(from_table.title, reset->title);
    EXPECT_EQ(from_table.why, reset->why);
    EXPECT_EQ(own.title, kOwnTitle);
    EXPECT_EQ(own.why, kOwnWhy);
    EXPECT_EQ(own.fix, "sysctl -w vm.nr_hugepages=8192");
    // The plan's advice for a host whose hugepages are unknown (optimizer/explain.cpp).
    EXPECT_NE(std::find(r.advice.begin(), r.advice.end(),
                        "Back the guest's memory with hugepages: reserve them on the host (vm.nr_hugepages) and add "
                        "<memoryBacking><hugepages/></memoryBacking>."),
              r.advice.end());
    // The plan's explanation names the guest quoted: a value, hidden.
    ASSERT_FALSE(r.explanation.empty());
    EXPECT_TRUE(r.explanation[0].starts_with("Guest '[host]': 16 vCPUs")) << r.explanation[0];

    const std::string html = format(r, ReportFormat::Html), markdown = format(r, ReportFormat::Markdown);
    for (const std::string& text : {html, markdown}) {
      EXPECT_EQ(text.find("[host].nr"), std::string::npos);
      EXPECT_EQ(text.find("[host][path]"), std::string::npos);
      EXPECT_EQ(text.find("reset the [host]"), std::string::npos);
    }
    EXPECT_NE(html.find("Lets Windows reset the VM through an MSR"), std::string::npos);
    EXPECT_NE(html.find(kDocsUrl), std::string::npos);
    EXPECT_NE(html.find("http://example.org/vm/pc/server.html"), std::string::npos);
    EXPECT_NE(html.find("/proc/sys/vm/nr_hugepages"), std::string::npos);
    EXPECT_NE(html.find("<th scope=\"row\">Host name</th><td>[host]</td>"), std::string::npos);
    EXPECT_NE(markdown.find(kOwnTitle), std::string::npos) << markdown;
    EXPECT_NE(markdown.find("Guest '[host]'"), std::string::npos) << markdown;
  }
}

}  // namespace
}  // namespace vpt
