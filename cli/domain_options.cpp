#include "cli/domain_options.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "cli/output_file.hpp"
#include "common/text.hpp"
#include "common/unified_diff.hpp"
#include "virt/apply.hpp"
#include "virt/domain_xml.hpp"
#include "virt/libvirt_connection.hpp"

namespace vpt::cli {

void add_connect_options(CLI::App& command, DomainOptions& options) {
  command.add_option("-c,--connect", options.connect,
                     "libvirt URI, as for virsh (default: $LIBVIRT_DEFAULT_URI, else qemu:///system)")
      ->option_text("URI");
  command.add_option("-d,--domain", options.domain, "The libvirt domain, by name or UUID")->option_text("NAME");
}

void add_domain_options(CLI::App& command, DomainOptions& options) {
  add_connect_options(command, options);
  auto* domain = command.get_option("--domain");
  auto* xml = command.add_option("--xml", options.xml_file,
                                 "Read the domain from a file (`virsh dumpxml NAME > FILE`; '-' reads standard input)")
                  ->option_text("FILE");
  xml->excludes(domain);
  command.add_option("--out", options.out,
                     "Write the domain definition (or Proxmox config) with the plan merged in to FILE")
      ->option_text("FILE");
  command.add_flag("--force", options.force, "Replace existing output files (--out and the other files it writes)");
  auto* apply = command.add_flag("--apply", options.apply,
                                 "Define the patched domain (or write the Proxmox config): backup first, verify "
                                 "after, roll back on failure");
  apply->needs(domain);
  command.add_flag("--live", options.live, "With --apply: also pin the running guest now")->needs(apply);
  command.add_option("--backup-dir", options.backup_dir,
                     "Where --apply keeps backups (default: $VPT_TUNE_BACKUP_DIR, else /var/lib/vpt-tune/backups)")
      ->option_text("DIR");
}

std::string connect_uri(const DomainOptions& options) {
  return options.connect.empty() ? default_connect_uri() : options.connect;
}

bool is_remote_uri(const std::string& uri) {
  auto scheme = uri.find("://");
  return scheme != std::string::npos && scheme + 3 < uri.size() && uri[scheme + 3] != '/';
}

bool has_domain(const DomainOptions& options) { return !options.xml_file.empty() || !options.domain.empty(); }

Domain load_domain(const DomainOptions& options, std::optional<bool>* running, VirtVersions* versions) {
  if (!options.xml_file.empty()) return require_qemu_guest(load_domain_xml_file(options.xml_file), options.xml_file);
  // A definition that will be written back (--out, --apply) needs its secrets
  // (VNC passwords...), which only a read-write connection can read.
  const bool secure = options.apply || !options.out.empty();
  auto hypervisor = connect_libvirt(connect_uri(options), /*read_write=*/secure);
  std::string name = hypervisor->find_domain(options.domain);
  Domain domain = require_qemu_guest(parse_domain_xml(hypervisor->definition_xml(name, secure), name), name);
  if (running) *running = hypervisor->is_running(name);
  if (versions) *versions = hypervisor->versions();
  return domain;
}

namespace {

// What to run after a plan was shown but not applied.
void write_next_step(std::ostream& out, const DomainOptions& options, const Domain& domain) {
  const std::string name = printable(domain.name, 80);
  if (!options.domain.empty())
    fmt::print(out,
               "next: add --apply to define it (a backup is kept; `vpt-tune restore --domain {} latest` undoes it); "
               "add --live as well to re-pin the running guest now\n",
               name);
  else if (options.out.empty())
    fmt::print(out, "next: add --out FILE to write the patched definition, then `virsh define FILE` (or, on the host, "
                    "`vpt-tune suggest --domain {} --apply`, which keeps a backup)\n",
               name);
  else
    fmt::print(out, "next: `virsh define {}` (or, on the host, `vpt-tune suggest --domain {} --apply`, which keeps a "
                    "backup)\n",
               options.out, name);
}

}  // namespace

void run_domain_actions(std::ostream& out, const DomainOptions& options, const Domain& domain,
                        const GuestPlan& plan) {
  PatchResult patch = patch_domain(domain.xml, plan);
  if (!options.out.empty()) {
    // 0600: a definition read for writing back carries its secrets (VNC passwords).
    write_output_file(options.out, patch.xml, "patched definition", 0600, options.force);
    fmt::print(out, "wrote the patched definition of domain '{}' to {}\n", domain.name, options.out);
  }
  if (!options.apply) {
    std::string diff = unified_diff(domain.xml, patch.xml, domain.name + " (current definition)",
                                    domain.name + " (with the plan)");
    if (diff.empty()) fmt::print(out, "domain '{}' already has this plan\n", domain.name);
    out << diff;
    for (const std::string& note : patch.notes) out << "note: " << note << '\n';
    if (!diff.empty()) write_next_step(out, options, domain);
    return;
  }
  auto hypervisor = connect_libvirt(connect_uri(options), /*read_write=*/true);
  ApplyOptions apply;
  apply.live = options.live;
  apply.backup_dir = options.backup_dir;
  write_apply_result(out, apply_plan(*hypervisor, options.domain, plan, apply));
}

}  // namespace vpt::cli
