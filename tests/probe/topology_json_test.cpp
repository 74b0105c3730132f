// The topology JSON reader: every corpus model and the live host read back
// from their own document unchanged, and a bad document is one clear error.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "probe/probe.hpp"
#include "probe/topology_writers.hpp"
#include "tests/probe/corpus_facts.hpp"

namespace vpt {
namespace {

using nlohmann::json;

void expect_round_trip(const Topology& topo) {
  json doc = topology_to_json(topo);
  Topology back = topology_from_json(doc, topo.source_name);
  // The documents first: a difference there reads well.
  EXPECT_EQ(topology_to_json(back).dump(1), doc.dump(1));
  EXPECT_TRUE(back == topo) << "a field is not in the JSON document, or not read back";
}

class TopologyJsonOfCorpus : public testing::TestWithParam<std::filesystem::path> {};

TEST_P(TopologyJsonOfCorpus, ReadsBackUnchanged) {
  test::CorpusFacts facts = test::read_facts(GetParam());
  std::string path = facts.source_path().string();
  expect_round_trip(facts.is_xml() ? load_hwloc_xml_file(path) : load_lscpu_file(path));
}

INSTANTIATE_TEST_SUITE_P(Corpus, TopologyJsonOfCorpus, testing::ValuesIn(test::all_facts_files()),
                         [](const auto& info) {
                           std::string name = info.param.stem().string();
                           for (char& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });

TEST(TopologyJson, LiveHostReadsBackUnchanged) {
  Topology live = probe_live_host();
  ASSERT_TRUE(live.host.known);
  expect_round_trip(live);
}

// The message a document gives, "" when it reads.
std::string error_of(const json& doc) {
  try {
    topology_from_json(doc, "t.json");
  } catch (const TopologyInputError& e) {
    return e.what();
  }
  return "";
}

class BadTopologyJson : public testing::Test {
 protected:
  void SetUp() override {
    doc_ = topology_to_json(load_lscpu_file((test::corpus_dir() / "lscpu/intel-core-i7-14700f.txt").string()));
  }
  json doc_;
};

TEST_F(BadTopologyJson, NamesTheFieldAndTheProblem) {
  EXPECT_EQ(error_of(json::array()), "cannot read topology 't.json': not a JSON object");
  json d = doc_;
  d["schema"] = "vpt-tune/plan/1";
  EXPECT_EQ(error_of(d), "cannot read topology 't.json': not a vpt-tune topology (expected \"schema\": \"vpt-tune/topology/1\")");
  d = doc_;
  d["cores"][3].erase("cpus");
  EXPECT_EQ(error_of(d), "cannot read topology 't.json': cores[3].cpus: missing");
  d = doc_;
  d["cpus"][0]["cpu"] = -1;
  EXPECT_EQ(error_of(d), "cannot read topology 't.json': cpus[0].cpu: -1 is not a CPU number (a whole number below 1048576)");
  d = doc_;
  d["cpus"][0]["cpu"] = 4000000000u;
  EXPECT_EQ(error_of(d), "cannot read topology 't.json': cpus[0].cpu: 4000000000 is not a CPU number (a whole number below 1048576)");
  d = doc_;
  d["caches"][0]["type"] = "victim";
  EXPECT_EQ(error_of(d), "cannot read topology 't.json': caches[0].type: 'victim' is not one of unified, data, instruction");
  d = doc_;
  d["kinds"][0]["cpus"] = "3-1";
  EXPECT_EQ(error_of(d), "cannot read topology 't.json': kinds[0].cpus: range '3-1' runs backwards in CPU list '3-1'");
  d = doc_;
  d["numa"]["distances"] = json::array({json::array({10, 20})});
  EXPECT_EQ(error_of(d), "cannot read topology 't.json': numa.distances[0]: expected 1 distances, one per node");
}

TEST_F(BadTopologyJson, AnInconsistentModelIsRefused) {
  json d = doc_;
  d["cores"][1]["cpus"] = d["cores"][0]["cpus"];  // two cores share CPUs, one CPU has none
  std::string e = error_of(d);
  EXPECT_TRUE(e.starts_with("cannot read topology 't.json': CPUs ")) << e;
  EXPECT_NE(e.find("belong to two cores"), std::string::npos) << e;
}

}  // namespace
}  // namespace vpt
