#include "common/input_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>

#include <fmt/format.h>

namespace vpt {

std::string read_input_file_text(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> owned(nullptr, &std::fclose);
  FILE* in = stdin;
  if (path != "-") {
    owned.reset(std::fopen(path.c_str(), "rb"));
    if (!owned) throw InputFileError(std::strerror(errno));
    in = owned.get();
  }
  // Read in blocks and stop past the limit: a pipe or /dev/zero has no size to check first.
  std::string text;
  char block[1 << 16];
  for (;;) {
    std::size_t n = std::fread(block, 1, sizeof block, in);
    text.append(block, n);
    if (text.size() > kMaxInputBytes)
      throw InputFileError(fmt::format("it is larger than {} MiB, more than any input vpt-tune reads (the wrong file?)",
                                       kMaxInputBytes >> 20));
    if (n < sizeof block) break;
  }
  if (std::ferror(in)) throw InputFileError(errno == EISDIR ? "it is a directory" : std::strerror(errno));
  return text;
}

std::optional<std::string> read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return std::nullopt;
  return text;
}

}  // namespace vpt
