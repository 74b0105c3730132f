// A small tmpfs for tests of full disks and read-only directories.
//
// Mounted in a private mount namespace of the test process (unshare), so it
// vanishes with the process however the test ends and nothing else on the
// machine sees it; child processes (the vpt-tune binary) inherit it. Needs
// root (CAP_SYS_ADMIN): available() says why not, for GTEST_SKIP.
#pragma once

#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

namespace vpt::test {

class ScratchTmpfs {
 public:
  // nullopt when a tmpfs can be mounted here, else the reason it cannot.
  static std::optional<std::string> unavailable() {
    static const std::optional<std::string> reason = enter_private_mount_namespace();
    return reason;
  }

  // A fresh directory under the test temp dir with a tmpfs of `bytes` on it.
  explicit ScratchTmpfs(std::size_t bytes) {
    if (auto why = unavailable()) throw std::runtime_error(*why);
    std::string pattern = (std::filesystem::temp_directory_path() / "vpt-tmpfs-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
    path_ = pattern;
    std::string options = "size=" + std::to_string(bytes) + ",mode=0755";
    if (::mount("tmpfs", path_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
      int err = errno;
      ::rmdir(path_.c_str());
      throw std::runtime_error(std::string("mount tmpfs: ") + std::strerror(err));
    }
  }
  ~ScratchTmpfs() {
    ::umount2(path_.c_str(), MNT_DETACH);
    ::rmdir(path_.c_str());
  }
  ScratchTmpfs(const ScratchTmpfs&) = delete;
  ScratchTmpfs& operator=(const ScratchTmpfs&) = delete;

  void remount_read_only() {
    if (::mount(nullptr, path_.c_str(), nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) != 0)
      throw std::runtime_error(std::string("remount read-only: ") + std::strerror(errno));
  }

  // Fills the file system with one file until it is full, so that any further
  // write fails with ENOSPC; returns the filler's path (not removed).
  std::filesystem::path fill() {
    std::filesystem::path filler = path_ / "filler";
    FILE* f = std::fopen(filler.c_str(), "wb");
    if (!f) throw std::runtime_error(std::string("create filler: ") + std::strerror(errno));
    static const char block[4096] = {};
    while (std::fwrite(block, 1, sizeof block, f) == sizeof block) {
    }
    std::fclose(f);
    return filler;
  }

  const std::filesystem::path& path() const { return path_; }

 private:
  static std::optional<std::string> enter_private_mount_namespace() {
    if (::geteuid() != 0) return "needs root to mount a tmpfs";
    if (::unshare(CLONE_NEWNS) != 0) return std::string("unshare(CLONE_NEWNS): ") + std::strerror(errno);
    // Without this, mounts would still propagate to the machine's namespace.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      return std::string("make / private: ") + std::strerror(errno);
    return std::nullopt;
  }

  std::filesystem::path path_;
};

}  // namespace vpt::test
