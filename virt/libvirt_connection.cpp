#include "virt/libvirt_connection.hpp"

#include <algorithm>

#include <chrono>

#include <fmt/format.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "virt/domain.hpp"

namespace vpt {

namespace {

// libvirt prints every error to stderr by default; we report it once ourselves.
void ignore_libvirt_error(void*, virErrorPtr) {}

std::string last_error() {
  const char* message = virGetLastErrorMessage();
  return message ? message : "unknown libvirt error";
}

struct ConnectClose {
  void operator()(virConnectPtr conn) const { virConnectClose(conn); }
};
struct DomainFree {
  void operator()(virDomainPtr dom) const { virDomainFree(dom); }
};
using DomainHandle = std::unique_ptr<virDomain, DomainFree>;

std::vector<unsigned char> to_cpumap(const CpuSet& cpus) {
  std::vector<unsigned char> map(VIR_CPU_MAPLEN(cpus.empty() ? 1 : cpus.last() + 1), 0);
  for (unsigned cpu : cpus) VIR_USE_CPU(map.data(), cpu);
  return map;
}

// The "execute" value of an agent command, for messages (the arguments may be a whole file).
std::string agent_command_name(const std::string& command) {
  auto key = command.find("\"execute\"");
  if (key == std::string::npos) return "?";
  auto open = command.find('"', command.find(':', key) + 1);
  auto close = open == std::string::npos ? open : command.find('"', open + 1);
  return close == std::string::npos ? "?" : command.substr(open + 1, close - open - 1);
}

CpuSet from_cpumap(const unsigned char* map, int maplen) {
  CpuSet cpus;
  for (int cpu = 0; cpu < maplen * 8; ++cpu)
    if (VIR_CPU_USED(map, cpu)) cpus.insert(static_cast<unsigned>(cpu));
  return cpus;
}

class LibvirtConnection final : public Hypervisor {
 public:
  LibvirtConnection(std::string uri, bool read_write) : uri_(std::move(uri)) {
    conn_.reset(read_write ? virConnectOpen(uri_.c_str()) : virConnectOpenReadOnly(uri_.c_str()));
    if (!conn_) throw LibvirtError(fmt::format("cannot connect to '{}': {}", uri_, last_error()));
    virConnSetErrorFunc(conn_.get(), nullptr, ignore_libvirt_error);
  }

  std::string uri() const override { return uri_; }

  VirtVersions versions() override {
    VirtVersions v;
    unsigned long version = 0;
    if (virConnectGetLibVersion(conn_.get(), &version) == 0) v.libvirt = version;
    // The hypervisor version is QEMU's only on the QEMU driver (the test driver reports its own).
    if (uri_.starts_with("qemu") && virConnectGetVersion(conn_.get(), &version) == 0 && version > 0) v.qemu = version;
    return v;
  }

  CpuSet host_cpus() override { return CpuSet::range(0, static_cast<unsigned>(cpumap_size()) - 1); }

  std::string find_domain(const std::string& name_or_uuid) override {
    DomainHandle dom = lookup(name_or_uuid);
    const char* name = virDomainGetName(dom.get());
    if (!name) fail("read the name of domain", name_or_uuid);
    return name;
  }

  std::vector<std::string> domain_names() override {
    virDomainPtr* domains = nullptr;
    const int n = virConnectListAllDomains(conn_.get(), &domains, 0);
    if (n < 0) throw LibvirtError(fmt::format("cannot list the domains of '{}': {}", uri_, last_error()));
    std::vector<std::string> names;
    for (int i = 0; i < n; ++i) {
      if (const char* name = virDomainGetName(domains[i])) names.emplace_back(name);
      virDomainFree(domains[i]);
    }
    free(domains);
    std::sort(names.begin(), names.end());
    return names;
  }

  std::string definition_xml(const std::string& domain, bool secure) override {
    DomainHandle dom = lookup(domain);
    unsigned flags = VIR_DOMAIN_XML_INACTIVE | (secure ? VIR_DOMAIN_XML_SECURE : 0);
    char* xml = virDomainGetXMLDesc(dom.get(), flags);
    if (!xml) fail("read the definition of domain", domain);
    std::string text = xml;
    free(xml);
    return text;
  }

  void define(const std::string& xml) override {
    virDomainPtr dom = virDomainDefineXML(conn_.get(), xml.c_str());
    if (!dom) throw LibvirtError(fmt::format("cannot define domain on '{}': {}", uri_, last_error()));
    virDomainFree(dom);
  }

  bool is_running(const std::string& domain) override {
    DomainHandle dom = lookup(domain);
    int active = virDomainIsActive(dom.get());
    if (active < 0) fail("read the state of domain", domain);
    return active == 1;
  }

  LivePins live_pins(const std::string& domain) override {
    DomainHandle dom = lookup(domain);
    const int maplen = VIR_CPU_MAPLEN(cpumap_size());
    LivePins pins;

    virDomainInfo info;
    if (virDomainGetInfo(dom.get(), &info) < 0) fail("read the vCPUs of domain", domain);
    std::vector<unsigned char> maps(static_cast<std::size_t>(info.nrVirtCpu) * maplen);
    int n = virDomainGetVcpuPinInfo(dom.get(), info.nrVirtCpu, maps.data(), maplen, VIR_DOMAIN_AFFECT_LIVE);
    if (n < 0) fail("read the vCPU pins of domain", domain);
    for (int v = 0; v < n; ++v) pins.vcpus.push_back(from_cpumap(VIR_GET_CPUMAP(maps.data(), maplen, v), maplen));

    std::vector<unsigned char> map(maplen);
    if (virDomainGetEmulatorPinInfo(dom.get(), map.data(), maplen, VIR_DOMAIN_AFFECT_LIVE) < 0)
      fail("read the emulator pin of domain", domain);
    pins.emulator = from_cpumap(map.data(), maplen);

    virDomainIOThreadInfoPtr* threads = nullptr;
    int count = virDomainGetIOThreadInfo(dom.get(), &threads, VIR_DOMAIN_AFFECT_LIVE);
    if (count < 0) fail("read the iothread pins of domain", domain);
    for (int i = 0; i < count; ++i) {
      pins.iothreads[threads[i]->iothread_id] = from_cpumap(threads[i]->cpumap, threads[i]->cpumaplen);
      virDomainIOThreadInfoFree(threads[i]);
    }
    free(threads);
    return pins;
  }

  std::string live_xml(const std::string& domain) override {
    DomainHandle dom = lookup(domain);
    char* xml = virDomainGetXMLDesc(dom.get(), 0);
    if (!xml) fail("read the live XML of domain", domain);
    std::string text = xml;
    free(xml);
    return text;
  }

  std::string agent_command(const std::string& domain, const std::string& command,
                            std::chrono::seconds timeout) override {
    DomainHandle dom = lookup(domain);
    char* reply = virDomainQemuAgentCommand(dom.get(), command.c_str(), static_cast<int>(timeout.count()), 0);
    if (reply) {
      std::string text = reply;
      free(reply);
      return text;
    }
    // libvirt 9.0: "QEMU guest agent is not configured" (no channel),
    // "... is not connected" / "Guest agent is not responding" (no qemu-ga, or
    // too slow), an internal error carrying the agent's own error otherwise.
    const virErrorPtr error = virGetLastError();
    const int code = error ? error->code : VIR_ERR_INTERNAL_ERROR;
    AgentError::Kind kind = code == VIR_ERR_ARGUMENT_UNSUPPORTED ? AgentError::Kind::NotConfigured
                            : code == VIR_ERR_AGENT_UNRESPONSIVE || code == VIR_ERR_AGENT_UNSYNCED
                                ? AgentError::Kind::NotResponding
                                : AgentError::Kind::CommandFailed;
    throw AgentError(kind, fmt::format("cannot run guest agent command '{}' in domain '{}' on '{}': {}",
                                       agent_command_name(command), domain, uri_, last_error()));
  }

  void pin_vcpu_live(const std::string& domain, unsigned vcpu, const CpuSet& cpus) override {
    DomainHandle dom = lookup(domain);
    auto map = to_cpumap(cpus);
    if (virDomainPinVcpuFlags(dom.get(), vcpu, map.data(), static_cast<int>(map.size()), VIR_DOMAIN_AFFECT_LIVE) < 0)
      fail(fmt::format("pin vCPU {} to CPUs {} of domain", vcpu, cpus.to_string()), domain);
  }

  void pin_emulator_live(const std::string& domain, const CpuSet& cpus) override {
    DomainHandle dom = lookup(domain);
    auto map = to_cpumap(cpus);
    if (virDomainPinEmulator(dom.get(), map.data(), static_cast<int>(map.size()), VIR_DOMAIN_AFFECT_LIVE) < 0)
      fail(fmt::format("pin the emulator to CPUs {} of domain", cpus.to_string()), domain);
  }

  void pin_iothread_live(const std::string& domain, unsigned iothread, const CpuSet& cpus) override {
    DomainHandle dom = lookup(domain);
    auto map = to_cpumap(cpus);
    if (virDomainPinIOThread(dom.get(), iothread, map.data(), static_cast<int>(map.size()),
                             VIR_DOMAIN_AFFECT_LIVE) < 0)
      fail(fmt::format("pin iothread {} to CPUs {} of domain", iothread, cpus.to_string()), domain);
  }

 private:
  [[noreturn]] void fail(const std::string& what, const std::string& domain) const {
    throw LibvirtError(fmt::format("cannot {} '{}' on '{}': {}", what, domain, uri_, last_error()));
  }

  DomainHandle lookup(const std::string& name_or_uuid) {
    DomainHandle dom(virDomainLookupByName(conn_.get(), name_or_uuid.c_str()));
    if (dom) return dom;
    std::string by_name = last_error();
    dom.reset(virDomainLookupByUUIDString(conn_.get(), name_or_uuid.c_str()));
    if (dom) return dom;
    throw DomainInputError(fmt::format("cannot find domain '{}' on '{}': {}", name_or_uuid, uri_, by_name));
  }

  // Size of the CPU maps the host's libvirt uses (highest CPU + 1).
  int cpumap_size() {
    int n = virNodeGetCPUMap(conn_.get(), nullptr, nullptr, 0);
    if (n < 0) throw LibvirtError(fmt::format("cannot read the host CPUs of '{}': {}", uri_, last_error()));
    return n;
  }

  std::string uri_;
  std::unique_ptr<virConnect, ConnectClose> conn_;
};

}  // namespace

std::unique_ptr<Hypervisor> connect_libvirt(const std::string& uri, bool read_write) {
  static const bool initialized = [] {
    virSetErrorFunc(nullptr, ignore_libvirt_error);
    return virInitialize() == 0;
  }();
  if (!initialized) throw LibvirtError(fmt::format("cannot connect to '{}': libvirt failed to initialize", uri));
  return std::make_unique<LibvirtConnection>(uri, read_write);
}

}  // namespace vpt
