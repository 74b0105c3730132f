// A Hypervisor that keeps definitions in memory and fails where a test says.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "virt/domain.hpp"
#include "virt/libvirt_connection.hpp"

namespace vpt::test {

class FakeHypervisor : public Hypervisor {
 public:
  std::map<std::string, std::string> definitions;  // name -> XML exactly as defined
  bool running = false;
  LivePins live;
  int defines = 0;
  std::optional<int> fail_define_number;                   // 1 = the first define call fails
  bool read_only = false;                                  // every define fails
  std::function<std::string(const std::string&)> on_define;  // what "libvirt" stores instead
  std::optional<unsigned> refuse_vcpu;                     // live pin of this vCPU fails
  bool ignore_live_emulator_pin = false;                   // the call succeeds, nothing changes
  std::optional<std::string> running_xml;                  // live_xml(); the definition when unset
  // The guest agent: JSON command -> JSON reply. Unset: "not configured", as libvirt says.
  std::function<std::string(const std::string&)> agent;
  std::vector<std::string> agent_commands;                 // every command sent, in order

  CpuSet host = CpuSet::range(0, 27);

  std::string uri() const override { return "fake:///"; }
  CpuSet host_cpus() override { return host; }
  std::string find_domain(const std::string& name) override {
    if (!definitions.count(name))
      throw DomainInputError(fmt::format("cannot find domain '{}' on 'fake:///': Domain not found", name));
    return name;
  }
  std::vector<std::string> domain_names() override {
    std::vector<std::string> names;
    for (const auto& [name, xml] : definitions) names.push_back(name);
    return names;
  }
  std::vector<std::string> running_domains;                // is_running() per name when not empty
  std::string definition_xml(const std::string& name, bool) override { return definitions.at(find_domain(name)); }
  void define(const std::string& xml) override {
    ++defines;
    if (read_only)
      throw LibvirtError("cannot define domain on 'fake:///': operation forbidden: read only access");
    if (fail_define_number && *fail_define_number == defines)
      throw LibvirtError("cannot define domain on 'fake:///': injected failure");
    Domain d = parse_domain_xml(xml, "define");
    definitions[d.name] = on_define ? on_define(xml) : xml;
  }
  bool is_running(const std::string& name) override {
    if (!running_domains.empty())
      return std::find(running_domains.begin(), running_domains.end(), name) != running_domains.end();
    return running;
  }
  LivePins live_pins(const std::string&) override { return live; }
  std::string live_xml(const std::string& name) override {
    return running_xml ? *running_xml : definitions.at(find_domain(name));
  }
  std::string agent_command(const std::string& name, const std::string& command, std::chrono::seconds) override {
    agent_commands.push_back(command);
    if (!agent)
      throw AgentError(AgentError::Kind::NotConfigured,
                       fmt::format("cannot run guest agent command in domain '{}' on 'fake:///': argument "
                                   "unsupported: QEMU guest agent is not configured",
                                   name));
    return agent(command);
  }
  void pin_vcpu_live(const std::string&, unsigned vcpu, const CpuSet& cpus) override {
    if (refuse_vcpu && *refuse_vcpu == vcpu)
      throw LibvirtError(fmt::format("cannot pin vCPU {}: CPU 4000 in cpulist exceeds the maxcpu", vcpu));
    live.vcpus.at(vcpu) = cpus;
  }
  void pin_emulator_live(const std::string&, const CpuSet& cpus) override {
    if (!ignore_live_emulator_pin) live.emulator = cpus;
  }
  void pin_iothread_live(const std::string&, unsigned id, const CpuSet& cpus) override { live.iothreads.at(id) = cpus; }
};

}  // namespace vpt::test
