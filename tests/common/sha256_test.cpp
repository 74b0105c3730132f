// SHA-256 against FIPS 180-4's examples (NIST's "Example Algorithms") and
// against coreutils' sha256sum at the padding boundaries.
#include "common/sha256.hpp"

#include <cstdio>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace vpt {
namespace {

TEST(Sha256, MatchesTheFipsExamples) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

std::string sha256sum_of(const std::string& bytes) {
  const std::string file = testing::TempDir() + "/vpt-sha256-input";
  std::ofstream(file, std::ios::binary) << bytes;
  FILE* pipe = ::popen(("sha256sum '" + file + "'").c_str(), "r");
  char line[256] = {};
  const bool read = pipe && std::fgets(line, sizeof line, pipe);
  if (pipe) ::pclose(pipe);
  std::remove(file.c_str());
  return read ? std::string(line).substr(0, 64) : "";
}

TEST(Sha256, AgreesWithSha256sumAroundEveryPaddingBoundary) {
  for (std::size_t n : {1u, 55u, 56u, 57u, 63u, 64u, 65u, 119u, 120u, 127u, 128u, 129u, 1000u}) {
    std::string bytes;
    for (std::size_t i = 0; i < n; ++i) bytes += static_cast<char>((i * 131 + 7) & 0xff);
    EXPECT_EQ(sha256_hex(bytes), sha256sum_of(bytes)) << n << " bytes";
  }
}

}  // namespace
}  // namespace vpt
