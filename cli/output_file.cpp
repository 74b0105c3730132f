#include "cli/output_file.hpp"

#include <cerrno>
#include <filesystem>

#include <fmt/format.h>

#include "common/atomic_file.hpp"
#include "optimizer/optimizer.hpp"

namespace vpt::cli {

namespace {

RequestError file_exists(std::string_view what, const std::string& path) {
  return RequestError(fmt::format("cannot write {} '{}': the file exists (use --force to replace it)", what, path));
}

}  // namespace

bool write_output_file(const std::string& path, std::string_view contents, std::string_view what, mode_t mode,
                       bool force) {
  std::error_code ec;
  const bool exists = std::filesystem::exists(path, ec);
  if (exists && !force) throw file_exists(what, path);
  try {
    write_file_atomically(path, contents, what, mode, force ? ExistingFile::Replace : ExistingFile::Keep);
  } catch (const FileWriteError& e) {
    if (e.error_number() == EEXIST && !force) throw file_exists(what, path);
    throw;
  }
  return exists;
}

}  // namespace vpt::cli
