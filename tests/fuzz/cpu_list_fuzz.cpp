// CPU list strings: vpt-tune's "0-3,8" (--cpus, --exclude, files) and
// libvirt's cpuset= with "^N" exclusions (domain XML). A list that parses
// prints and parses back to the same set.
#include <stdexcept>

#include "common/cpuset.hpp"
#include "tests/fuzz/fuzz_target.hpp"
#include "virt/domain.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text = vpt::fuzz::text_of(data, size);
  for (auto parse : {&vpt::CpuSet::parse, &vpt::parse_libvirt_cpuset}) {
    vpt::CpuSet set;
    try {
      set = parse(text);
    } catch (const std::invalid_argument&) {
      continue;
    }
    std::string printed = set.to_string();
    FUZZ_CHECK(vpt::CpuSet::parse(printed) == set, "'" + printed + "' does not parse back to the same set");
    FUZZ_CHECK(set.empty() || set.size() == set.to_vector().size(), "size disagrees with the members");
  }
  return 0;
}
