// The only file that talks to libvirt: a read-only connection and the pin
// getters. Everything else sees a DomainSource.
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "bench/bench.hpp"

namespace vpt {

namespace {

std::string last_error() {
  const char* message = virGetLastErrorMessage();
  return message ? message : "unknown libvirt error";
}

// libvirt prints every error to stderr by default; ours carry the message instead.
void silent_error_handler(void*, virErrorPtr) {}

CpuSet cpumap_to_set(const unsigned char* map, int maplen) {
  CpuSet set;
  for (int cpu = 0; cpu < maplen * 8; ++cpu)
    if (VIR_CPU_USABLE(map, maplen, 0, cpu)) set.insert(static_cast<unsigned>(cpu));
  return set;
}

class LibvirtDomain final : public DomainSource {
 public:
  LibvirtDomain(std::string uri, std::string name) : uri_(std::move(uri)), name_(std::move(name)) {
    virSetErrorFunc(nullptr, silent_error_handler);
    conn_ = virConnectOpenReadOnly(uri_.empty() ? nullptr : uri_.c_str());
    if (!conn_) throw std::runtime_error(fmt::format("cannot connect to libvirt '{}': {}", uri_, last_error()));
    dom_ = virDomainLookupByName(conn_, name_.c_str());
    if (!dom_) {
      std::string reason = last_error();
      virConnectClose(conn_);
      throw std::runtime_error(fmt::format("cannot find domain '{}' at '{}': {}", name_, uri_, reason));
    }
    int active = virDomainIsActive(dom_);
    if (active != 1) {
      std::string reason = active == 0 ? "it is not running" : last_error();
      virDomainFree(dom_);
      virConnectClose(conn_);
      throw BenchInputError(fmt::format("cannot measure domain '{}': {}", name_, reason));
    }
  }
  ~LibvirtDomain() override {
    virDomainFree(dom_);
    virConnectClose(conn_);
  }
  LibvirtDomain(const LibvirtDomain&) = delete;
  LibvirtDomain& operator=(const LibvirtDomain&) = delete;

  std::string uri() const override { return uri_; }
  std::string name() const override { return name_; }

  DomainPins read_pins() override {
    auto fail = [&](std::string_view what) {
      return std::runtime_error(fmt::format("cannot read {} of domain '{}': {}", what, name_, last_error()));
    };
    int host_cpus = virNodeGetCPUMap(conn_, nullptr, nullptr, 0);
    if (host_cpus < 0) throw fail("the host CPU count");
    const int maplen = VIR_CPU_MAPLEN(host_cpus);
    DomainPins pins;

    int vcpus = virDomainGetVcpusFlags(dom_, VIR_DOMAIN_AFFECT_CURRENT);
    if (vcpus < 0) throw fail("vCPU count");
    std::vector<unsigned char> maps(static_cast<std::size_t>(vcpus) * static_cast<std::size_t>(maplen));
    // Flags 0 = the current (live) state; the test driver rejects LIVE here.
    int got = virDomainGetVcpuPinInfo(dom_, vcpus, maps.data(), maplen, 0);
    if (got < 0) throw fail("vCPU pins");
    for (int v = 0; v < got; ++v) pins.vcpus.push_back(cpumap_to_set(VIR_GET_CPUMAP(maps.data(), maplen, v), maplen));

    std::vector<unsigned char> emulator(static_cast<std::size_t>(maplen));
    if (virDomainGetEmulatorPinInfo(dom_, emulator.data(), maplen, 0) < 0) throw fail("emulator pin");
    pins.emulator = cpumap_to_set(emulator.data(), maplen);

    virDomainIOThreadInfoPtr* info = nullptr;
    int n = virDomainGetIOThreadInfo(dom_, &info, 0);
    if (n < 0) throw fail("iothread pins");
    for (int i = 0; i < n; ++i) {
      pins.iothreads.push_back({info[i]->iothread_id, cpumap_to_set(info[i]->cpumap, info[i]->cpumaplen)});
      virDomainIOThreadInfoFree(info[i]);
    }
    free(info);  // NOLINT: libvirt allocates the array with malloc
    return pins;
  }

  std::optional<std::string> live_xml() override {
    char* xml = virDomainGetXMLDesc(dom_, 0);
    if (!xml)
      throw std::runtime_error(fmt::format("cannot read the XML of domain '{}': {}", name_, last_error()));
    std::string text(xml);
    free(xml);  // NOLINT: libvirt allocates with malloc
    return text;
  }

 private:
  std::string uri_, name_;
  virConnectPtr conn_ = nullptr;
  virDomainPtr dom_ = nullptr;
};

}  // namespace

std::unique_ptr<DomainSource> open_libvirt_domain(const std::string& uri, const std::string& name) {
  return std::make_unique<LibvirtDomain>(uri, name);
}

}  // namespace vpt
