#include "common/atomic_file.hpp"

#include <fcntl.h>
#include <stdio.h>  // renameat2, RENAME_NOREPLACE (glibc >= 2.28)
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

namespace vpt {

namespace {

std::string reason(int error_number) {
  return error_number == EEXIST ? "the file exists" : std::strerror(error_number);
}

// The process's umask without changing it (umask(2) can only set it, which
// would race with other threads creating files): /proc/self/status says it.
mode_t current_umask() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.starts_with("Umask:")) return static_cast<mode_t>(std::strtoul(line.c_str() + 6, nullptr, 8));
  return 022;  // kernels before 4.7 do not say; the usual value
}

// Closes and removes the temporary file unless released: every early return
// and exception leaves nothing behind.
class TempFile {
 public:
  TempFile(const std::string& dir, const std::string& base) {
    // Hidden, named after the target so that a file left by a kill -9 says
    // whose it was; NAME_MAX is 255, so a long name is shortened.
    path_ = fmt::format("{}/.{}.XXXXXX", dir, base.substr(0, 200));
    fd_ = ::mkostemp(path_.data(), O_CLOEXEC);
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!released_) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  int close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }
  void release() { released_ = true; }

 private:
  std::string path_;
  int fd_ = -1;
  bool released_ = false;
};

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// rename(2) that fails with EEXIST instead of replacing. File systems without
// RENAME_NOREPLACE get link(2) + unlink(2), which is just as exclusive.
int rename_no_replace(const char* from, const char* to) {
  if (::renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return -1;
  if (::link(from, to) != 0) return -1;
  ::unlink(from);
  return 0;
}

}  // namespace

FileWriteError::FileWriteError(std::string_view what, const std::string& path, int error_number)
    : std::runtime_error(fmt::format("cannot write {} '{}': {}", what, path, reason(error_number))),
      error_number_(error_number) {}

void write_file_atomically(const std::string& path, std::string_view contents, std::string_view what, mode_t mode,
                           ExistingFile existing) {
  const std::filesystem::path target(path);
  const std::string base = target.filename().string();
  if (base.empty() || base == "." || base == "..") throw FileWriteError(what, path, EISDIR);
  const std::string dir = target.has_parent_path() ? target.parent_path().string() : ".";

  TempFile temp(dir, base);
  if (temp.fd() < 0) throw FileWriteError(what, path, errno);
  auto fail = [&](int error_number) { throw FileWriteError(what, path, error_number); };
  // mkostemp creates 0600; the caller's mode applies from here, as open(2) would.
  if (::fchmod(temp.fd(), mode & ~current_umask()) != 0) fail(errno);
  if (!write_all(temp.fd(), contents)) fail(errno);
  if (::fsync(temp.fd()) != 0) fail(errno);
  if (temp.close() != 0) fail(errno);

  int rc = existing == ExistingFile::Replace ? ::rename(temp.path().c_str(), path.c_str())
                                             : rename_no_replace(temp.path().c_str(), path.c_str());
  if (rc != 0) fail(errno);
  temp.release();

  // The rename is durable only once the directory is on disk too. Some file
  // systems cannot fsync a directory (EINVAL): nothing more can be done there.
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) fail(errno);
  int synced = ::fsync(dir_fd);
  int sync_error = errno;
  ::close(dir_fd);
  if (synced != 0 && sync_error != EINVAL) fail(sync_error);
}

}  // namespace vpt
