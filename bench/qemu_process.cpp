// A DomainSource for a QEMU process known by PID, with the pins it should
// have: what `bench --vmid` measures a Proxmox VM through.
#include "bench/bench.hpp"

namespace vpt {

namespace {

class QemuProcessSource final : public DomainSource {
 public:
  QemuProcessSource(std::string uri, std::string name, QemuProcess process, DomainPins expected)
      : uri_(std::move(uri)), name_(std::move(name)), process_(std::move(process)), pins_(std::move(expected)) {}

  std::string uri() const override { return uri_; }
  std::string name() const override { return name_; }
  DomainPins read_pins() override { return pins_; }
  std::optional<QemuProcess> qemu_process() override { return process_; }

 private:
  std::string uri_, name_;
  QemuProcess process_;
  DomainPins pins_;
};

}  // namespace

std::unique_ptr<DomainSource> open_qemu_process(std::string uri, std::string name, QemuProcess process,
                                                DomainPins expected) {
  return std::make_unique<QemuProcessSource>(std::move(uri), std::move(name), std::move(process), std::move(expected));
}

}  // namespace vpt
