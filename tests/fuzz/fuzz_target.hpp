// What every fuzz target (tests/fuzz/*_fuzz.cpp) shares.
//
// A target hands the input to one parser, lets only that parser's documented
// error through, and checks what must hold for whatever it accepted
// (FUZZ_CHECK). Anything else is a finding that libFuzzer saves: another
// exception type (uncaught, so std::terminate), a sanitizer report, a failed
// check, a hang (-timeout), a blow-up in memory (-rss_limit_mb).
//
// Adding a target: write NAME_fuzz.cpp with LLVMFuzzerTestOneInput, then one
// vpt_fuzz_target(NAME ...) line in tests/fuzz/CMakeLists.txt naming its
// libraries and seed files; docs/fuzzing.md says how to run it long.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace vpt::fuzz {

inline std::string_view text_of(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

[[noreturn]] inline void property_failed(const char* file, int line, const char* condition, const std::string& detail) {
  std::fprintf(stderr, "%s:%d: property failed: %s\n  %s\n", file, line, condition, detail.c_str());
  std::abort();
}

// FNV-1a over the input: choices a target makes (the shape of a plan) come
// from the same bytes the parser reads, so every input replays the same way.
inline std::uint32_t input_hash(const std::uint8_t* data, std::size_t size) {
  std::uint32_t h = 2166136261u;
  for (std::size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 16777619u;
  return h;
}

}  // namespace vpt::fuzz

#define FUZZ_CHECK(condition, detail)                                                 \
  do {                                                                                \
    if (!(condition)) ::vpt::fuzz::property_failed(__FILE__, __LINE__, #condition, detail); \
  } while (0)
