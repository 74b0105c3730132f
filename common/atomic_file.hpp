// One safe way to write a file: readers see the old file or the new one,
// never half of either, whatever happens (a full disk, a crash, a kill, two
// writers at once).
//
// Every module writes its files through write_file_atomically(): reports,
// results, patched definitions, backups, hook scripts.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include <sys/types.h>

namespace vpt {

// A file could not be written. what() is one line:
// "cannot write <what> '<path>': <reason>" (reason from strerror, or "the file exists").
// A failure at run time (exit code 1): the disk, the directory, permissions.
class FileWriteError : public std::runtime_error {
 public:
  FileWriteError(std::string_view what, const std::string& path, int error_number);
  int error_number() const { return error_number_; }  // errno: ENOSPC, EROFS, EEXIST, ...

 private:
  int error_number_;
};

enum class ExistingFile {
  Replace,  // an existing file is replaced (atomically)
  Keep,     // an existing file is left alone and FileWriteError(EEXIST) thrown; checked at the rename
            // itself, so a file that appears in the meantime is not lost either
};

// Writes `contents` to a new temporary file beside `path` (a unique name in the
// same directory, so the rename cannot cross file systems), fsyncs it, renames
// it over `path` and fsyncs the directory, so the new name survives a power
// loss. On any failure the temporary file is removed, `path` is unchanged and
// FileWriteError names `what` ("report", "results", "backup") and `path`.
// `mode` is the new file's permissions as for open(2): the umask applies
// (0600 for files that may hold secrets, 0644 for ordinary ones, 0755 for scripts).
void write_file_atomically(const std::string& path, std::string_view contents, std::string_view what,
                           mode_t mode = 0644, ExistingFile existing = ExistingFile::Replace);

}  // namespace vpt
