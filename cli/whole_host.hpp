// `suggest --all` (or several --domain / --xml): one plan for every VM of a
// libvirt host, around what the user already decided (optimizer/host_plan.hpp),
// and one apply for all of them that rolls every domain back if one fails.
#pragma once

#include <string>
#include <vector>

#include <CLI/App.hpp>

#include "cli/domain_options.hpp"
#include "cli/host_options.hpp"
#include "cli/pve_options.hpp"
#include "cli/request_options.hpp"

namespace vpt::cli {

struct WholeHostOptions {
  bool all = false;                    // --all: every domain of the connection
  std::vector<std::string> domains;    // --domain, repeated
  std::vector<std::string> xml_files;  // --xml, repeated
  std::vector<std::string> dedicated;  // --dedicated NAME: cores of its own
  std::vector<std::string> shared;     // --shared NAME: the shared pool
  std::vector<std::string> keep;       // --keep NAME: its pins stay
  std::string out_dir;                 // --out-dir DIR: each patched definition as DIR/NAME.xml
  std::string pve_dir;                 // --pve-dir DIR: Proxmox VE VM configs (a copy of /etc/pve/qemu-server)
  bool all_vmids = false;              // --all-vmids: every VM of this Proxmox VE node
  std::string report_file;             // --report FILE: the whole host drawn (HTML, .md or .bbcode)
};

// --all, --all-vmids, --pve-dir, --dedicated, --shared, --keep, --out-dir; and makes --domain and
// --xml repeatable (the last one also lands in `domain` for one-VM commands).
void add_whole_host_options(CLI::App& command, WholeHostOptions& options, DomainOptions& domain);

// True when the line asks for several VMs at once.
bool wants_whole_host(const WholeHostOptions& options);

// Plans, prints, and with --out-dir / --apply [--live] acts. Throws
// RequestError, DomainInputError, LibvirtError, ApplyError (after the rollback).
void run_whole_host_suggest(const WholeHostOptions& options, const DomainOptions& domain, const PveOptions& pve,
                            const HostOptions& host, const RequestOptions& request, const CLI::App& command,
                            bool json);

}  // namespace vpt::cli
