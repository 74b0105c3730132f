// Domain XML as `virsh dumpxml` prints it, or as years-old setups have it
// (suggest --xml, report --xml): DomainInputError or a Domain; an accepted
// definition gives the optimizer its defaults, and its redacted copy (what
// `report` reads) parses too.
#include "report/redact.hpp"
#include "tests/fuzz/fuzz_target.hpp"
#include "virt/domain.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view xml = vpt::fuzz::text_of(data, size);
  vpt::Domain domain;
  try {
    domain = vpt::parse_domain_xml(xml, "fuzz");
  } catch (const vpt::DomainInputError&) {
    return 0;
  }
  vpt::request_defaults_from(domain);
  vpt::RedactionSecrets secrets;
  secrets.hostnames = {"win11", "host"};
  std::string redacted = vpt::redact_xml(xml, secrets, vpt::domain_xml_vocabulary());
  try {
    vpt::parse_domain_xml(redacted, "redacted");
  } catch (const vpt::DomainInputError& e) {
    FUZZ_CHECK(false, std::string("the redacted definition does not parse: ") + e.what() + "\n" + redacted);
  }
  return 0;
}
