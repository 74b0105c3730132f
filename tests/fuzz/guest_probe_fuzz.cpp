// The in-guest probe's output as it comes back over the serial channel
// (bench --domain): never throws; the results' guest section made from it
// writes as text, compares, and its JSON reads back the same.
#include <sstream>

#include "bench/bench.hpp"
#include "bench/guest_probe.hpp"
#include "bench/results.hpp"
#include "tests/fuzz/fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vpt::GuestResults guest;
  guest.channel = "serial";
  guest.via = "/run/vpt/fuzz.sock";
  guest.command = "vpt-guest-probe --quick";
  guest.exit_code = 0;
  guest.output = vpt::parse_guest_probe_output(vpt::fuzz::text_of(data, size));
  vpt::Results results;
  results.guest = guest;
  std::ostringstream text;
  vpt::write_results_text(text, results);
  if (size <= 32 * 1024) {
    vpt::Comparison c = vpt::compare_results(results, results, "a", "b", vpt::CompareOptions{});
    vpt::write_comparison_text(text, c);
  }
  const std::string json = vpt::results_to_json_text(results);
  vpt::Results back;
  try {
    back = vpt::results_from_json_text(json, "with the guest section");
  } catch (const vpt::BenchInputError& e) {
    FUZZ_CHECK(false, std::string("the guest section makes the results unreadable: ") + e.what());
  }
  FUZZ_CHECK(vpt::results_to_json_text(back) == json, "the guest section does not read back the same");
  return 0;
}
