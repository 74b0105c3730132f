// Reading a file a user names (a topology, a domain XML, a plan, results):
// bounded, so that a wrong file (a disk image, /dev/zero) is one quick error.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace vpt {

// what() is the reason only ("No such file or directory", "it is a
// directory", "it is larger than 64 MiB ..."): the caller says which input
// ("cannot read topology 'FILE': <reason>") with its own error type.
class InputFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Larger than any real input: the largest hwloc export of the corpus is
// 0.3 MiB (384 CPUs), a thorough bench run of 64 CPUs a few MiB.
inline constexpr std::uint64_t kMaxInputBytes = 64ull << 20;

// The whole file, or standard input for "-"; at most kMaxInputBytes.
std::string read_input_file_text(const std::string& path);

// The whole file as it is (a file vpt-tune wrote, or one of /proc and /sys),
// or nullopt when it cannot be opened or read (errno says why).
std::optional<std::string> read_whole_file(const std::string& path);

}  // namespace vpt
