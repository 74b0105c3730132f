// Patching a domain definition with a plan (suggest --xml/--domain --out/--apply).
// The plan's shape comes from a hash of the input. Properties:
//  - patching throws nothing but DomainInputError;
//  - the patched definition parses again and holds the plan's vCPU pins;
//  - patching it again with the same plan changes nothing;
//  - every top-level element and comment the plan does not own is unchanged, in order
//    (in <devices> the plan owns the iothread attribute of disk and controller
//    drivers: patch_domain attaches its I/O threads to the virtio ones, adding
//    <driver name='qemu'/> to a disk that has none; and any <driver> naming an
//    iothread the patched domain no longer has loses that name).
#include <algorithm>
#include <charconv>
#include <set>
#include <sstream>

#include <pugixml.hpp>

#include "tests/fuzz/fuzz_target.hpp"
#include "virt/domain.hpp"
#include "virt/domain_xml.hpp"

namespace {

using vpt::fuzz::input_hash;

vpt::GuestPlan plan_from_hash(std::uint32_t h) {
  vpt::GuestPlan plan;
  plan.name = "fuzz";
  unsigned threads = 1 + (h & 1);
  unsigned cores = 1 + ((h >> 1) & 7);
  plan.topology = {1, 1, cores, threads};
  for (unsigned v = 0; v < cores * threads; ++v) plan.vcpus.push_back(v);
  plan.emulator = vpt::CpuSet{cores * threads};
  for (unsigned i = 0; i < ((h >> 4) & 3); ++i) plan.iothreads.push_back(vpt::CpuSet{cores * threads + 1 + i});
  if (h & (1u << 6)) plan.memory_nodes = vpt::CpuSet{0};
  plan.cache_passthrough = (h & (1u << 7)) != 0;
  plan.require_topoext = (h & (1u << 8)) != 0;
  return plan;
}

const std::set<std::string> kOwned = {"vcpu", "vcpus", "iothreads", "iothreadids", "cputune", "cpu", "numatune"};

// The top-level elements and comments of <domain> the plan does not own, as
// text. `kept_ids`: the iothread ids of the patched domain.
std::vector<std::string> unowned(std::string_view xml, const std::vector<unsigned>& kept_ids) {
  pugi::xml_document doc;
  doc.load_buffer(xml.data(), xml.size(), pugi::parse_default | pugi::parse_comments);
  std::vector<std::string> out;
  for (pugi::xml_node child : doc.document_element().children()) {
    if (child.type() == pugi::node_element && kOwned.count(child.name())) continue;
    if (child.type() != pugi::node_element && child.type() != pugi::node_comment) continue;
    if (std::string_view(child.name()) == "devices") {
      // A name of an iothread the domain no longer has, on any driver (a
      // second <driver> of a disk, which libvirt ignores, too).
      for (pugi::xpath_node hit : child.select_nodes(".//driver[@iothread]")) {
        // Read as the patch reads it (std::from_chars: "5x" is 5, garbage 0).
        std::string_view text = hit.node().attribute("iothread").value();
        unsigned id = 0;
        std::from_chars(text.data(), text.data() + text.size(), id);
        if (std::find(kept_ids.begin(), kept_ids.end(), id) == kept_ids.end())
          hit.node().remove_attribute("iothread");
      }
    }
    if (std::string_view(child.name()) == "devices")
      for (const char* kind : {"disk", "controller"})
        for (pugi::xml_node device : child.children(kind)) {
          pugi::xml_node driver = device.child("driver");
          driver.remove_attribute("iothread");
          // What is left of a driver element patch_domain added: nothing, or name='qemu'.
          const bool bare = !driver.first_child() && (!driver.first_attribute() ||
                                                      (std::string_view(driver.first_attribute().name()) == "name" &&
                                                       std::string_view(driver.first_attribute().value()) == "qemu" &&
                                                       !driver.first_attribute().next_attribute()));
          if (driver && bare) device.remove_child(driver);
        }
    std::ostringstream text;
    child.print(text, "", pugi::format_raw);
    out.push_back(text.str());
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view xml = vpt::fuzz::text_of(data, size);
  try {
    vpt::parse_domain_xml(xml, "fuzz");
  } catch (const vpt::DomainInputError&) {
    return 0;
  }
  const vpt::GuestPlan plan = plan_from_hash(input_hash(data, size));
  vpt::PatchResult patched;
  try {
    patched = vpt::patch_domain(xml, plan);
  } catch (const vpt::DomainInputError&) {
    return 0;
  }
  vpt::Domain after;
  try {
    after = vpt::parse_domain_xml(patched.xml, "patched");
  } catch (const vpt::DomainInputError& e) {
    FUZZ_CHECK(false, std::string("the patched definition does not parse: ") + e.what() + "\n" + patched.xml);
  }
  FUZZ_CHECK(after.max_vcpus == plan.vcpus.size(), patched.xml);
  for (unsigned v = 0; v < plan.vcpus.size(); ++v)
    FUZZ_CHECK(after.vcpupins.count(v) && after.vcpupins.at(v) == vpt::CpuSet{plan.vcpus[v]}, patched.xml);
  FUZZ_CHECK(after.emulatorpin == plan.emulator, patched.xml);
  FUZZ_CHECK(vpt::patch_domain_xml(patched.xml, plan) == patched.xml, "patching twice changed it:\n" + patched.xml);
  FUZZ_CHECK(unowned(xml, after.iothread_ids) == unowned(patched.xml, after.iothread_ids), "an element the plan does not own changed:\n" + patched.xml);
  return 0;
}
