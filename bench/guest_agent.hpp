// The QEMU guest agent as bench uses it: ping, what it can do, which OS the
// guest runs, copying a file in, running it with its output captured, and
// cleaning up. Every call goes through Hypervisor::agent_command (libvirt's
// virDomainQemuAgentCommand) with a timeout, so a missing or stuck agent is an
// AgentError with one clear line, never a hang. Internal to bench/ (tests
// include it).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "virt/libvirt_connection.hpp"

namespace vpt {

std::string base64_encode(std::string_view bytes);
// nullopt on a character outside the alphabet or a bad length.
std::optional<std::string> base64_decode(std::string_view text);

struct AgentInfo {
  std::string version;                      // qemu-ga's, "7.2.0"
  std::vector<std::string> enabled;         // supported_commands with enabled=true
  std::vector<std::string> disabled;        // present but blocked (--block-rpcs, an allow list)
};

// guest-get-osinfo (qemu-ga 2.10+). Windows: id "mswindows"; Linux: the
// os-release fields when the guest has /etc/os-release, always the uname ones.
struct GuestOsInfo {
  std::string id;                           // "mswindows", "debian", "" when unknown
  std::string pretty_name;                  // "Microsoft Windows 11 Pro", "Debian GNU/Linux 12 (bookworm)"
  std::string kernel_release;
  std::string machine;                      // "x86_64", "aarch64"
  bool windows() const { return id == "mswindows"; }
  std::string shown() const;                // pretty_name, else "Linux <kernel_release>"
};

struct ExecStatus {
  bool exited = false;
  std::optional<int> exit_code;
  std::optional<int> signal;                // killed by a signal (POSIX guests)
  std::string out, err;                     // decoded
  bool truncated = false;                   // qemu-ga keeps at most 16 MiB of each
};

class GuestAgent {
 public:
  // `timeout` bounds each command.
  GuestAgent(Hypervisor& connection, std::string domain, std::chrono::seconds timeout);

  void ping();
  AgentInfo info();
  GuestOsInfo osinfo();
  // Writes `bytes` to `path` in the guest (guest-file-open "wb", guest-file-write in
  // chunks, guest-file-close).
  void write_file(const std::string& path, std::string_view bytes);
  // guest-exec with capture-output; the guest's pid.
  std::int64_t exec(const std::string& path, const std::vector<std::string>& args);
  ExecStatus exec_status(std::int64_t pid);

  const std::string& domain() const { return domain_; }

 private:
  // {"execute": name, "arguments": ...}; the "return" value's JSON text.
  std::string call(std::string_view name, const std::string& arguments_json = "");
  Hypervisor& connection_;
  std::string domain_;
  std::chrono::seconds timeout_;
};

// The agent channel in a domain's live XML: <channel type='unix'> with
// <target type='virtio' name='org.qemu.guest_agent.0' state=...>. nullopt:
// none; else its state ("connected", "disconnected", "" when libvirt does not
// say). Throws std::runtime_error on XML that does not parse.
std::optional<std::string> agent_channel_state(std::string_view domain_xml);

}  // namespace vpt
