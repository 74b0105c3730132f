// Applying a plan to a libvirt domain safely: back up, define, read back,
// verify, roll back on any failure; and restoring backups.
#pragma once

#include <sys/types.h>

#include <functional>

#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/backups.hpp"
#include "optimizer/plan.hpp"
#include "virt/domain.hpp"
#include "virt/domain_xml.hpp"
#include "virt/libvirt_connection.hpp"

namespace vpt {

// Applying failed. what() says what failed and what was done about it
// ("...; the previous definition was defined again from BACKUP").
class ApplyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ApplyOptions {
  bool live = false;          // also pin the running guest now
  std::string backup_dir;     // "" = default_backup_dir()
  std::string what = "the plan";  // what is applied, as messages name it ("the fixes")
  BackupMaker made_by = BackupMaker::Apply;  // what the backup of the old definition says took it
};

struct ApplyResult {
  std::string domain;
  bool defined = false;       // a new definition was defined (false: it already had the plan)
  bool live_pinned = false;   // pins of the running guest were changed
  std::string backup;         // path of the backup of the old definition, "" when none was needed
  std::string diff;           // unified diff old -> new definition
  std::vector<std::string> notes;  // what takes effect when, what the patch decided
};

// A change to a definition, computed from the definition itself: apply_patch
// reads it (with its secrets) and calls this once. Throws DomainInputError
// when the change cannot be merged.
using DefinitionPatch = std::function<PatchResult(const std::string& current_xml)>;

// Patches the domain's definition and defines it, as apply_plan below
// describes; what it verifies after defining is owned_differences(). A pin to
// a CPU the host lacks that the patch brings in is refused before anything
// changes (DomainInputError).
ApplyResult apply_patch(Hypervisor& hypervisor, const std::string& domain, const DefinitionPatch& patch,
                        const ApplyOptions& options = {});

// Patches the domain's definition with the plan and defines it:
//  1. reads the definition with its secrets (INACTIVE | SECURE);
//  2. if it already has every element of the plan: nothing is written ("already applied");
//  3. writes it to a new backup file (tmp + fsync + rename) before anything changes;
//  4. defines the patched XML, reads it back and checks every pin, count and
//     the guest topology; on any failure defines the backup again;
//  5. with options.live on a running domain: pins the emulator, iothreads and
//     vCPUs now and checks them with the get calls; if one is refused, puts the
//     previous live pins back and defines the backup again.
// Restart-only changes (vCPU count, topology, iothread count) are noted.
// Throws DomainInputError (unknown domain, plan that cannot be merged),
// LibvirtError (before anything changed), ApplyError (after a rollback).
ApplyResult apply_plan(Hypervisor& hypervisor, const std::string& domain, const GuestPlan& plan,
                       const ApplyOptions& options = {});

// One domain's change in an apply of several (the whole host).
struct DomainChange {
  std::string domain;
  DefinitionPatch patch;
};

// Applies the changes in order, each as apply_patch does. If one fails, every
// domain changed before it is defined again from its backup and, where its
// running guest was re-pinned, gets its previous live pins back; then throws
// ApplyError saying what failed and what was rolled back. On success, writes a
// record of the backups (kWholeHostManifest) that `restore --all` reads.
std::vector<ApplyResult> apply_changes(Hypervisor& hypervisor, const std::vector<DomainChange>& changes,
                                       const ApplyOptions& options = {});

// Prints the diff (or "already applied"), the backup and the notes.
void write_apply_result(std::ostream& out, const ApplyResult& result);

// The backup name of a whole-host apply's record ("whole-host.<time>.tsv" in
// the backup directory): one "DOMAIN<TAB>BACKUP" line per domain it defined,
// which `restore --all` defines again.
inline constexpr const char* kWholeHostManifest = "whole-host";

struct RestoreResult {
  std::string domain;
  std::string backup_of_replaced;  // the definition the restore replaced, itself backed up ("" if none)
  std::string diff;
};

// Defines a backup again (after backing up the definition it replaces), and
// checks the definition reads back with the backup's pins. `domain` may be ""
// (taken from the backup); else the backup must be of that domain.
// Throws DomainInputError for an unreadable or foreign backup, LibvirtError.
RestoreResult restore_backup(Hypervisor& hypervisor, const std::string& domain, const std::string& backup_path,
                             const std::string& backup_dir);

// Differences between two definitions in what vpt-tune changes, in words;
// empty = same. What a plan owns (pins, counts, guest topology, cache,
// topoext, memory placement, guest NUMA cells and their memnodes, which
// iothread serves each disk) must be equal; of what `check --fix` sets
// (Hyper-V and KVM features switched on, timers, CPU migratable, memballoon,
// hugepages, disk cache modes), what `expected` has must be in `actual`.
std::vector<std::string> owned_differences(const Domain& expected, const Domain& actual);

}  // namespace vpt
