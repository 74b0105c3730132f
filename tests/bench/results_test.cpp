// Results files: what is written is read back unchanged, the JSON has the
// field names the issue fixes, and bad files give one-line errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "bench/results.hpp"
#include "tests/bench/results_fixture.hpp"
#include "tests/vpt_tune_runner.hpp"

namespace vpt {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

TEST(ResultsFile, RoundTripsEveryField) {
  Results original = test::sample_results();
  Results back = results_from_json_text(results_to_json_text(original), "mem");
  EXPECT_TRUE(back == original);
  EXPECT_EQ(back.core_to_core->pairs[0].samples_ns, original.core_to_core->pairs[0].samples_ns);
  EXPECT_EQ(back.domain->threads[1].actual, original.domain->threads[1].actual);
  EXPECT_EQ(back.guest, original.guest);
  EXPECT_EQ(back.steal, original.steal);
}

TEST(ResultsFile, RoundTripsThroughADiskFile) {
  fs::path path = fs::path(testing::TempDir()) / "vpt-results-roundtrip.json";
  fs::remove(path);
  Results original = test::sample_results();
  save_results_file(original, path.string(), false);
  EXPECT_TRUE(load_results_file(path.string()) == original);
  fs::remove(path);
}

TEST(ResultsFile, UsesTheDocumentedFieldNames) {
  json doc = json::parse(results_to_json_text(test::sample_results()));
  EXPECT_EQ(doc["schema"], "vpt-tune/bench/2");
  EXPECT_EQ(doc["rounds"], 5);
  EXPECT_EQ(doc["core_to_core"]["cpus"], json::array({2, 3}));
  // Square matrix, null on the diagonal.
  EXPECT_TRUE(doc["core_to_core"]["median_ns"][0][0].is_null());
  EXPECT_TRUE(doc["core_to_core"]["median_ns"][1][1].is_null());
  EXPECT_EQ(doc["core_to_core"]["median_ns"][0][1], 50.0);
  EXPECT_EQ(doc["core_to_core"]["method"]["samples"], 300);
  // Samples by round: 300 one-way samples of a pair in 5 rounds of 60.
  ASSERT_EQ(doc["core_to_core"]["pairs"][0]["samples_ns"].size(), 5u);
  EXPECT_EQ(doc["core_to_core"]["pairs"][0]["samples_ns"][4].size(), 60u);
  EXPECT_EQ(doc["memory_latency"]["points"][0]["bytes"], 4096);
  EXPECT_EQ(doc["memory_latency"]["points"][0]["ns"], 1.2);
  EXPECT_EQ(doc["memory_latency"]["method"]["cpu"], 2);
  for (const char* key : {"bytes", "quiet_ns", "noisy_ns", "ratio"})
    EXPECT_TRUE(doc["interference"]["points"][0].contains(key)) << key;
  for (const char* key : {"cpu", "p50_us", "p99_us", "max_us"})
    EXPECT_TRUE(doc["wakeup"]["cpus"][0].contains(key)) << key;
  EXPECT_EQ(doc["wakeup"]["cpus"][0]["cpu"], 2);
  EXPECT_EQ(doc["wakeup"]["cpus"].size(), 2u);
  for (const char* key : {"cpu_model", "microcode", "kernel", "bios_version"})
    EXPECT_TRUE(doc["host"].contains(key)) << key;
  EXPECT_EQ(doc["tool_version"], "0.1.0");
  EXPECT_EQ(doc["steal"]["windows"][0]["vcpus"][1]["vcpu"], 1);
  EXPECT_EQ(doc["guest"]["channel"], "agent");
  EXPECT_EQ(doc["guest"]["wakeup"][1]["samples_us"].size(), 5u);
}

// A file the previous version (schema bench/1, no rounds) wrote on this kind
// of machine; the expected values are read from its JSON text above.
TEST(ResultsFile, ReadsABench1FileAsOneRound) {
  const std::string path = std::string(VPT_BENCH_TEST_DATA) + "/bench1-quick.json";
  json doc = json::parse(test::read_file_text(path));
  ASSERT_EQ(doc["schema"], "vpt-tune/bench/1");
  Results r = load_results_file(path);
  EXPECT_EQ(r.schema, "vpt-tune/bench/1");
  EXPECT_EQ(r.rounds, 1u);
  ASSERT_TRUE(r.core_to_core);
  ASSERT_EQ(r.core_to_core->pairs.size(), doc["core_to_core"]["pairs"].size());
  ASSERT_EQ(r.core_to_core->pairs[0].samples_ns.rounds.size(), 1u);
  EXPECT_EQ(r.core_to_core->pairs[0].samples_ns.rounds[0],
            doc["core_to_core"]["pairs"][0]["samples_ns"].get<std::vector<double>>());
  EXPECT_EQ(r.core_to_core->method.samples, doc["method"]["core_to_core"]["samples"].get<unsigned>());
  ASSERT_TRUE(r.memory_latency);
  ASSERT_EQ(r.memory_latency->points.size(), doc["memory_latency"].size());
  EXPECT_EQ(r.memory_latency->method.cpu, doc["method"]["memory_latency"]["cpu"].get<unsigned>());
  EXPECT_EQ(r.memory_latency->points[4].bytes, doc["memory_latency"][4]["bytes"].get<std::uint64_t>());
  EXPECT_EQ(r.memory_latency->points[4].loads_per_sample,
            doc["method"]["memory_latency"]["loads_per_sample"].get<std::uint64_t>());
  ASSERT_TRUE(r.wakeup);
  ASSERT_EQ(r.wakeup->cpus.size(), doc["wakeup_by_cpu"].size());
  EXPECT_EQ(r.wakeup->cpus[1].samples_us.count(), doc["wakeup_by_cpu"][1]["samples_us"].size());
  EXPECT_EQ(r.wakeup->method.count, doc["method"]["wakeup"]["count"].get<unsigned>());
  ASSERT_TRUE(r.interference);
  EXPECT_EQ(r.interference->method.phases_per_round, doc["method"]["interference"]["rounds"].get<unsigned>());
  EXPECT_FALSE(r.steal);
  EXPECT_FALSE(r.guest);
  // Written again, it is a bench/2 file with one round that reads back the same.
  Results again = results_from_json_text(results_to_json_text(r), "again.json");
  EXPECT_EQ(again.schema, "vpt-tune/bench/2");
  again.schema = r.schema;
  EXPECT_TRUE(again == r);
}

TEST(ResultsFile, ABench1GuestSectionKeepsItsSocketAndSamples) {
  json doc = json::parse(test::read_file_text(std::string(VPT_BENCH_TEST_DATA) + "/bench1-quick.json"));
  doc["guest"] = json::parse(R"({"probe": "vpt-guest-probe", "probe_version": 1, "channel": "/run/vm/cmd.sock",
    "command": "vpt-guest-probe --quick", "exit_code": 0, "duration_s": 1.5, "online_cpus": 2, "timer_ns": 30.0,
    "c2c_unit": "round trip", "c2c": [{"cpus": [0, 1], "round_trips_per_sample": 1, "median_ns": 6e6,
    "p99_ns": null, "samples_ns": [5e6, 6e6, 7e6]}], "chase": [], "problems": []})");
  Results r = results_from_json_text(doc.dump(), "old.json");
  ASSERT_TRUE(r.guest);
  EXPECT_EQ(r.guest->channel, "serial");
  EXPECT_EQ(r.guest->via, "/run/vm/cmd.sock");
  ASSERT_EQ(r.guest->output.c2c.size(), 1u);
  EXPECT_EQ(r.guest->output.c2c[0].samples_ns.rounds, (std::vector<std::vector<double>>{{5e6, 6e6, 7e6}}));
}

TEST(ResultsFile, RefusesToOverwriteWithoutForce) {
  fs::path path = fs::path(testing::TempDir()) / "vpt-results-exists.json";
  std::ofstream(path) << "{}";
  try {
    save_results_file(test::sample_results(), path.string(), false);
    ADD_FAILURE() << "overwrote";
  } catch (const BenchInputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot save results '" + path.string() + "': the file exists (use --force to replace it)");
  }
  save_results_file(test::sample_results(), path.string(), true);
  EXPECT_TRUE(load_results_file(path.string()) == test::sample_results());
  fs::remove(path);
}

void expect_error(const std::string& text, const std::string& message) {
  try {
    results_from_json_text(text, "f.json");
    ADD_FAILURE() << "accepted: " << text.substr(0, 80);
  } catch (const BenchInputError& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(ResultsFileErrors, NotJson) { expect_error("{oops", "cannot read results 'f.json': not JSON (syntax error at byte 2)"); }

TEST(ResultsFileErrors, NoSchema) {
  expect_error("{}", "cannot read results 'f.json': no \"schema\" field: not a vpt-tune bench file (expected "
                     "vpt-tune/bench/2)");
}

TEST(ResultsFileErrors, OtherSchema) {
  expect_error(R"({"schema": "vpt-tune/topology/1"})",
               "cannot read results 'f.json': schema 'vpt-tune/topology/1' is not the supported 'vpt-tune/bench/2' (or "
               "'vpt-tune/bench/1')");
}

TEST(ResultsFileErrors, NamesTheMissingField) {
  json doc = json::parse(results_to_json_text(test::sample_results()));
  doc["host"].erase("kernel");
  expect_error(doc.dump(), "cannot read results 'f.json': host.kernel: missing");
}

TEST(ResultsFileErrors, NamesTheIllTypedField) {
  json doc = json::parse(results_to_json_text(test::sample_results()));
  doc["core_to_core"]["pairs"][1]["samples_ns"][2][3] = "fast";
  expect_error(doc.dump(),
               "cannot read results 'f.json': core_to_core.pairs[1].samples_ns[2][3]: expected a number, found string");
}

TEST(ResultsFileErrors, NamesARoundThatIsNotAList) {
  json doc = json::parse(results_to_json_text(test::sample_results()));
  doc["wakeup"]["cpus"][0]["samples_us"][1] = 4.5;
  expect_error(doc.dump(),
               "cannot read results 'f.json': wakeup.cpus[0].samples_us[1]: expected an array of samples, found number");
}

TEST(ResultsFileErrors, RejectsANonSquareMatrix) {
  json doc = json::parse(results_to_json_text(test::sample_results()));
  doc["core_to_core"]["median_ns"][1] = json::array({1.0});
  expect_error(doc.dump(), "cannot read results 'f.json': core_to_core.median_ns[1]: expected a row of 2 cells");
}

// Bounded input (docs/fuzzing.md): numbers a reader must not wrap or cast,
// keys given twice, numbers beyond a double, NaN and Infinity.
TEST(ResultsFileErrors, RefusesNumbersOutOfRangeInsteadOfWrappingThem) {
  json doc = json::parse(results_to_json_text(test::sample_results()));
  doc["host"]["online_cpus"] = -1;
  expect_error(doc.dump(), "cannot read results 'f.json': host.online_cpus: -1 is not a whole number from 0 to 4294967295");
  doc = json::parse(results_to_json_text(test::sample_results()));
  doc["core_to_core"]["method"]["samples"] = 1e30;
  expect_error(doc.dump(), "cannot read results 'f.json': core_to_core.method.samples: 1e+30 is not a whole number from 0 to 4294967295");
  doc = json::parse(results_to_json_text(test::sample_results()));
  doc["core_to_core"]["method"]["samples"] = std::uint64_t{10000000000};
  expect_error(doc.dump(), "cannot read results 'f.json': core_to_core.method.samples: 10000000000 is not a whole number from 0 to 4294967295");
  doc = json::parse(results_to_json_text(test::sample_results()));
  doc["core_to_core"]["pairs"][0]["from"] = 4000000000u;
  expect_error(doc.dump(), "cannot read results 'f.json': core_to_core.pairs[0].from: 4000000000 is not a CPU number (a whole number below 1048576)");
}

TEST(ResultsFileErrors, RefusesDuplicateKeysHugeNumbersNanAndInfinity) {
  std::string text = results_to_json_text(test::sample_results());
  std::string twice = text;
  twice.replace(twice.find("\"mode\""), 0, "\"mode\": \"quick\", ");
  expect_error(twice, "cannot read results 'f.json': key \"mode\" appears twice in one object");
  std::string huge = text;
  huge.replace(huge.find("\"duration_s\": ") + 14, 0, "1e999, \"x\": ");
  expect_error(huge, "cannot read results 'f.json': a number is beyond the range of a double");
  for (const char* literal : {"NaN", "Infinity", "-Infinity"}) {
    std::string bad = text;
    bad.replace(bad.find("\"duration_s\": ") + 14, 0, std::string(literal) + ", \"y\": ");
    std::string error;
    try {
      results_from_json_text(bad, "f.json");
    } catch (const BenchInputError& e) {
      error = e.what();
    }
    EXPECT_TRUE(error.starts_with("cannot read results 'f.json': not JSON (syntax error at byte ")) << literal << ": " << error;
  }
}

TEST(ResultsFileErrors, RejectsAnIothreadListedTwice) {
  json doc = json::parse(results_to_json_text(test::sample_results()));
  doc["domain"]["pins"]["iothreads"].push_back({{"id", 1}, {"cpus", "2"}});
  expect_error(doc.dump(), "cannot read results 'f.json': domain.pins.iothreads[1].id: iothread 1 is listed twice");
}

TEST(ResultsFileErrors, MissingFile) {
  try {
    load_results_file("/nonexistent/r.json");
    ADD_FAILURE();
  } catch (const BenchInputError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot read results '/nonexistent/r.json': No such file or directory");
  }
}

}  // namespace
}  // namespace vpt
