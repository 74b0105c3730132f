// The few libvirt calls vpt-tune makes, behind an interface so that tests can
// put a fake in libvirt's place (and inject failures at any step). The one
// libvirt layer of the project: suggest/restore/hook (virt/), bench (pins,
// live XML, the guest agent) and report all go through a Hypervisor.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/cpuset.hpp"

namespace vpt {

// A libvirt call failed at run time. what() is one line that ends with
// libvirt's own last error message: "cannot connect to 'URI': ...".
// A domain that does not exist is a DomainInputError (virt/domain.hpp) instead.
class LibvirtError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The guest agent could not run a command: not configured in the domain, not
// answering (not installed or not started in the guest, or too slow), or it
// refused or failed the command. `kind` says which, what() is one line ending
// with libvirt's message.
class AgentError : public LibvirtError {
 public:
  enum class Kind { NotConfigured, NotResponding, CommandFailed };
  AgentError(Kind kind, const std::string& what) : LibvirtError(what), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

// Pins of a running domain, as the get calls report them.
struct LivePins {
  std::vector<CpuSet> vcpus;               // index = vCPU (online ones)
  CpuSet emulator;
  std::map<unsigned, CpuSet> iothreads;    // iothread id -> CPUs
  friend bool operator==(const LivePins&, const LivePins&) = default;
};

// libvirt's and QEMU's versions as libvirt encodes them (major * 1,000,000 +
// minor * 1,000 + micro); nullopt where unknown.
struct VirtVersions {
  std::optional<unsigned long> libvirt, qemu;
};
// "8.0.0" or "8.0" -> 8000000; nullopt for anything else.
std::optional<unsigned long> parse_virt_version(std::string_view text);
// 8000000 -> "8.0.0"
std::string virt_version_text(unsigned long version);

class Hypervisor {
 public:
  virtual ~Hypervisor() = default;
  virtual std::string uri() const = 0;
  // The CPUs the host has (online or not), as libvirt numbers them: a
  // definition may name an offline CPU, the kernel refuses it at start.
  virtual CpuSet host_cpus() = 0;
  // NAME or UUID -> the domain's name. Throws DomainInputError
  // "cannot find domain 'X' on 'URI': <libvirt's message>".
  virtual std::string find_domain(const std::string& name_or_uuid) = 0;
  // The names of every domain of the connection, defined or running, sorted.
  // Throws LibvirtError.
  virtual std::vector<std::string> domain_names() = 0;
  // The persistent definition (VIR_DOMAIN_XML_INACTIVE), with secrets such as
  // VNC passwords when `secure` (needs a read-write connection): what a
  // backup must hold so that defining it again loses nothing.
  virtual std::string definition_xml(const std::string& domain, bool secure) = 0;
  virtual void define(const std::string& xml) = 0;
  virtual bool is_running(const std::string& domain) = 0;
  virtual LivePins live_pins(const std::string& domain) = 0;
  // The running domain's XML (device paths QEMU uses, the agent channel's state).
  virtual std::string live_xml(const std::string& domain) = 0;
  // One QEMU guest agent command (virDomainQemuAgentCommand, libvirt-qemu):
  // `command` and the reply are JSON text ({"execute": ...} / {"return": ...}).
  // Waits at most `timeout`. Needs a read-write connection. Throws AgentError.
  virtual std::string agent_command(const std::string& domain, const std::string& command,
                                    std::chrono::seconds timeout) = 0;
  virtual void pin_vcpu_live(const std::string& domain, unsigned vcpu, const CpuSet& cpus) = 0;
  virtual void pin_emulator_live(const std::string& domain, const CpuSet& cpus) = 0;
  virtual void pin_iothread_live(const std::string& domain, unsigned iothread, const CpuSet& cpus) = 0;
  // The versions of libvirt (the daemon's) and of the QEMU it runs; nullopt parts where unknown.
  virtual VirtVersions versions() { return {}; }
};

// What --connect means when it is not given: $LIBVIRT_DEFAULT_URI, else qemu:///system.
std::string default_connect_uri();

// Opens a libvirt connection (read-only unless `read_write`) as virsh would.
// libvirt's own error printing is switched off: failures come back as one
// exception. Throws LibvirtError "cannot connect to 'URI': <reason>".
std::unique_ptr<Hypervisor> connect_libvirt(const std::string& uri, bool read_write);

}  // namespace vpt
