// Results files: what is written is read back unchanged, the JSON has the
// field names the issue fixes, and bad files give one-line errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "bench/results.hpp"
#include "tests/bench/results_fixture.hpp"

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
  EXPECT_EQ(back.guest_json, original.guest_json);
}

TEST(ResultsFile, RoundTripsThroughADiskFile) {
  fs::path path = fs::path(testing::TempDir()) / "vpt-results-roundtrip.json";
  fs::remove(path);
  Results original = test::sample_results();
  save_results_file(original, path.string(), false);
  EXPECT_TRUE(load_results_file(path.string()) == original);
  fs::remove(path);
}

TEST(ResultsFile, UsesTheIssueFieldNames) {
  json doc = json::parse(results_to_json_text(test::sample_results()));
  EXPECT_EQ(doc["schema"], "vpt-tune/bench/1");
  EXPECT_EQ(doc["core_to_core"]["cpus"], json::array({2, 3}));
  // Square matrix, null on the diagonal.
  EXPECT_TRUE(doc["core_to_core"]["median_ns"][0][0].is_null());
  EXPECT_TRUE(doc["core_to_core"]["median_ns"][1][1].is_null());
  EXPECT_EQ(doc["core_to_core"]["median_ns"][0][1], 50.0);
  EXPECT_EQ(doc["memory_latency"][0]["bytes"], 4096);
  EXPECT_EQ(doc["memory_latency"][0]["ns"], 1.2);
  for (const char* key : {"bytes", "quiet_ns", "noisy_ns", "ratio"})
    EXPECT_TRUE(doc["interference"][0].contains(key)) << key;
  for (const char* key : {"cpu", "p50_us", "p99_us", "max_us"}) EXPECT_TRUE(doc["wakeup"].contains(key)) << key;
  EXPECT_EQ(doc["wakeup"]["cpu"], 2);
  EXPECT_EQ(doc["wakeup_by_cpu"].size(), 2u);
  for (const char* key : {"cpu_model", "microcode", "kernel", "bios_version"})
    EXPECT_TRUE(doc["host"].contains(key)) << key;
  EXPECT_EQ(doc["tool_version"], "0.1.0");
  EXPECT_EQ(doc["guest"]["probe"], "later");
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

TEST(ResultsFileErrors, NotJson) { expect_error("{oops", "cannot read results 'f.json': not JSON (byte 2)"); }

TEST(ResultsFileErrors, NoSchema) {
  expect_error("{}", "cannot read results 'f.json': no \"schema\" field: not a vpt-tune bench file (expected "
                     "vpt-tune/bench/1)");
}

TEST(ResultsFileErrors, OtherSchema) {
  expect_error(R"({"schema": "vpt-tune/topology/1"})",
               "cannot read results 'f.json': schema 'vpt-tune/topology/1' is not the supported 'vpt-tune/bench/1'");
}

TEST(ResultsFileErrors, NamesTheMissingField) {
  json doc = json::parse(results_to_json_text(test::sample_results()));
  doc["host"].erase("kernel");
  expect_error(doc.dump(), "cannot read results 'f.json': host.kernel: missing");
}

TEST(ResultsFileErrors, NamesTheIllTypedField) {
  json doc = json::parse(results_to_json_text(test::sample_results()));
  doc["core_to_core"]["pairs"][1]["samples_ns"][3] = "fast";
  expect_error(doc.dump(), "cannot read results 'f.json': core_to_core.pairs[1].samples_ns[3]: expected a number, found string");
}

TEST(ResultsFileErrors, RejectsANonSquareMatrix) {
  json doc = json::parse(results_to_json_text(test::sample_results()));
  doc["core_to_core"]["median_ns"][1] = json::array({1.0});
  expect_error(doc.dump(), "cannot read results 'f.json': core_to_core.median_ns[1]: expected a row of 2 cells");
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
