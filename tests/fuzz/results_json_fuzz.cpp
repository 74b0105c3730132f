// Bench results JSON, as users share it (compare, report --bench/--before/--after).
// An accepted file writes as text, compares with itself, and its JSON reads
// back the same.
#include <sstream>

#include "bench/bench.hpp"
#include "bench/results.hpp"
#include "tests/fuzz/fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vpt::Results results;
  try {
    results = vpt::results_from_json_text(vpt::fuzz::text_of(data, size), "fuzz");
  } catch (const vpt::BenchInputError&) {
    return 0;
  }
  std::ostringstream text;
  vpt::write_results_text(text, results);
  // compare's bootstrap takes seconds on a real file under ASan: small inputs only.
  if (size <= 32 * 1024) {
    vpt::Comparison c = vpt::compare_results(results, results, "a", "b", vpt::CompareOptions{});
    vpt::write_comparison_text(text, c);
  }
  std::string json = vpt::results_to_json_text(results);
  vpt::Results back;
  try {
    back = vpt::results_from_json_text(json, "written");
  } catch (const vpt::BenchInputError& e) {
    FUZZ_CHECK(false, std::string("its own JSON does not read: ") + e.what());
  }
  FUZZ_CHECK(vpt::results_to_json_text(back) == json, "its JSON does not read back the same");
  return 0;
}
