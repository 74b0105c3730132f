#include "common/backups.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <stdexcept>
#include <tuple>

#include <fmt/format.h>

#include "common/atomic_file.hpp"
#include "common/input_file.hpp"

namespace vpt {

namespace fs = std::filesystem;

namespace {

// "20250301T140211.042Z" for now, UTC: sorts by name in time order.
std::string timestamp(std::chrono::system_clock::time_point now) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%S", &tm);
  return fmt::format("{}.{:03}Z", buf, ms);
}

bool is_timestamp(std::string_view s) {
  // YYYYmmddTHHMMSS.mmmZ
  if (s.size() != 20 || s[8] != 'T' || s[15] != '.' || s[19] != 'Z') return false;
  for (std::size_t i : {0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 16, 17, 18})
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

std::string readable_time(std::string_view s) {
  return fmt::format("{}-{}-{} {}:{}:{}.{} UTC", s.substr(0, 4), s.substr(4, 2), s.substr(6, 2), s.substr(9, 2),
                     s.substr(11, 2), s.substr(13, 2), s.substr(16, 3));
}

constexpr BackupMaker kMakers[] = {BackupMaker::Apply, BackupMaker::Fix, BackupMaker::Restore};

}  // namespace

std::string_view to_string(BackupMaker maker) {
  switch (maker) {
    case BackupMaker::Apply: return "apply";
    case BackupMaker::Fix: return "fix";
    case BackupMaker::Restore: return "restore";
    case BackupMaker::Unknown: return "unknown";
  }
  return "unknown";
}

std::string read_backup(const std::string& path) {
  auto text = read_whole_file(path);
  if (!text) throw std::runtime_error(fmt::format("cannot read backup '{}': {}", path, std::strerror(errno)));
  return *text;
}

std::string default_backup_dir() {
  const char* env = std::getenv("VPT_TUNE_BACKUP_DIR");
  return env && *env ? env : "/var/lib/vpt-tune/backups";
}

std::string write_backup(const std::string& dir, const std::string& domain, const std::string& xml,
                         BackupMaker made_by, std::string_view extension) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error(fmt::format("cannot create backup directory '{}': {}", dir, ec.message()));
  // Named by the time; two backups within one millisecond get the next free
  // millisecond. The name is claimed by the rename itself (ExistingFile::Keep),
  // so two vpt-tune runs never overwrite each other's backup.
  for (auto now = std::chrono::system_clock::now();; now += std::chrono::milliseconds(1)) {
    // Unknown is what a name without a maker reads as: it is written so too.
    const std::string label = made_by == BackupMaker::Unknown ? "" : fmt::format(".{}", to_string(made_by));
    std::string path = (fs::path(dir) / fmt::format("{}.{}{}{}", domain, timestamp(now), label, extension)).string();
    try {
      write_file_atomically(path, xml, "backup", 0600, ExistingFile::Keep);
    } catch (const FileWriteError& e) {
      if (e.error_number() == EEXIST) continue;
      throw;
    }
    if (read_backup(path) != xml)
      throw std::runtime_error(fmt::format("cannot write backup '{}': it reads back different", path));
    return path;
  }
}

std::vector<Backup> list_backups(const std::string& dir, const std::string& domain, std::string_view extension) {
  std::vector<Backup> backups;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || !name.ends_with(extension) || name.size() < extension.size() + 22) continue;
    std::string_view stem = std::string_view(name).substr(0, name.size() - extension.size());
    BackupMaker made_by = BackupMaker::Unknown;
    for (BackupMaker maker : kMakers) {
      const std::string label = fmt::format(".{}", to_string(maker));
      if (stem.ends_with(label) && stem.size() >= label.size() + 22) {
        stem.remove_suffix(label.size());
        made_by = maker;
        break;
      }
    }
    std::string_view stamp = stem.substr(stem.size() - 20);
    if (!is_timestamp(stamp) || stem[stem.size() - 21] != '.') continue;
    std::string owner(stem.substr(0, stem.size() - 21));
    if (!domain.empty() && owner != domain) continue;
    backups.push_back({entry.path().string(), owner, readable_time(stamp), made_by});
  }
  std::sort(backups.begin(), backups.end(), [](const Backup& a, const Backup& b) {
    return std::tie(a.time, a.path) < std::tie(b.time, b.path);
  });
  return backups;
}

const Backup* latest_undo(const std::vector<Backup>& backups) {
  for (auto it = backups.rbegin(); it != backups.rend(); ++it)
    if (it->made_by != BackupMaker::Restore) return &*it;
  return nullptr;
}

}  // namespace vpt
