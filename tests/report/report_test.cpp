// build_report: the facts, cache verdicts, headline rows and redaction a
// writer emits, checked against what the plan and the inputs say.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "report/report.hpp"
#include "tests/report/report_test_util.hpp"

namespace vpt {
namespace {

std::string fact(const std::vector<Fact>& facts, const std::string& name) {
  for (const Fact& f : facts)
    if (f.name == name) return f.value;
  return "<missing " + name + ">";
}

const CacheVerdict& verdict(const GuestSummary& g, const std::string& level) {
  for (const CacheVerdict& v : g.caches)
    if (v.level == level) return v;
  throw std::runtime_error("no verdict for " + level);
}

// Every text of the report a writer may emit, in one string.
std::string all_text(const Report& r) {
  std::string s = r.title + r.host_keeps;
  for (const auto* facts : {&r.inputs, &r.host, &r.domain})
    for (const Fact& f : *facts) s += "\n" + f.name + ": " + f.value;
  for (const GuestSummary& g : r.guests) {
    s += g.name + g.emulator + g.iothreads + g.xml;
    for (const CacheVerdict& v : g.caches) s += v.text;
  }
  for (const LayoutBox& b : r.layout.boxes) s += b.label + b.detail;
  for (const CpuUse& u : r.layout.cpus) s += u.description;
  for (const LegendEntry& e : r.layout.legend) s += e.text;
  for (const auto* list : {&r.explanation, &r.warnings, &r.advice})
    for (const std::string& t : *list) s += "\n" + t;
  if (r.bench) {
    for (const Fact& f : r.bench->facts) s += f.value;
    s += r.bench->results.host.hostname;
    if (r.bench->results.domain) s += r.bench->results.domain->uri + r.bench->results.domain->name;
  }
  if (r.comparison) {
    s += r.comparison->comparison.before_name + r.comparison->comparison.after_name;
    for (const std::string& w : r.comparison->comparison.warnings) s += w;
    for (const ComparisonRow& row : r.comparison->comparison.rows) s += row.metric + row.reason;
  }
  return s;
}

ReportSources i7_sources(unsigned vcpus = 16) {
  ReportSources src;
  src.topology = test::load_corpus("lscpu/intel-core-i7-14700f.txt");
  src.plan = test::plan_for(src.topology, vcpus);
  return src;
}

// ---- Cache verdicts ------------------------------------------------------------

// i7-14700F, 16 vCPUs: the optimizer gives the guest the 8 P-cores (CPUs
// 0-15), whose L2s are per core; the one L3 also serves the host's E-cores.
TEST(ReportOnI7_14700F, SharesOnlyTheL3WithTheHost) {
  ReportSources src = i7_sources();
  ASSERT_EQ(src.plan.guests[0].vcpu_cpus(), CpuSet::range(0, 15));
  Report r = build_report(src, {});
  ASSERT_EQ(r.guests.size(), 1u);
  const GuestSummary& g = r.guests[0];
  EXPECT_EQ(verdict(g, "core").sharing, Sharing::Private);
  EXPECT_EQ(verdict(g, "L2").sharing, Sharing::Private);
  EXPECT_EQ(verdict(g, "L3").sharing, Sharing::Shared);
  EXPECT_NE(verdict(g, "L3").text.find("the host (CPUs 16-27)"), std::string::npos) << verdict(g, "L3").text;
  EXPECT_NE(verdict(g, "L3").text.find("single L3"), std::string::npos);
  EXPECT_EQ(g.cpus, "0-15");
  EXPECT_EQ(g.cores, "8 P-cores");
  EXPECT_EQ(r.host_keeps, "CPUs 16-27 (12 E-cores)");
}

// EPYC 9654 x2, 16 vCPUs: one CCD (8 cores, 16 threads) is a whole L3.
TEST(ReportOnEpyc9654, GivesSixteenVcpusAnL3OfTheirOwn) {
  ReportSources src;
  src.topology = test::load_corpus("hwloc/AMD-19h-Zen4-2xEpyc-9654.xml");
  src.plan = test::plan_for(src.topology, 16);
  Report r = build_report(src, {});
  for (const CacheVerdict& v : r.guests[0].caches) EXPECT_EQ(v.sharing, Sharing::Private) << v.level << ": " << v.text;
  EXPECT_NE(verdict(r.guests[0], "L3").text.find("32 MiB"), std::string::npos);
}

// A guest on SMT siblings of host CPUs shares the core, and says with whom.
TEST(ReportVerdicts, NameTheHostCpusOnAGuestsCores) {
  ReportSources src = i7_sources();
  src.plan.host |= CpuSet{1};  // hand-made: vCPU 1's CPU also listed as the host's
  src.plan.guests[0].vcpus.pop_back();
  src.plan.guests[0].vcpus[1] = 15;  // CPU 1 no longer runs a vCPU
  src.plan.guests[0].topology = {1, 1, 15, 1};  // what 15 vCPUs are presented as
  Report r = build_report(src, {});
  const CacheVerdict& core = verdict(r.guests[0], "core");
  EXPECT_EQ(core.sharing, Sharing::Shared);
  EXPECT_NE(core.text.find("CPU 1"), std::string::npos) << core.text;
}

// ---- Host facts ---------------------------------------------------------------------

TEST(ReportHostFacts, SayWhatLscpuDoesNotKnow) {
  Report r = build_report(i7_sources(), {});
  EXPECT_NE(fact(r.host, "CPU").find("unknown"), std::string::npos);
  EXPECT_EQ(fact(r.host, "Size"), "1 package, 20 cores, 28 logical CPUs (SMT on 8 of the cores)");
  EXPECT_EQ(fact(r.host, "L2"), "8 of unknown size, one per core; 3 of unknown size, each shared by 4 cores");
  EXPECT_EQ(r.title, "20-core, 28-thread host: 'win11' 16 vCPUs");
}

TEST(ReportHostFacts, TakeTheCpuModelFromBenchResultsWhenTheTopologyHasNone) {
  ReportSources src = i7_sources();
  test::SampleConfig config;
  config.cpu_model = "Intel(R) Core(TM) i7-14700F";
  src.bench = test::sample_results(src.topology, src.plan, config);
  src.bench_file = "after.json";
  Report r = build_report(src, {});
  EXPECT_EQ(r.title, "Intel(R) Core(TM) i7-14700F: 'win11' 16 vCPUs");
  EXPECT_EQ(fact(r.host, "Microcode"), "0x129");
}

TEST(ReportHostFacts, CountCachesOfTheEpyc) {
  ReportSources src;
  src.topology = test::load_corpus("hwloc/AMD-19h-Zen4-2xEpyc-9654.xml");
  src.plan = test::plan_for(src.topology, 16);
  Report r = build_report(src, {});
  EXPECT_EQ(fact(r.host, "L3"), "24 × 32 MiB, each shared by 8 cores");
  EXPECT_EQ(fact(r.host, "Size"), "2 packages, 192 cores, 384 logical CPUs (SMT: 2 threads per core)");
}

// ---- Warnings -------------------------------------------------------------------------

TEST(ReportWarnings, FlagAPlanMadeForAnotherHost) {
  ReportSources src = i7_sources();
  src.plan.host |= CpuSet{40, 41};
  Report r = build_report(src, {});
  bool found = false;
  for (const std::string& w : r.warnings) found |= w.find("CPUs 40-41") != std::string::npos;
  EXPECT_TRUE(found);
}

TEST(ReportWarnings, CarryTheResultsWarnings) {
  ReportSources src = i7_sources();
  src.bench = test::sample_results(src.topology, src.plan);
  src.bench_file = "x.json";
  Report r = build_report(src, {});
  EXPECT_NE(std::find(r.warnings.begin(), r.warnings.end(), test::kSyntheticWarning), r.warnings.end());
}

// ---- Comparison -------------------------------------------------------------------------

ReportSources i7_before_after() {
  ReportSources src = i7_sources();
  test::SampleConfig before, after;
  before.pinned = false;
  before.seed = 7;
  after.seed = 8;
  src.before = test::sample_results(src.topology, src.plan, before);
  src.after = test::sample_results(src.topology, src.plan, after);
  src.before_file = "/home/alice/bench/before.json";
  src.after_file = "/home/alice/bench/after.json";
  return src;
}

TEST(ReportComparison, IsCompareResultsUnchanged) {
  ReportSources src = i7_before_after();
  Report r = build_report(src, {});
  ASSERT_TRUE(r.comparison);
  Comparison direct = compare_results(*src.before, *src.after, "before.json", "after.json", CompareOptions{});
  ASSERT_EQ(r.comparison->comparison.rows.size(), direct.rows.size());
  for (std::size_t i = 0; i < direct.rows.size(); ++i) {
    EXPECT_EQ(r.comparison->comparison.rows[i].metric, direct.rows[i].metric);
    EXPECT_EQ(r.comparison->comparison.rows[i].verdict, direct.rows[i].verdict) << direct.rows[i].metric;
    EXPECT_EQ(r.comparison->comparison.rows[i].ci_low, direct.rows[i].ci_low);
  }
}

// Headline rows: the pooled core-to-core and wake-up rows, each
// interference ratio, and the largest size measured in each memory level.
TEST(ReportComparison, HeadlinesAggregatesNotSinglePairs) {
  Report r = build_report(i7_before_after(), {});
  const Comparison& c = r.comparison->comparison;
  std::vector<std::string> metrics;
  for (std::size_t i : r.comparison->headline) metrics.push_back(c.rows[i].metric);
  EXPECT_EQ(std::count(metrics.begin(), metrics.end(), "core-to-core, all measured pairs"), 1);
  EXPECT_EQ(std::count(metrics.begin(), metrics.end(), "wake-up lateness, all measured CPUs"), 1);
  for (const std::string& m : metrics) EXPECT_EQ(m.find("CPU "), std::string::npos) << m;
  unsigned ratios = 0, memory = 0;
  for (const std::string& m : metrics) {
    ratios += m.ends_with(" ratio");
    memory += m.starts_with("memory ");
  }
  EXPECT_EQ(ratios, 2u);  // L2- and L3-sized
  // Synthetic sizes 4 KiB..512 MiB over L1d 48 KiB, L2 2 MiB, L3 32 MiB
  // (sample_caches' default; lscpu gives no sizes): L1, L2, L3, L3-DRAM, DRAM.
  EXPECT_EQ(memory, 5u);
}

TEST(ReportComparison, FindsTheWakeUpTailBetterAndCoreToCoreUnchanged) {
  Report r = build_report(i7_before_after(), {});
  for (const ComparisonRow& row : r.comparison->comparison.rows) {
    if (row.metric == "wake-up lateness, all measured CPUs") {
      EXPECT_EQ(row.verdict, Verdict::Better);
    }
    if (row.metric == "core-to-core, all measured pairs") {
      EXPECT_EQ(row.verdict, Verdict::WithinNoise);
    }
  }
}

// A guest busy in the probe's window: vCPUs waiting `wait` percent of the time.
Steal busy_guest_steal(double wait) {
  StealWindow w{"guest probe", "while the in-guest probe ran", 0.1, 2.0, {}};
  for (unsigned v = 0; v < 2; ++v) {
    std::vector<double> waits, runs;
    for (int i = 0; i < 20; ++i) {
      waits.push_back(wait + 0.1 * (i % 5));
      runs.push_back(60);
    }
    w.vcpus.push_back({v, 100 + static_cast<int>(v), RoundSamples::split(waits, 5), RoundSamples::split(runs, 5), 20, ""});
  }
  return Steal{{w}};
}

TEST(ReportComparison, ShowsStealPerVcpuBeforeAndAfter) {
  ReportSources src = i7_before_after();
  src.before->steal = busy_guest_steal(40);
  src.after->steal = busy_guest_steal(3);
  Report r = build_report(src, {});
  const Comparison& c = r.comparison->comparison;
  std::vector<std::string> headline;
  for (std::size_t i : r.comparison->headline) headline.push_back(c.rows[i].metric);
  EXPECT_EQ(std::count(headline.begin(), headline.end(), "steal, all vCPUs, guest busy (in-guest probe)"), 1);
  for (const char* metric : {"steal vCPU 0, guest busy (in-guest probe)", "steal vCPU 1, guest busy (in-guest probe)",
                             "steal, all vCPUs, guest busy (in-guest probe)"}) {
    auto row = std::find_if(c.rows.begin(), c.rows.end(), [&](const ComparisonRow& x) { return x.metric == metric; });
    ASSERT_NE(row, c.rows.end()) << metric;
    EXPECT_EQ(row->verdict, Verdict::Better) << metric << ": " << row->reason;
    EXPECT_EQ(row->unit, "%");
  }
  // The page shows the after run's steal per vCPU (median of 3.0..3.4, four of each: 3.2;
  // three significant digits on the page), and the comparison rows.
  std::ostringstream html;
  write_html_report(html, r);
  EXPECT_NE(html.str().find("<h3>Steal</h3>"), std::string::npos);
  EXPECT_NE(html.str().find("<td>guest probe</td><td>1</td><td>3.20%</td><td>60.0%</td>"), std::string::npos)
      << html.str();
  EXPECT_NE(html.str().find("steal vCPU 1, guest busy (in-guest probe)"), std::string::npos);
}

TEST(ReportComparison, RefusesResultsOfDifferentHostsUnlessForced) {
  ReportSources src = i7_before_after();
  src.after->host.hostname = "another-box";
  EXPECT_THROW(build_report(src, {}), BenchInputError);
  ReportSettings forced;
  forced.compare.allow_different_hosts = true;
  EXPECT_NO_THROW(build_report(src, forced));
}

// ---- Redaction ---------------------------------------------------------------------------

constexpr const char* kUuid = "5f3c2a1e-9b7d-4c2e-8f1a-0b2c3d4e5f60";

ReportSources identifiable() {
  ReportSources src = i7_before_after();
  src.topology.source_name = "/home/alice/hosts/alice-desktop-lscpu.txt";
  src.topology.host.hostname = "alice-desktop";
  src.before->host.hostname = src.after->host.hostname = "alice-desktop";
  src.after->domain->uri = "qemu+ssh://alice@alice-desktop/system";
  src.after->warnings.push_back("disk /var/lib/libvirt/images/alice-win11.qcow2 on 52:54:00:a1:b2:c3");
  Domain d = parse_domain_xml(std::string("<domain type='kvm'><name>win11</name><uuid>") + kUuid +
                                  "</uuid><vcpu>16</vcpu></domain>",
                              "win11.xml");
  src.domain = d;
  return src;
}

TEST(ReportRedaction, IsOnByDefaultAndHidesWhoAndWhere) {
  Report r = build_report(identifiable(), {});
  std::string text = all_text(r);
  for (const char* secret : {"alice", kUuid, "52:54:00", ".qcow2", "/home/"})
    EXPECT_EQ(text.find(secret), std::string::npos) << secret;
  EXPECT_NE(text.find("[uuid]"), std::string::npos);
  EXPECT_NE(text.find("[host]"), std::string::npos);
  EXPECT_NE(text.find("[host]-lscpu.txt"), std::string::npos) << "the file's base name stays, without the host";
  EXPECT_TRUE(r.redacted);
}

TEST(ReportRedaction, NoRedactKeepsEverything) {
  ReportSettings settings;
  settings.redact = false;
  Report r = build_report(identifiable(), settings);
  std::string text = all_text(r);
  for (const char* kept : {"alice-desktop", kUuid, "52:54:00:a1:b2:c3", "alice-win11.qcow2"})
    EXPECT_NE(text.find(kept), std::string::npos) << kept;
  EXPECT_FALSE(r.redacted);
}

// ---- Domain -------------------------------------------------------------------------------

TEST(ReportDomain, ComparesTheDefinedPinsWithThePlan) {
  ReportSources src = i7_sources();
  src.domain = parse_domain_xml("<domain type='kvm'><name>win11</name><vcpu>8</vcpu><cpu mode='host-model'/></domain>",
                                "win11.xml");
  Report r = build_report(src, {});
  EXPECT_EQ(fact(r.domain, "vCPU pins now"), "not pinned: vCPUs may run on any host CPU");
  bool count_warning = false, cpu_mode_advice = false;
  for (const std::string& w : r.warnings) count_warning |= w.find("has 8 vCPUs; the plan has 16") != std::string::npos;
  for (const std::string& a : r.advice) cpu_mode_advice |= a.find("host-model") != std::string::npos;
  EXPECT_TRUE(count_warning);
  EXPECT_TRUE(cpu_mode_advice);
}

}  // namespace
}  // namespace vpt
