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

// What a backup was taken before: `restore latest` means the newest one an
// apply or a fix took, never the one a restore itself took of what it replaced
// (else a second `restore latest` would put the tuned definition back).
enum class BackupMaker {
  Apply,    // suggest --apply, a whole-host apply
  Fix,      // check --fix
  Restore,  // restore, of the definition it replaced
  Unknown,  // a backup named before backups said what took them
};
std::string_view to_string(BackupMaker maker);  // "apply", "fix", "restore", "unknown"

struct Backup {
  std::string path;
  std::string domain;         // the owner: a libvirt domain, or "pve-VMID"
  std::string time;           // "2025-03-01 14:02:11.042 UTC"
  BackupMaker made_by = BackupMaker::Unknown;
};

// Writes `text` to DIR/OWNER.YYYYmmddTHHMMSS.mmmZ.MAKER<extension> atomically
// and checks it reads back. Returns the path. Throws std::runtime_error
// "cannot write backup 'PATH': <reason>".
std::string write_backup(const std::string& dir, const std::string& domain, const std::string& text,
                         BackupMaker made_by, std::string_view extension = ".xml");

// The whole backup file; throws std::runtime_error "cannot read backup 'PATH': <reason>".
std::string read_backup(const std::string& path);

// Backups of one owner ("" = every one), oldest first. A missing directory has none.
std::vector<Backup> list_backups(const std::string& dir, const std::string& domain,
                                 std::string_view extension = ".xml");

// What `restore latest` restores: the newest backup not taken by a restore
// (one named before backups said counts); nullptr when there is none.
const Backup* latest_undo(const std::vector<Backup>& backups);

}  // namespace vpt
