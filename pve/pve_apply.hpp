// Applying a patched config and its hookscript on a Proxmox VE node, safely:
// under qemu-server's lock, backed up first, written atomically, read back,
// rolled back on failure; and restoring the backups.
#pragma once

#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "pve/pve_node.hpp"

namespace vpt {

// Applying or restoring failed after something had changed; what() says
// what failed and what was put back. A runtime failure (exit code 1).
class PveApplyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The name backups of VM `vmid`'s config go under: "pve-VMID" (files
// pve-VMID.<timestamp>.conf in the backup directory, beside libvirt's).
std::string pve_backup_name(unsigned vmid);

struct PveApplyRequest {
  unsigned vmid = 0;
  std::string planned_from;      // the config text the patch was made from
  std::string new_config;        // the patched config
  std::string hookscript;        // the script; "" = install none
  std::string hookscript_volume; // "local:snippets/vpt-tune-100.sh"
  std::string backup_dir;        // "" = default_backup_dir()
};

struct PveApplyResult {
  unsigned vmid = 0;
  bool config_written = false;     // false: it already had the plan
  bool hookscript_written = false; // false: the same script was there
  std::string config_path, hookscript_path;
  std::string backup;              // backup of the previous config, "" when none was written
  std::string diff;
  std::vector<std::string> notes;
  std::optional<std::string> previous_hookscript;  // what hookscript_path held before (nullopt: nothing)
};

// Under the VM's config lock:
//  1. reads the config; it must still be `planned_from` (else nothing is
//     done: "changed since it was planned") and carry no lock: (backup,
//     migrate, snapshot...);
//  2. installs the hookscript into the snippets directory (mode 0755,
//     atomically, read back) when it differs; a file there that vpt-tune did
//     not write is not replaced;
//  3. when the config differs: writes a timestamped backup, writes the new
//     config atomically, reads it back; on any failure puts the old config
//     and the old hookscript back.
// Throws PveConfigError (bad state: changed, locked, foreign file),
// std::runtime_error (nothing changed), PveApplyError (after a rollback).
PveApplyResult apply_pve_config(const PveNode& node, const PveApplyRequest& request);

void write_pve_apply_result(std::ostream& out, const PveApplyResult& result);

// Puts back what apply_pve_config changed for `request` (under the config
// lock): the config it replaced, when the config is still the one it wrote,
// and the previous hookscript (or none). Returns "" when all is back, else
// what could not be put back and how to do it by hand.
std::string undo_pve_apply(const PveNode& node, const PveApplyRequest& request, const PveApplyResult& result);

// The backup name of a whole-host apply's record on a Proxmox node
// ("pve-whole-host.<time>.tsv" in the backup directory): one "VMID<TAB>BACKUP"
// line per VM whose config it wrote, which `restore --all` writes back.
inline constexpr const char* kPveWholeHostRecord = "pve-whole-host";

// Several VMs' requests in order (the whole host), each as apply_pve_config
// applies one. If one fails, every VM changed before it gets its previous
// config and hookscript back (undo_pve_apply), then PveApplyError says what
// failed and what was rolled back. On success, writes the record
// (kPveWholeHostRecord) to `backup_dir` ("" = default_backup_dir()).
std::vector<PveApplyResult> apply_pve_configs(const PveNode& node, const std::vector<PveApplyRequest>& requests,
                                              const std::string& backup_dir);

struct PveRestoreResult {
  unsigned vmid = 0;
  std::string backup_of_replaced;  // the config the restore replaced, itself backed up
  std::string diff;
};

// Writes a backup of VM `vmid`'s config back (after backing up the config it
// replaces), under the config lock, and reads it back. The backup must be a
// config of that VM (pve-VMID.*.conf) that parses. Throws PveConfigError for
// a foreign or unreadable backup, std::runtime_error, PveApplyError.
PveRestoreResult restore_pve_config(const PveNode& node, unsigned vmid, const std::string& backup_path,
                                    const std::string& backup_dir);

}  // namespace vpt
