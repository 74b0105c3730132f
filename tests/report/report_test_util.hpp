// Shared inputs of the report tests: the topology corpus, plans made by the
// optimizer, synthetic bench results, and what a plan says about each CPU
// (worked out here from the Plan alone, not through report/).
#pragma once

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "optimizer/optimizer.hpp"
#include "probe/probe.hpp"
#include "report/report.hpp"
#include "tests/report/sample_results.hpp"

namespace vpt::test {

inline std::filesystem::path corpus_dir() { return VPT_CORPUS_DIR; }

// Every topology of the corpus: hwloc XML exports and `lscpu -e` listings.
inline std::vector<std::filesystem::path> corpus_files() {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (const char* dir : {"hwloc", "hwloc-xml-parser", "lscpu"})
    for (const auto& entry : fs::recursive_directory_iterator(corpus_dir() / dir)) {
      auto ext = entry.path().extension();
      if (ext == ".xml" || ext == ".txt") files.push_back(entry.path());
    }
  std::sort(files.begin(), files.end());
  return files;
}

inline Topology load_corpus(const std::filesystem::path& path) {
  return path.extension() == ".xml" ? load_hwloc_xml_file(path.string()) : load_lscpu_file(path.string());
}
inline Topology load_corpus(const char* relative) { return load_corpus(corpus_dir() / relative); }

inline Plan plan_for(const Topology& topo, std::optional<unsigned> vcpus = std::nullopt, std::string name = "win11") {
  Request request;
  GuestRequest guest;
  guest.name = std::move(name);
  guest.vcpus = vcpus;
  request.guests.push_back(guest);
  return make_plan(topo, request);
}

// A review as `vpt-tune check` writes one, made by hand: an error with
// hostile text, a warning with a path to redact, a note without a fix.
inline CheckReport sample_review() {
  CheckReport r;
  r.domain = "win<11>";
  r.summary = "16 vCPUs, 16 GiB, Windows guest, KVM";
  Finding error;
  error.id = "windows-sockets";
  error.severity = Severity::Error;
  error.title = "Windows sees more sockets than it uses";
  error.why = "Client editions use two sockets. Source: <script>alert('x')</script> & co.";
  error.evidence = "the guest sees 8 sockets";
  error.fix = "<cpu>\n  <topology sockets='1' dies='1' cores='8' threads='1'/>\n</cpu>";
  error.fix_kind = FixKind::DomainXml;
  error.auto_fix = AutoFix::Tuning;
  Finding warning;
  warning.id = "disk-no-iothread";
  warning.severity = Severity::Warning;
  warning.title = "Virtio disks or controllers without an I/O thread";
  warning.why = "Main loop. Source: libvirt.";
  warning.evidence = "disk vda (/home/alice/vms/win11.qcow2) has no I/O thread";
  Finding note;
  note.id = "hyperv-vendor-id";
  note.severity = Severity::Info;
  note.title = "A Hyper-V vendor_id is set: vpt-tune leaves it alone";
  note.why = "Drivers. Source: Proxmox.";
  note.evidence = "<vendor_id value='randomid'/>: left as it is";
  r.findings = {error, warning, note};
  r.skipped = {"host checks: offline review"};
  return r;
}

inline std::string test_name(const std::filesystem::path& path) {
  std::string name = path.filename().string();
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

// The role a plan gives a CPU, read off the Plan: a vCPU first, then the
// emulator, an I/O thread, the host, else unused.
inline std::string expected_role(const Plan& plan, unsigned cpu) {
  for (const GuestPlan& g : plan.guests)
    if (std::find(g.vcpus.begin(), g.vcpus.end(), cpu) != g.vcpus.end()) return "vcpu";
  for (const GuestPlan& g : plan.guests)
    if (g.emulator.contains(cpu)) return "emulator";
  for (const GuestPlan& g : plan.guests)
    for (const CpuSet& io : g.iothreads)
      if (io.contains(cpu)) return "iothread";
  if (plan.host.contains(cpu)) return "host";
  return "unused";
}

// The vCPU number a plan runs on `cpu`, if any.
inline std::optional<unsigned> expected_vcpu(const Plan& plan, unsigned cpu) {
  for (const GuestPlan& g : plan.guests)
    for (unsigned v = 0; v < g.vcpus.size(); ++v)
      if (g.vcpus[v] == cpu) return v;
  return std::nullopt;
}

}  // namespace vpt::test
