// The QEMU guest agent commands bench uses, as JSON over
// Hypervisor::agent_command. Command and reply shapes: QEMU's qemu-ga
// reference (qapi/qga), the subset every qemu-ga since 2.10 has.
#include "bench/guest_agent.hpp"

#include <array>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "common/text.hpp"

namespace vpt {

using nlohmann::json;

namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
// Raw bytes a guest-file-write carries: 64 KiB of base64 a command.
constexpr std::size_t kChunkBytes = 48 * 1024;

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const auto b0 = static_cast<unsigned char>(bytes[i]);
    const auto b1 = i + 1 < bytes.size() ? static_cast<unsigned char>(bytes[i + 1]) : 0u;
    const auto b2 = i + 2 < bytes.size() ? static_cast<unsigned char>(bytes[i + 2]) : 0u;
    const unsigned v = b0 << 16 | b1 << 8 | b2;
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += i + 1 < bytes.size() ? kAlphabet[v >> 6 & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::array<int, 256> value;
  value.fill(-1);
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) value[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int>(i);
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text[i + k];
      if (c == '=' && i + 4 == text.size() && k >= 2) {
        v[k] = 0;
        ++pad;
      } else if (pad > 0 || (v[k] = value[static_cast<unsigned char>(c)]) < 0) {
        return std::nullopt;
      }
    }
    const unsigned n = static_cast<unsigned>(v[0]) << 18 | static_cast<unsigned>(v[1]) << 12 |
                       static_cast<unsigned>(v[2]) << 6 | static_cast<unsigned>(v[3]);
    out += static_cast<char>(n >> 16 & 0xff);
    if (pad < 2) out += static_cast<char>(n >> 8 & 0xff);
    if (pad < 1) out += static_cast<char>(n & 0xff);
  }
  return out;
}

std::string GuestOsInfo::shown() const {
  if (!pretty_name.empty()) return pretty_name;
  if (windows()) return "Windows";
  return kernel_release.empty() ? std::string("Linux") : "Linux " + kernel_release;
}

GuestAgent::GuestAgent(Hypervisor& connection, std::string domain, std::chrono::seconds timeout)
    : connection_(connection), domain_(std::move(domain)), timeout_(timeout) {}

std::string GuestAgent::call(std::string_view name, const std::string& arguments_json) {
  json command = {{"execute", name}};
  if (!arguments_json.empty()) command["arguments"] = json::parse(arguments_json);
  const std::string reply_text = connection_.agent_command(domain_, command.dump(), timeout_);
  json reply = json::parse(reply_text, nullptr, /*allow_exceptions=*/false);
  auto fail = [&](const std::string& why) {
    return AgentError(AgentError::Kind::CommandFailed,
                      fmt::format("cannot run guest agent command '{}' in domain '{}': {}", name, domain_, why));
  };
  if (!reply.is_object()) throw fail("the reply is not JSON");
  if (auto e = reply.find("error"); e != reply.end())
    throw fail(e->is_object() && e->contains("desc") && (*e)["desc"].is_string() ? (*e)["desc"].get<std::string>()
                                                                                 : e->dump());
  auto r = reply.find("return");
  if (r == reply.end()) throw fail("the reply has no \"return\"");
  return r->dump();
}

void GuestAgent::ping() { call("guest-ping"); }

AgentInfo GuestAgent::info() {
  json r = json::parse(call("guest-info"));
  AgentInfo info;
  if (r.contains("version") && r["version"].is_string()) info.version = r["version"];
  if (r.contains("supported_commands") && r["supported_commands"].is_array())
    for (const json& c : r["supported_commands"]) {
      if (!c.is_object() || !c.contains("name") || !c["name"].is_string()) continue;
      bool enabled = !c.contains("enabled") || !c["enabled"].is_boolean() || c["enabled"].get<bool>();
      (enabled ? info.enabled : info.disabled).push_back(c["name"].get<std::string>());
    }
  return info;
}

GuestOsInfo GuestAgent::osinfo() {
  json r = json::parse(call("guest-get-osinfo"));
  auto text = [&](const char* key) {  // the guest's words: never raw to a terminal
    return r.contains(key) && r[key].is_string() ? printable(r[key].get<std::string>(), 100) : std::string();
  };
  return {text("id"), text("pretty-name"), text("kernel-release"), text("machine")};
}

void GuestAgent::write_file(const std::string& path, std::string_view bytes) {
  json handle = json::parse(call("guest-file-open", json({{"path", path}, {"mode", "wb"}}).dump()));
  if (!handle.is_number_integer())
    throw AgentError(AgentError::Kind::CommandFailed,
                     fmt::format("cannot open '{}' in domain '{}': the agent returned no file handle", path, domain_));
  try {
    for (std::size_t at = 0; at < bytes.size(); at += kChunkBytes) {
      std::string_view chunk = bytes.substr(at, kChunkBytes);
      json written = json::parse(
          call("guest-file-write", json({{"handle", handle}, {"buf-b64", base64_encode(chunk)}}).dump()));
      if (!written.is_object() || !written.contains("count") || written["count"] != chunk.size())
        throw AgentError(AgentError::Kind::CommandFailed,
                         fmt::format("cannot write '{}' in domain '{}': the agent wrote {} of {} bytes", path,
                                     domain_,
                                     written.is_object() && written.contains("count") && written["count"].is_number()
                                         ? written["count"].dump()
                                         : std::string("an unreadable count"),
                                     chunk.size()));
    }
  } catch (...) {
    try {
      call("guest-file-close", json({{"handle", handle}}).dump());
    } catch (const AgentError&) {
    }
    throw;
  }
  call("guest-file-close", json({{"handle", handle}}).dump());
}

std::int64_t GuestAgent::exec(const std::string& path, const std::vector<std::string>& args) {
  json r = json::parse(call("guest-exec", json({{"path", path}, {"arg", args}, {"capture-output", true}}).dump()));
  if (!r.is_object() || !r.contains("pid") || !r["pid"].is_number_integer())
    throw AgentError(AgentError::Kind::CommandFailed,
                     fmt::format("cannot run '{}' in domain '{}': the agent returned no pid", path, domain_));
  return r["pid"].get<std::int64_t>();
}

ExecStatus GuestAgent::exec_status(std::int64_t pid) {
  json r = json::parse(call("guest-exec-status", json({{"pid", pid}}).dump()));
  ExecStatus s;
  if (!r.is_object()) return s;
  // A reply from the guest is untrusted: a field of another type is the agent's error, not an abort.
  auto flag = [&](const char* key) {
    if (!r.contains(key)) return false;
    if (!r[key].is_boolean())
      throw AgentError(AgentError::Kind::CommandFailed,
                       fmt::format("cannot read guest-exec-status in domain '{}': its \"{}\" is {}, not true or false",
                                   domain_, key, r[key].type_name()));
    return r[key].get<bool>();
  };
  s.exited = flag("exited");
  if (r.contains("exitcode") && r["exitcode"].is_number_integer()) s.exit_code = r["exitcode"].get<int>();
  if (r.contains("signal") && r["signal"].is_number_integer()) s.signal = r["signal"].get<int>();
  for (auto [key, into] : {std::pair{"out-data", &s.out}, std::pair{"err-data", &s.err}})
    if (r.contains(key) && r[key].is_string()) *into = base64_decode(r[key].get<std::string>()).value_or("");
  s.truncated = flag("out-truncated") || flag("err-truncated");
  return s;
}

std::optional<std::string> agent_channel_state(std::string_view domain_xml) {
  pugi::xml_document doc;
  if (!doc.load_buffer(domain_xml.data(), domain_xml.size()))
    throw std::runtime_error("cannot read the domain XML: it does not parse");
  for (pugi::xml_node channel : doc.child("domain").child("devices").children("channel")) {
    pugi::xml_node target = channel.child("target");
    if (std::string_view(target.attribute("type").value()) == "virtio" &&
        std::string_view(target.attribute("name").value()) == "org.qemu.guest_agent.0")
      return std::string(target.attribute("state").value());
  }
  return std::nullopt;
}

}  // namespace vpt
