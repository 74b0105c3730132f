// The host side of the guest's command channel: a serial port that QEMU
// serves on a unix socket, with a shell loop on the guest side that runs each
// line it reads (tests/live/guest/init; shared notes live-vm.md).
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>
#include <pugixml.hpp>

#include "bench/guest_probe.hpp"
#include "common/unix_socket.hpp"

namespace vpt {

std::optional<std::string> guest_channel_path(std::string_view domain_xml) {
  pugi::xml_document doc;
  if (!doc.load_buffer(domain_xml.data(), domain_xml.size()))
    throw std::runtime_error("cannot read the domain XML: it does not parse");
  for (pugi::xml_node serial : doc.child("domain").child("devices").children("serial")) {
    if (std::string_view(serial.attribute("type").value()) != "unix") continue;
    if (std::string_view(serial.child("target").attribute("port").value()) != "1") continue;
    pugi::xml_node source = serial.child("source");
    // mode='connect' means QEMU is the client: nothing here to connect to.
    if (std::string_view(source.attribute("mode").value()) != "bind") continue;
    std::string path = source.attribute("path").value();
    if (!path.empty()) return path;
  }
  return std::nullopt;
}

namespace {

std::string nonce() {
  static std::atomic<unsigned> counter{0};
  auto t = std::chrono::steady_clock::now().time_since_epoch().count();
  return fmt::format("{}-{}-{:x}", ::getpid(), counter++, static_cast<unsigned long long>(t) & 0xffffff);
}

std::string tail_of(const std::string& s) {
  if (s.size() <= 120) return s;
  return "..." + s.substr(s.size() - 120);
}

}  // namespace

// What a guest may send for one command: qemu-ga caps guest-exec output at
// 16 MiB too; the probe's longest line (a round of samples) is a few KiB.
constexpr std::size_t kMaxGuestOutputBytes = 16u << 20;
constexpr std::size_t kMaxGuestLineBytes = 1u << 20;

GuestReply run_guest_command(const std::string& socket_path, std::string_view command,
                             std::chrono::milliseconds timeout) {
  auto fail = [&](const std::string& reason) {
    return std::runtime_error(
        fmt::format("cannot run '{}' in the guest through '{}': {}", command, socket_path, reason));
  };
  if (command.find('\n') != std::string_view::npos || command.find('\r') != std::string_view::npos)
    throw fail("the command has a line break (the channel takes one line)");
  UniqueFd fd;
  try {
    fd = connect_unix_socket(socket_path);
  } catch (const SocketError& e) {
    throw fail(e.what());
  }

  const std::string id = nonce();
  const std::string begin = "VPT-BEGIN-" + id;
  const std::string end = "VPT-END-" + id + " rc=";
  const std::string line = fmt::format("echo {}; {}; echo VPT-END-{} rc=$?\n", begin, command, id);
  for (std::size_t sent = 0; sent < line.size();) {
    ssize_t n = ::send(fd.get(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw fail(std::strerror(errno));
    sent += static_cast<std::size_t>(n);
  }

  // Lines are matched whole, so an echo of the command line (a tty that echoes)
  // never counts as a marker: it has "echo " before the begin marker and "$?"
  // where the end marker has digits.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string pending, output;
  std::size_t scanned = 0;  // bytes of `pending` already searched for '\n'
  bool begun = false;
  std::string received_tail;
  char buffer[8192];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      throw fail(fmt::format("no end marker within {} ms{}", timeout.count(),
                             received_tail.empty() ? std::string(" (nothing came back)")
                                                   : fmt::format(" (last output: '{}')", tail_of(received_tail))));
    pollfd p{fd.get(), POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw fail(std::strerror(errno));
    if (r == 0) continue;
    ssize_t n = ::recv(fd.get(), buffer, sizeof buffer, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) throw fail(std::strerror(errno));
    if (n == 0) throw fail("the guest closed the channel");
    pending.append(buffer, static_cast<std::size_t>(n));
    received_tail = tail_of(received_tail + std::string(buffer, static_cast<std::size_t>(n)));
    // A guest is untrusted: only new bytes are scanned, and what it may send is bounded.
    std::size_t line_start = 0;
    for (std::size_t nl; (nl = pending.find('\n', scanned)) != std::string::npos; scanned = line_start) {
      std::string l = pending.substr(line_start, nl - line_start);
      line_start = nl + 1;
      std::erase(l, '\r');
      if (!begun) {
        begun = l == begin;
        continue;
      }
      if (l.starts_with(end)) {
        std::string_view rc = std::string_view(l).substr(end.size());
        int code = 0;
        auto [last, ec] = std::from_chars(rc.data(), rc.data() + rc.size(), code);
        if (!rc.empty() && ec == std::errc() && last == rc.data() + rc.size()) return {std::move(output), code};
      }
      if (output.size() + l.size() + 1 > kMaxGuestOutputBytes)
        throw fail(fmt::format("the guest sent more than {} MiB before its end marker: stopped reading",
                               kMaxGuestOutputBytes >> 20));
      output += l;
      output += '\n';
    }
    pending.erase(0, line_start);
    scanned = pending.size();
    if (pending.size() > kMaxGuestLineBytes)
      throw fail(fmt::format("the guest sent a line longer than {} KiB: stopped reading", kMaxGuestLineBytes >> 10));
  }
}

}  // namespace vpt
