// Plan JSON, as `suggest --json` saves it and `report --plan` reads it back.
// An accepted plan names only CPUs a CpuSet can hold, writes as text, XML
// and JSON, and its JSON reads back the same.
#include <sstream>

#include <nlohmann/json.hpp>

#include "optimizer/plan_writers.hpp"
#include "tests/fuzz/fuzz_target.hpp"
#include "virt/domain_xml.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  nlohmann::json doc = nlohmann::json::parse(vpt::fuzz::text_of(data, size), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return 0;
  vpt::Plan plan;
  try {
    plan = vpt::plan_from_json(doc, "fuzz");
  } catch (const std::runtime_error&) {
    return 0;
  }
  // What report --plan does with it (cli/report_command.cpp: load_plan).
  vpt::CpuSet named = plan.host;
  for (const vpt::GuestPlan& g : plan.guests) {
    named |= g.vcpu_cpus() | g.emulator;
    for (const vpt::CpuSet& io : g.iothreads) named |= io;
    FUZZ_CHECK(g.topology.vcpus() == g.vcpus.size(), "the guest topology does not cover its vCPUs");
    vpt::plan_snippet_xml(g);
  }
  FUZZ_CHECK(named.empty() || named.last() < (1u << 20), "a CPU beyond CpuSet's range: " + named.to_string());
  std::ostringstream text;
  vpt::write_plan_text(text, plan);
  nlohmann::json again = vpt::plan_to_json(plan);
  FUZZ_CHECK(vpt::plan_to_json(vpt::plan_from_json(again, "fuzz")) == again, "the plan's JSON does not read back the same");
  return 0;
}
