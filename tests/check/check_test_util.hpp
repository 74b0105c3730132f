// Helpers of the check tests: sample domains, host models, a review as the
// command makes it.
#pragma once

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "check/findings.hpp"
#include "optimizer/optimizer.hpp"
#include "probe/probe.hpp"
#include "tests/virt/virt_test_util.hpp"
#include "virt/domain.hpp"

namespace vpt::test {

// The passthrough guide's i7-14700F (docs/optimizer-notes.md): CPUs 0-15 are 8 P-cores (siblings 2k, 2k+1), 16-27 are 12 E-cores, one L3.
inline Topology i7() { return load_lscpu_file(std::string(VPT_DATA_DIR) + "/lscpu/intel-core-i7-14700f.txt"); }
// Ryzen 7 5800X: cores k = CPUs k and k+8, one L3; AuthenticAMD.
inline Topology ryzen() { return load_lscpu_file(std::string(VPT_CORPUS_DIR) + "/lscpu/amd-ryzen7-5800x.txt"); }
// 2x EPYC 9654 (tests/corpus/facts): L3 #0 = CPUs 0-7,192-199, L3 #1 = 8-15,200-207;
// node 0 = 0-95,192-287, node 1 = 96-191,288-383; cores k = CPUs k and k+192.
inline Topology epyc() {
  return load_hwloc_xml_file(std::string(VPT_DATA_DIR) + "/topologies/AMD-19h-Zen4-2xEpyc-9654.xml");
}

// The i7 as a live host: its state as `change` sets it (nothing unusual by default).
inline Topology live_i7(const std::function<void(HostState&)>& change = {}) {
  Topology t = i7();
  t.host.known = true;
  t.host.thp_enabled = "madvise";
  t.host.kvm_halt_poll_ns = 200000;
  if (change) change(t.host);
  return t;
}

// A domain written for a test: what each check needs, nothing else.
struct Spec {
  std::string name = "guest";
  std::string type = "kvm";
  std::string os_id;                // libosinfo id, "" = none
  std::string memory = "<memory unit='GiB'>2</memory>";
  unsigned vcpus = 4;
  std::vector<unsigned> pins;       // vCPU i -> pins[i]
  std::string emulatorpin;          // cpuset, "" = none
  std::string extra;                // after <cputune>: numatune, features, cpu, clock...
  std::string devices;              // inside <devices>
};

inline std::string domain_xml(const Spec& s) {
  std::string xml = fmt::format("<domain type='{}'>\n  <name>{}</name>\n", s.type, s.name);
  if (!s.os_id.empty())
    xml += fmt::format("  <metadata>\n    <libosinfo:libosinfo xmlns:libosinfo=\"http://libosinfo.org/xmlns/libvirt/domain/1.0\">\n"
                       "      <libosinfo:os id=\"{}\"/>\n    </libosinfo:libosinfo>\n  </metadata>\n",
                       s.os_id);
  xml += "  " + s.memory + "\n" + fmt::format("  <vcpu placement='static'>{}</vcpu>\n", s.vcpus);
  if (!s.pins.empty() || !s.emulatorpin.empty()) {
    xml += "  <cputune>\n";
    for (std::size_t i = 0; i < s.pins.size(); ++i)
      xml += fmt::format("    <vcpupin vcpu='{}' cpuset='{}'/>\n", i, s.pins[i]);
    if (!s.emulatorpin.empty()) xml += fmt::format("    <emulatorpin cpuset='{}'/>\n", s.emulatorpin);
    xml += "  </cputune>\n";
  }
  xml += "  <os>\n    <type arch='x86_64' machine='pc-q35-8.2'>hvm</type>\n  </os>\n" + s.extra;
  xml += "  <devices>\n    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n" + s.devices + "  </devices>\n</domain>\n";
  return xml;
}

// `text` with `from` replaced by `to` once; the test fails when `from` is missing.
inline std::string replaced(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error("test fixture: '" + from + "' not found");
  return text.replace(at, from.size(), to);
}

// suggest's plan for the domain on `host` (nullopt when the host cannot hold it).
inline std::optional<GuestPlan> plan_for(const Domain& d, const Topology& host) {
  Request request;
  GuestRequest guest = request_defaults_from(d, &host);
  bool known_gpu = false;
  for (const PciDevice& dev : host.pci) known_gpu |= guest.gpu && dev.address == *guest.gpu;
  if (!known_gpu) guest.gpu.reset();
  request.guests.push_back(guest);
  try {
    return make_plan(host, request).guests.front();
  } catch (const RequestError&) {
    return std::nullopt;
  }
}

struct Review {
  Domain domain;
  std::optional<GuestPlan> plan;
  CheckReport report;
};

// What `vpt-tune check` says about `xml` on `host` (nullptr: no host model), run by
// the libvirt and QEMU `versions` (unknown by default, as offline).
inline Review review(const std::string& xml, const Topology* host, std::optional<bool> running = std::nullopt,
                     VirtVersions versions = {}) {
  Review r{parse_domain_xml(xml, "test.xml"), std::nullopt, {}};
  if (host) r.plan = plan_for(r.domain, *host);
  r.report = run_checks(CheckInput{&r.domain, host, r.plan ? &*r.plan : nullptr, "", running, versions});
  return r;
}

inline const Finding* find(const CheckReport& report, const std::string& id) {
  for (const Finding& f : report.findings)
    if (f.id == id) return &f;
  return nullptr;
}

inline std::vector<std::string> ids(const CheckReport& report) {
  std::vector<std::string> out;
  for (const Finding& f : report.findings) out.push_back(f.id);
  return out;
}

}  // namespace vpt::test
