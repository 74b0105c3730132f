#include "cli/restore_command.hpp"

#include <charconv>
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <fmt/ranges.h>

#include "cli/domain_options.hpp"
#include "common/input_file.hpp"
#include "cli/pve_options.hpp"
#include "common/text.hpp"
#include "pve/pve_apply.hpp"
#include "pve/pve_config.hpp"
#include "virt/apply.hpp"
#include "virt/libvirt_connection.hpp"

namespace vpt::cli {

namespace {

struct RestoreOptions {
  DomainOptions domain;
  unsigned vmid = 0;   // --vmid: a Proxmox VM's config backups
  std::string backup_dir;
  std::string backup;  // a backup file, "latest", or "" to list
  bool all = false;    // --all: the last whole-host apply
};

// `restore --all`: every domain (or Proxmox VM) the newest whole-host apply
// changed, from its record (virt/apply.hpp kWholeHostManifest, or
// pve/pve_apply.hpp kPveWholeHostRecord on a Proxmox node). Goes on past a
// failed one and says which failed.
void restore_whole_host(const RestoreOptions& options, const std::string& dir) {
  const std::vector<Backup> libvirt_records = list_backups(dir, kWholeHostManifest, ".tsv");
  const std::vector<Backup> pve_records = list_backups(dir, kPveWholeHostRecord, ".tsv");
  if (libvirt_records.empty() && pve_records.empty())
    throw DomainInputError(fmt::format("cannot restore a whole-host apply: no record of one in '{}' (`suggest --all "
                                       "--apply` or `suggest --all-vmids --apply` writes it)", dir));
  const bool pve = !pve_records.empty() && (libvirt_records.empty() || pve_records.back().time > libvirt_records.back().time);
  const Backup& record = pve ? pve_records.back() : libvirt_records.back();
  std::string text;
  try {
    text = read_input_file_text(record.path);
  } catch (const InputFileError& e) {
    throw DomainInputError(fmt::format("cannot read whole-host record '{}': {}", record.path, e.what()));
  }
  std::unique_ptr<Hypervisor> hypervisor;
  if (!pve) hypervisor = connect_libvirt(connect_uri(options.domain), /*read_write=*/true);
  std::vector<std::string> failed;
  fmt::print(std::cout, "restoring the whole-host apply of {} ({})\n", record.time, record.path);
  for (std::string_view line : split_lines(text)) {
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);  // split_lines keeps them
    const std::size_t tab = line.find('\t');
    if (tab == std::string_view::npos) continue;
    const std::string name(line.substr(0, tab)), backup(line.substr(tab + 1));
    try {
      if (pve) {
        unsigned vmid = 0;
        const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), vmid);
        if (ec != std::errc() || end != name.data() + name.size() || vmid == 0)
          throw PveConfigError(fmt::format("'{}' is not a VMID", printable(name, 20)));
        restore_pve_config(this_pve_node(), vmid, backup, dir);
        fmt::print(std::cout, "VM {}: config written from backup {}\n", vmid, backup);
      } else {
        RestoreResult r = restore_backup(*hypervisor, name, backup, dir);
        fmt::print(std::cout, "domain '{}': defined from backup {}\n", r.domain, backup);
      }
    } catch (const std::exception& e) {
      failed.push_back(e.what());
    }
  }
  if (!failed.empty())
    throw DomainInputError(fmt::format("cannot restore every {} of the whole-host apply: {}", pve ? "VM" : "domain",
                                       fmt::join(failed, "; ")));
}

void run_restore(const RestoreOptions& options) {
  if (options.vmid != 0) {
    run_pve_restore(options.vmid, options.backup, options.backup_dir);
    return;
  }
  const std::string dir = options.backup_dir.empty() ? default_backup_dir() : options.backup_dir;
  if (options.all) {
    restore_whole_host(options, dir);
    return;
  }
  std::string backup = options.backup;
  if (backup.empty() || backup == "latest") {
    std::vector<Backup> backups = list_backups(dir, options.domain.domain);
    if (backup == "latest") {
      if (options.domain.domain.empty())
        throw DomainInputError("cannot restore the latest backup: say of which domain with --domain NAME");
      const Backup* undo = latest_undo(backups);
      if (!undo)
        throw DomainInputError(fmt::format("cannot restore domain '{}': no backup an apply or a fix took in '{}'{}",
                                           options.domain.domain, dir,
                                           backups.empty() ? "" : " (only the ones restores took: name one of them)"));
      backup = undo->path;
    } else {
      if (backups.empty()) {
        fmt::print(std::cout, "no backups{} in {}\n",
                   options.domain.domain.empty() ? "" : fmt::format(" of domain '{}'", options.domain.domain), dir);
        return;
      }
      for (const Backup& b : backups)
        fmt::print(std::cout, "{}  {}  {:<7}  {}\n", b.time, b.domain, to_string(b.made_by), b.path);
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
      "  vpt-tune restore --domain win11 latest              undo win11's last apply or fix\n"
      "  vpt-tune restore /var/lib/vpt-tune/backups/win11.20250301T140211.042Z.xml\n"
      "  vpt-tune restore --all                              undo the last whole-host apply (suggest --all --apply)\n"
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
  restore->add_flag("--all", options->all, "Put back every domain (or Proxmox VM) the last `suggest --all --apply` (or `--all-vmids --apply`) changed")
      ->excludes(restore->get_option("--domain"))
      ->excludes(restore->get_option("--vmid"));
  restore->add_option("backup", options->backup, "Backup file to define again, or 'latest' (the newest an apply or a fix took); none lists them")
      ->option_text("BACKUP");
  restore->callback([options] { run_restore(*options); });
}

}  // namespace vpt::cli
