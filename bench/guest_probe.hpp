// The in-guest probe's side of bench (internal header; tests include it):
// finding the serial command channel in a domain's XML, talking to it, and
// reading the probe's output lines. The probe is guest/vpt-guest-probe.c; its
// line protocol is documented in guest/README.md. The agent channel is
// bench/guest_agent.hpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/results.hpp"

namespace vpt {

// ---- The command channel ----------------------------------------------------

// The unix socket of the domain's command channel: the <source path=...> of a
// <serial type='unix'> whose <target port='1'/> and <source mode='bind'> (QEMU
// listens). nullopt when the domain has none. Throws std::runtime_error on XML
// that does not parse.
std::optional<std::string> guest_channel_path(std::string_view domain_xml);

struct GuestReply {
  std::string output;  // what the command printed, '\r' dropped
  int exit_code = 0;
};

// Connects to the channel, writes one line
//   echo VPT-BEGIN-<nonce>; COMMAND; echo VPT-END-<nonce> rc=$?
// and returns what the guest printed between the two markers (stale output
// before the begin marker is skipped). Throws std::runtime_error "cannot run
// '<command>' in the guest through '<socket>': <reason>" when the socket
// refuses, the command has a line break, or the end marker does not come
// within `timeout`.
GuestReply run_guest_command(const std::string& socket_path, std::string_view command,
                             std::chrono::milliseconds timeout);

// ---- The probe's output -----------------------------------------------------

// Reads the probe's lines (protocol versions 1 and 2, guest/README.md); other
// lines (a shell's messages) are ignored, a known record that does not parse
// is named in `problems`. Every row gets `rounds` rounds. Never throws.
GuestProbeOutput parse_guest_probe_output(std::string_view text);

}  // namespace vpt
