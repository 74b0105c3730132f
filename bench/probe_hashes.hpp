// The SHA-256 of the in-guest probes this build made (64 lower-case hex
// digits), generated at build time (cmake/probe-hashes.cmake). bench copies a
// probe found in the install or build directory into a guest, where it runs as
// root, only when its bytes have this hash (bench/guest_runner.cpp).
#pragma once

#include <string_view>

namespace vpt {

// "" when this build made no probe of that kind (no MinGW-w64 for Windows).
std::string_view built_probe_sha256(bool windows);

}  // namespace vpt
