#include "cli/suggest_command.hpp"

#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <nlohmann/json.hpp>

#include "cli/domain_options.hpp"
#include "cli/host_options.hpp"
#include "cli/pve_options.hpp"
#include "cli/request_options.hpp"
#include "cli/whole_host.hpp"
#include "optimizer/optimizer.hpp"
#include "optimizer/plan_writers.hpp"
#include "virt/domain.hpp"
#include "virt/domain_xml.hpp"

namespace vpt::cli {

namespace {

struct SuggestOptions {
  HostOptions host;
  RequestOptions request;
  DomainOptions domain;
  PveOptions pve;
  WholeHostOptions whole_host;
  bool json = false;
};

void run_suggest(const SuggestOptions& options, const CLI::App& command) {
  if (!options.whole_host.report_file.empty() && !wants_whole_host(options.whole_host))
    throw RequestError("--report draws a whole-host plan (--all, several --domain/--xml, --pve-dir, --all-vmids); "
                       "for one VM use `vpt-tune report`");
  if (!wants_whole_host(options.whole_host) &&
      (has_pve_vm(options.pve) || !options.pve.hookscript_out.empty() || options.pve.confine_host ||
       !options.pve.hugepages.empty())) {
    run_pve_suggest(options.pve, options.domain, options.host, options.request, command, options.json);
    return;
  }
  if (wants_whole_host(options.whole_host)) {
    run_whole_host_suggest(options.whole_host, options.domain, options.pve, options.host, options.request, command,
                           options.json);
    return;
  }
  std::optional<Domain> domain;
  if (has_domain(options.domain)) {
    if (options.domain.xml_file.empty() && options.host.topology_xml.empty() && options.host.lscpu_text.empty() &&
        is_remote_uri(connect_uri(options.domain)))
      throw RequestError(fmt::format("cannot plan for a domain on '{}' from this host's topology: give that host's "
                                     "with --topology FILE.xml or --lscpu FILE", connect_uri(options.domain)));
    domain = load_domain(options.domain);
  } else if (options.domain.apply || options.domain.live || !options.domain.out.empty()) {
    throw RequestError("--apply, --live and --out need a VM: give --domain NAME (with --connect URI) or --xml FILE, "
                       "or a Proxmox VM's --vmid ID or --pve-config FILE");
  }
  Topology topo = load_host(options.host);
  Plan plan = make_plan(topo, domain ? make_request(options.request, command, *domain, topo) : make_request(options.request));
  // Without a domain the GPU is only known from --gpu: where its socket or
  // node matters and none was named, ask for it (a domain names its hostdev).
  const bool several_places = topo.packages.size() > 1 || topo.numa_nodes.size() > 1;
  if (!domain && several_places && options.request.gpu.empty())
    plan.advice.insert(plan.advice.begin(),
                       "Passing a GPU through? This host has several sockets or NUMA nodes: give the GPU's PCI address "
                       "(`lspci -D | grep -Ei 'vga|3d'`) with --gpu, or plan the VM that has it with --domain, so the "
                       "guest runs on the GPU's node.");
  if (options.json) {
    std::cout << plan_to_json(plan).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    if (domain) run_domain_actions(std::cerr, options.domain, *domain, plan.guests.front());
    return;
  }
  // libvirt refuses a guest NUMA cell without memory=: no snippet that cannot be defined.
  for (const GuestPlan& guest : plan.guests)
    if (!domain && !guest.numa_cells.empty() && !guest.numa_cells.front().memory_bytes)
      throw RequestError(fmt::format(
          "guest '{}' spans {} NUMA nodes, so its XML gets one <numa> cell per node, and libvirt refuses a cell "
          "without its memory: give --memory SIZE (the guest's memory, such as --memory 64G; it is split over the "
          "cells), or plan its domain with --domain NAME or --xml FILE",
          guest.name, guest.numa_cells.size()));
  fmt::print(std::cout, "Plan for {} ({})\n\n", topo.cpu_model.empty() ? "this host" : topo.cpu_model,
             topo.source_name);
  write_plan_text(std::cout, plan, options.request.explain);
  // With a domain the diff below shows the same elements in place: no snippet to paste.
  for (const GuestPlan& guest : plan.guests) {
    if (domain) break;
    fmt::print(std::cout, "\nlibvirt XML for guest '{}' (paste into `virsh edit`, replacing these elements):\n{}",
               guest.name, plan_snippet_xml(guest));
    if (!guest.iothreads.empty())
      fmt::print(std::cout, "Attach each I/O thread to a virtio disk or virtio-scsi controller with <driver "
                            "iothread='N'/> (--domain or --xml does that, spreading them over the devices).\n");
  }
  if (domain) {
    fmt::print(std::cout, "\n");
    run_domain_actions(std::cout, options.domain, *domain, plan.guests.front());
  }
}

}  // namespace

void setup_suggest(CLI::App& app) {
  auto options = std::make_shared<SuggestOptions>();
  CLI::App* suggest = app.add_subcommand(
      "suggest", "Plan where a guest's vCPUs, emulator and I/O threads run, explain why, print the libvirt XML "
                 "(or patch a Proxmox VE VM's config and write its hookscript)");
  suggest->footer(
      "Examples:\n"
      "  vpt-tune suggest                                      this host, the largest clean guest\n"
      "  vpt-tune suggest --lscpu " VPT_EXAMPLES_DIR "/lscpu/intel-core-i7-14700f.txt --vcpus 16\n"
      "                                                        the passthrough guide's i7-14700F (data/ in the source)\n"
      "  vpt-tune suggest --topology host.xml --guest web:8 --guest db:16\n"
      "  vpt-tune suggest --vcpus 8 --json                     the plan as JSON (schema vpt-tune/plan/1)\n"
      "  vpt-tune suggest --xml win11.xml --out win11-new.xml  patch a `virsh dumpxml` file, show the diff\n"
      "  vpt-tune suggest --domain win11 --apply [--live]      back up, define, verify (and pin the running guest)\n"
      "  vpt-tune suggest --all [--keep router] --apply        every VM of the host planned together, one apply\n"
      "  vpt-tune suggest --xml win11.xml --xml nas.xml --out-dir planned/   several VMs offline\n"
      "  vpt-tune suggest --pve-dir qemu-server/ --out-dir planned/   every VM of a Proxmox node, offline\n"
      "  vpt-tune suggest --pve-config 101.conf --out new.conf --hookscript-out vpt-tune-101.sh\n"
      "                                                        a Proxmox VE VM: patched config and its hookscript\n"
      "  vpt-tune suggest --vmid 101 --apply [--live]          on the Proxmox node: back up, write, install, verify\n"
      "Options may also come from a TOML/INI file given with --config, under a [suggest] section,\n"
      "with the long option names as keys (e.g. weight-share-l3 = 6).");
  add_host_options(*suggest, options->host);
  add_request_options(*suggest, options->request);
  add_domain_options(*suggest, options->domain);
  add_pve_options(*suggest, options->pve);
  // --apply acts on --domain or on --vmid: run_suggest checks which.
  suggest->get_option("--apply")->remove_needs(suggest->get_option("--domain"));
  add_whole_host_options(*suggest, options->whole_host, options->domain);
  suggest->add_flag("--json", options->json, "Print the plan as a JSON document");
  suggest->add_flag("--explain", options->request.explain,
                    "Print the plan's score term by term (the cost model's terms; weights in optimizer/weights.hpp) "
                    "instead of one line");
  suggest->callback([options, suggest] { run_suggest(*options, *suggest); });
}

}  // namespace vpt::cli
