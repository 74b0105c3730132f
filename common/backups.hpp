// Backups of the definitions and configs vpt-tune replaces: one file each,
// named by its owner and the time, written atomically (mode 0600: they hold
// secrets) and read back before anything changes. libvirt domains and
// Proxmox VM configs ("pve-VMID", extension ".conf") are backed up alike.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vpt {

// $VPT_TUNE_BACKUP_DIR, else /var/lib/vpt-tune/backups.
std::string default_backup_dir();

struct Backup {
  std::string path;
  std::string domain;         // the owner: a libvirt domain, or "pve-VMID"
  std::string time;           // "2025-03-01 14:02:11.042 UTC"
};

// Writes `text` to DIR/OWNER.YYYYmmddTHHMMSS.mmmZ<extension> atomically and
// checks it reads back. Returns the path. Throws std::runtime_error "cannot
// write backup 'PATH': <reason>".
std::string write_backup(const std::string& dir, const std::string& domain, const std::string& text,
                         std::string_view extension = ".xml");

// The whole backup file; throws std::runtime_error "cannot read backup 'PATH': <reason>".
std::string read_backup(const std::string& path);

// Backups of one owner ("" = every one), oldest first. A missing directory has none.
std::vector<Backup> list_backups(const std::string& dir, const std::string& domain,
                                 std::string_view extension = ".xml");

}  // namespace vpt
