// The findings of `vpt-tune check --json` (schema vpt-tune/check/1), as
// `report --findings FILE` reads them back: JsonDocumentError (not JSON,
// duplicate keys, NaN) or FindingsInputError, nothing else. An accepted
// review writes as text, its JSON reads back the same, and its redacted copy
// (what the report renders) reads too.
#include <sstream>

#include <nlohmann/json.hpp>

#include "check/findings_writers.hpp"
#include "common/json_document.hpp"
#include "report/redact.hpp"
#include "tests/fuzz/fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vpt::CheckReport review;
  try {
    review = vpt::findings_from_json(vpt::parse_json_document(vpt::fuzz::text_of(data, size)), "fuzz");
  } catch (const vpt::JsonDocumentError&) {
    return 0;
  } catch (const vpt::FindingsInputError&) {
    return 0;
  }
  std::ostringstream text;
  vpt::write_findings_text(text, review);
  vpt::findings_count_text(review);
  const nlohmann::json json = vpt::findings_to_json(review);
  try {
    FUZZ_CHECK(vpt::findings_to_json(vpt::findings_from_json(json, "written")) == json,
               "its JSON does not read back the same: " + json.dump());
  } catch (const vpt::FindingsInputError& e) {
    FUZZ_CHECK(false, std::string("its own JSON does not read: ") + e.what());
  }
  vpt::RedactionSecrets secrets;
  secrets.hostnames = {"win10", "host"};
  nlohmann::json redacted = json;
  vpt::redact_json(redacted, secrets, vpt::check_vocabulary());
  try {
    vpt::findings_from_json(redacted, "redacted");
  } catch (const vpt::FindingsInputError& e) {
    FUZZ_CHECK(false, std::string("the redacted review does not read: ") + e.what());
  }
  return 0;
}
