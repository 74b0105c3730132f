// Files a user names for vpt-tune to write (--out, --out-dir, --report,
// --hookscript-out): an existing file is never replaced without --force.
#pragma once

#include <string>
#include <string_view>

#include <sys/types.h>

namespace vpt::cli {

// Writes `contents` to `path` atomically (common/atomic_file.hpp). Without
// `force`, an existing file (or one that appears meanwhile) is left as it is
// and RequestError says "cannot write <what> '<path>': the file exists (add
// --force to replace it)". Returns whether a file was replaced.
bool write_output_file(const std::string& path, std::string_view contents, std::string_view what, mode_t mode,
                       bool force);

}  // namespace vpt::cli
