// The in-guest probe's output as it comes back over the serial channel
// (bench --domain): never throws; the results section made from it is JSON
// that the results reader accepts and compare reads.
#include <sstream>

#include "bench/bench.hpp"
#include "bench/guest_probe.hpp"
#include "bench/results.hpp"
#include "tests/fuzz/fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vpt::GuestRun run;
  run.channel = "/run/vpt/fuzz.sock";
  run.command = "vpt-guest-probe --quick";
  run.exit_code = 0;
  run.output = vpt::parse_guest_probe_output(vpt::fuzz::text_of(data, size));
  vpt::Results results;
  results.guest_json = vpt::guest_section_json(run);
  std::ostringstream text;
  vpt::write_guest_text(text, results);
  vpt::guest_series(results);
  try {
    vpt::results_from_json_text(vpt::results_to_json_text(results), "with the guest section");
  } catch (const vpt::BenchInputError& e) {
    FUZZ_CHECK(false, std::string("the guest section makes the results unreadable: ") + e.what());
  }
  return 0;
}
