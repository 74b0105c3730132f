#include "cli/restore_command.hpp"

#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "cli/domain_options.hpp"
#include "cli/pve_options.hpp"
#include "virt/apply.hpp"
#include "virt/libvirt_connection.hpp"

namespace vpt::cli {

namespace {

struct RestoreOptions {
  DomainOptions domain;
  unsigned vmid = 0;   // --vmid: a Proxmox VM's config backups
  std::string backup_dir;
  std::string backup;  // a backup file, "latest", or "" to list
};

void run_restore(const RestoreOptions& options) {
  if (options.vmid != 0) {
    run_pve_restore(options.vmid, options.backup, options.backup_dir);
    return;
  }
  const std::string dir = options.backup_dir.empty() ? default_backup_dir() : options.backup_dir;
  std::string backup = options.backup;
  if (backup.empty() || backup == "latest") {
    std::vector<Backup> backups = list_backups(dir, options.domain.domain);
    if (backup == "latest") {
      if (options.domain.domain.empty())
        throw DomainInputError("cannot restore the latest backup: say of which domain with --domain NAME");
      if (backups.empty())
        throw DomainInputError(fmt::format("cannot restore domain '{}': no backups in '{}'", options.domain.domain, dir));
      backup = backups.back().path;
    } else {
      if (backups.empty()) {
        fmt::print(std::cout, "no backups{} in {}\n",
                   options.domain.domain.empty() ? "" : fmt::format(" of domain '{}'", options.domain.domain), dir);
        return;
      }
      for (const Backup& b : backups) fmt::print(std::cout, "{}  {}  {}\n", b.time, b.domain, b.path);
      return;
    }
  }
  auto hypervisor = connect_libvirt(connect_uri(options.domain), /*read_write=*/true);
  RestoreResult r = restore_backup(*hypervisor, options.domain.domain, backup, dir);
  std::cout << r.diff;
  fmt::print(std::cout, "domain '{}': defined from backup {}\n", r.domain, backup);
  if (!r.backup_of_replaced.empty())
    fmt::print(std::cout, "the definition it replaced is backed up in {}\n", r.backup_of_replaced);
  if (hypervisor->is_running(r.domain))
    fmt::print(std::cout, "note: domain '{}' is running: the restored definition takes effect at its next start\n",
               r.domain);
}

}  // namespace

void setup_restore(CLI::App& app) {
  auto options = std::make_shared<RestoreOptions>();
  CLI::App* restore = app.add_subcommand(
      "restore", "List the domain definitions (or Proxmox configs) `suggest --apply` backed up, or put one back");
  restore->footer(
      "Examples:\n"
      "  vpt-tune restore                                    list every backup\n"
      "  vpt-tune restore --domain win11                     list the backups of win11, oldest first\n"
      "  vpt-tune restore --domain win11 latest              define win11's newest backup again\n"
      "  vpt-tune restore /var/lib/vpt-tune/backups/win11.20250301T140211.042Z.xml\n"
      "  vpt-tune restore --vmid 101 [latest]                Proxmox VE: list or restore VM 101's config backups\n"
      "Restoring backs up the definition it replaces first, so a restore can be undone the same way.");
  add_connect_options(*restore, options->domain);
  restore->add_option("--vmid", options->vmid, "A Proxmox VE VM: its config backups instead of a libvirt domain's")
      ->option_text("ID")
      ->check(CLI::Range(1u, 999999999u))
      ->excludes(restore->get_option("--domain"))
      ->excludes(restore->get_option("--connect"));
  restore->add_option("--backup-dir", options->backup_dir,
                      "Where the backups are (default: $VPT_TUNE_BACKUP_DIR, else /var/lib/vpt-tune/backups)")
      ->option_text("DIR");
  restore->add_option("backup", options->backup, "Backup file to define again, or 'latest'; none lists them")
      ->option_text("BACKUP");
  restore->callback([options] { run_restore(*options); });
}

}  // namespace vpt::cli
