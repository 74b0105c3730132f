// SHA-256 (FIPS 180-4) of a byte string, as 64 lower-case hex digits.
//
// vpt-tune checks that the in-guest probe it copies into a guest (where it
// runs as root) is the one it was built with (bench/probe_hashes.hpp). The
// .deb must depend only on libraries Debian 12 and 13 both ship under one
// name (docs/threat-model.md), and OpenSSL's and Nettle's libraries were
// renamed in Debian 13's time_t transition, so the 60 lines are kept here;
// tests/common/sha256_test.cpp checks them against FIPS 180-4's examples and
// against coreutils' sha256sum.
#pragma once

#include <string>
#include <string_view>

namespace vpt {

std::string sha256_hex(std::string_view bytes);

}  // namespace vpt
