// Where a domain comes from (--xml FILE, or --connect URI + --domain NAME) and
// what to do with a plan for it (--out, --apply, --live): the options
// `suggest` shares with other commands, and the functions behind them.
#pragma once

#include <optional>
#include <ostream>
#include <string>

#include <CLI/App.hpp>

#include "optimizer/plan.hpp"
#include "virt/domain.hpp"
#include "virt/libvirt_connection.hpp"

namespace vpt::cli {

struct DomainOptions {
  std::string connect;     // --connect URI; "" = $LIBVIRT_DEFAULT_URI, else qemu:///system
  std::string domain;      // --domain NAME|UUID
  std::string xml_file;    // --xml FILE: the output of `virsh dumpxml` ('-' = standard input)
  bool apply = false;      // --apply: back up, define, verify (needs --domain)
  bool live = false;       // --live: also pin the running guest now (needs --apply)
  std::string out;         // --out FILE: write the patched definition
  bool force = false;      // --force: replace existing output files
  std::string backup_dir;  // --backup-dir DIR; "" = $VPT_TUNE_BACKUP_DIR, else /var/lib/vpt-tune/backups
};

// --connect, --domain, --xml, --apply, --live, --out, --force, --backup-dir.
void add_domain_options(CLI::App& command, DomainOptions& options);

// --connect and --domain only (for commands that act on a defined domain).
void add_connect_options(CLI::App& command, DomainOptions& options);

// The URI --connect means, as virsh reads it.
std::string connect_uri(const DomainOptions& options);

// A URI with a host part (qemu+ssh://server/system) names another machine.
bool is_remote_uri(const std::string& uri);

// True when --xml or --domain names a domain.
bool has_domain(const DomainOptions& options);

// Reads the domain from --xml FILE, or its persistent definition from libvirt:
// over a read-only connection, or with --out/--apply a read-write one that
// also reads its secrets. With `running`, also says whether the domain runs
// now (--domain only); with `versions`, the libvirt and QEMU that run it,
// from the same connection (--domain only). Throws DomainInputError (bad XML,
// unknown domain), LibvirtError (cannot connect, permission denied).
Domain load_domain(const DomainOptions& options, std::optional<bool>* running = nullptr,
                   VirtVersions* versions = nullptr);

// What to do with a guest's plan for that domain: prints the unified diff of
// its definition and the patch's notes, writes --out FILE, and with --apply
// applies it (backup, define, verify, --live pins) and prints the outcome.
// Throws as load_domain, plus ApplyError.
void run_domain_actions(std::ostream& out, const DomainOptions& options, const Domain& domain,
                        const GuestPlan& plan);

}  // namespace vpt::cli
