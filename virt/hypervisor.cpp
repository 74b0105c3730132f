// The libvirt-free part of virt/libvirt_connection.hpp: version numbers and
// the default connection URI. The connection itself (libvirt_connection.cpp)
// is a library of its own, so that only what talks to libvirt links it.
#include "virt/libvirt_connection.hpp"

#include <charconv>
#include <cstdlib>

#include <fmt/format.h>

namespace vpt {

std::optional<unsigned long> parse_virt_version(std::string_view text) {
  unsigned long parts[3] = {0, 0, 0};
  int count = 0;
  while (count < 3) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parts[count]);
    if (ec != std::errc() || end == text.data() || parts[count] > 999) return std::nullopt;
    ++count;
    text.remove_prefix(static_cast<std::size_t>(end - text.data()));
    if (text.empty()) break;
    if (text.front() != '.') return std::nullopt;
    text.remove_prefix(1);
  }
  if (!text.empty() || count < 2) return std::nullopt;
  return parts[0] * 1000000 + parts[1] * 1000 + parts[2];
}

std::string virt_version_text(unsigned long version) {
  return fmt::format("{}.{}.{}", version / 1000000, version / 1000 % 1000, version % 1000);
}

std::string default_connect_uri() {
  const char* env = std::getenv("LIBVIRT_DEFAULT_URI");
  return env && *env ? env : "qemu:///system";
}

}  // namespace vpt
