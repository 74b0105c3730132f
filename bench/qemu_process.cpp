// A QEMU process known by PID, with the pins it should have, seen as a
// read-only Hypervisor: what `bench --vmid` measures a Proxmox VM through.
#include <fmt/format.h>

#include "bench/bench.hpp"

namespace vpt {

namespace {

class QemuProcessView final : public Hypervisor {
 public:
  QemuProcessView(std::string uri, std::string name, LivePins expected)
      : uri_(std::move(uri)), name_(std::move(name)), pins_(std::move(expected)) {}

  std::string uri() const override { return uri_; }
  CpuSet host_cpus() override { throw not_libvirt("the host's CPUs"); }
  std::string find_domain(const std::string& name_or_uuid) override {
    if (name_or_uuid != name_) throw not_libvirt(fmt::format("domain '{}'", name_or_uuid));
    return name_;
  }
  std::vector<std::string> domain_names() override { throw not_libvirt("the list of domains"); }
  std::string definition_xml(const std::string&, bool) override { throw not_libvirt("a definition"); }
  void define(const std::string&) override { throw not_libvirt("define"); }
  bool is_running(const std::string&) override { return true; }  // the caller found its live PID
  LivePins live_pins(const std::string&) override { return pins_; }
  std::string live_xml(const std::string&) override { throw not_libvirt("the guest's channels"); }
  std::string agent_command(const std::string&, const std::string&, std::chrono::seconds) override {
    throw not_libvirt("the guest agent");
  }
  void pin_vcpu_live(const std::string&, unsigned, const CpuSet&) override { throw not_libvirt("live pinning"); }
  void pin_emulator_live(const std::string&, const CpuSet&) override { throw not_libvirt("live pinning"); }
  void pin_iothread_live(const std::string&, unsigned, const CpuSet&) override { throw not_libvirt("live pinning"); }

 private:
  LibvirtError not_libvirt(const std::string& what) const {
    return LibvirtError(fmt::format("{} ({}) is not a libvirt domain: {} is not available through libvirt", name_, uri_,
                                    what));
  }

  std::string uri_, name_;
  LivePins pins_;
};

}  // namespace

std::unique_ptr<Hypervisor> qemu_process_view(std::string uri, std::string name, LivePins expected) {
  return std::make_unique<QemuProcessView>(std::move(uri), std::move(name), std::move(expected));
}

}  // namespace vpt
