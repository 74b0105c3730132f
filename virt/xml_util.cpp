#include "virt/xml_util.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>

#include <fmt/format.h>

#include "common/text.hpp"
#include "virt/domain.hpp"

namespace vpt::detail {

void load_domain_document(pugi::xml_document& doc, std::string_view xml, const std::string& source, bool raw) {
  // parse_fragment keeps whitespace and comments around the root element.
  unsigned flags = pugi::parse_cdata | pugi::parse_comments | pugi::parse_pi | pugi::parse_declaration |
                   pugi::parse_doctype | pugi::parse_fragment;
  flags |= raw ? pugi::parse_ws_pcdata : (pugi::parse_escapes | pugi::parse_eol);
  pugi::xml_parse_result result = doc.load_buffer(xml.data(), xml.size(), flags, pugi::encoding_utf8);
  auto fail = [&](const std::string& reason) {
    throw DomainInputError(fmt::format("cannot read domain '{}': {}", source, reason));
  };
  if (!result) {
    auto offset = static_cast<std::size_t>(std::clamp<std::ptrdiff_t>(result.offset, 0, xml.size()));
    std::string_view before = xml.substr(0, offset);
    auto line = 1 + std::count(before.begin(), before.end(), '\n');
    auto last_nl = before.rfind('\n');
    auto column = offset - (last_nl == std::string_view::npos ? 0 : last_nl + 1) + 1;
    fail(fmt::format("not well-formed XML at line {}, column {}: {}", line, column, result.description()));
  }
  unsigned elements = 0;
  for (pugi::xml_node node : doc.children()) {
    if (node.type() == pugi::node_element) ++elements;
    if (node.type() == pugi::node_pcdata &&
        std::string_view(node.value()).find_first_not_of(" \t\r\n") != std::string_view::npos)
      fail("text outside the root element");
  }
  if (elements == 0) fail("no XML element in the input (empty file?)");
  for (pugi::xml_node node : doc.children())
    if (node.type() == pugi::node_doctype && std::string_view(node.value()).find("<!ENTITY") != std::string_view::npos)
      fail("it declares entities in a <!DOCTYPE>, which `virsh dumpxml` never writes and vpt-tune does not expand");
  // `virsh dumpxml` nests about eight deep; the patch walks the tree recursively.
  constexpr int kMaxDepth = 256;
  struct DepthCheck : pugi::xml_tree_walker {
    bool for_each(pugi::xml_node&) override { return depth() <= kMaxDepth; }
  } depth_check;
  if (!doc.traverse(depth_check)) fail(fmt::format("elements are nested more than {} deep", kMaxDepth));
  if (elements > 1) fail("more than one root element");
  if (std::string_view(doc.document_element().name()) != "domain")
    fail(fmt::format("the root element is <{}>, not <domain> (expected the output of `virsh dumpxml`)",
                     doc.document_element().name()));
}

std::string trimmed_text(pugi::xml_node node) {
  std::string_view text = node.child_value();
  auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

std::optional<std::uint64_t> memory_bytes(pugi::xml_node node, const char* value_attr) {
  std::string_view text = value_attr ? node.attribute(value_attr).value() : node.child_value();
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  auto factor = memory_unit_bytes(node.attribute("unit").value());
  if (!factor || value > (std::uint64_t{1} << 54) / *factor) return std::nullopt;  // 16 PiB: beyond any host
  return value * *factor;
}

// libvirt's virScaleInteger (src/util/virutil.c): no unit is KiB for memory;
// b/byte/bytes; else a letter k m g t p e, alone or with "iB" (powers of 1024)
// or with "B" (powers of 1000), all case-insensitive: "mib", "K", "gb" are valid.
std::optional<std::uint64_t> memory_unit_bytes(std::string_view unit) {
  const std::string u = lowercase(unit);
  if (u.empty()) return 1024;
  if (u == "b" || u == "byte" || u == "bytes") return 1;
  std::uint64_t base = 0;
  if (u.size() == 1 || u.substr(1) == "ib") base = 1024;
  else if (u.substr(1) == "b") base = 1000;
  else return std::nullopt;
  static constexpr std::string_view kPowers = "kmgtpe";
  const auto power = kPowers.find(u[0]);
  if (power == std::string_view::npos) return std::nullopt;
  std::uint64_t factor = 1;
  for (std::size_t i = 0; i <= power; ++i) factor *= base;
  return factor;
}

namespace {

bool is_virtio_scsi(pugi::xml_node controller) {
  std::string_view model = controller.attribute("model").value();
  return std::string_view(controller.attribute("type").value()) == "scsi" &&
         (model == "virtio-scsi" || model == "virtio-transitional" || model == "virtio-non-transitional");
}

}  // namespace

StorageDevices storage_devices(pugi::xml_node devices) {
  StorageDevices found;
  std::vector<std::string> virtio_scsi;  // controller indices
  for (pugi::xml_node controller : devices.children("controller"))
    if (is_virtio_scsi(controller)) {
      virtio_scsi.push_back(controller.attribute("index").as_string("0"));
      found.servable.push_back(controller);
    }
  for (pugi::xml_node disk : devices.children("disk")) {
    std::string_view device = disk.attribute("device").as_string("disk");
    pugi::xml_node target = disk.child("target");
    std::string_view bus = target.attribute("bus").value();
    if (bus == "virtio" && std::string_view(disk.attribute("type").value()) != "vhostuser") {
      found.servable.push_back(disk);
      continue;
    }
    if (bus == "scsi") {
      std::string controller = disk.child("address").attribute("controller").as_string("0");
      if (std::find(virtio_scsi.begin(), virtio_scsi.end(), controller) != virtio_scsi.end()) continue;
    }
    const bool vhost_user = std::string_view(disk.attribute("type").value()) == "vhostuser";
    if (device == "disk" || device == "lun")
      found.unservable.push_back(fmt::format("disk {} ({})", target.attribute("dev").value(),
                                             vhost_user ? "vhost-user" : bus.empty() ? "?" : bus));
  }
  // Document order, as a reader of the XML sees them.
  std::vector<pugi::xml_node> ordered;
  for (pugi::xml_node child : devices.children())
    if (std::find(found.servable.begin(), found.servable.end(), child) != found.servable.end()) ordered.push_back(child);
  found.servable = std::move(ordered);
  return found;
}

std::string device_label(pugi::xml_node device) {
  if (std::string_view(device.name()) == "controller")
    return fmt::format("virtio-scsi controller {}", device.attribute("index").as_string("0"));
  return fmt::format("disk {}", device.child("target").attribute("dev").value());
}

}  // namespace vpt::detail
