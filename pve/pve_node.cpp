#include "pve/pve_node.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/input_file.hpp"
#include "common/unix_socket.hpp"
#include "pve/pve_config.hpp"

namespace vpt {

namespace fs = std::filesystem;

namespace {

// Reads lines from a connected socket until `done` accepts one.
class LineReader {
 public:
  LineReader(int fd, std::chrono::steady_clock::time_point deadline) : fd_(fd), deadline_(deadline) {}

  std::string next(const std::string& socket) {
    for (;;) {
      if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      int ready = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) throw std::runtime_error(fmt::format("cannot query QMP socket '{}': no answer in time", socket));
      char chunk[4096];
      ssize_t n = ::read(fd_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw std::runtime_error(fmt::format("cannot query QMP socket '{}': QEMU closed it", socket));
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_;
  std::chrono::steady_clock::time_point deadline_;
  std::string buffer_;
};

}  // namespace

std::string PveNode::config_path(unsigned vmid) const { return fmt::format("{}/etc/pve/qemu-server/{}.conf", root, vmid); }
std::string PveNode::run_dir() const { return root + "/var/run/qemu-server"; }
std::string PveNode::pid_path(unsigned vmid) const { return fmt::format("{}/{}.pid", run_dir(), vmid); }
std::string PveNode::qmp_path(unsigned vmid) const { return fmt::format("{}/{}.qmp", run_dir(), vmid); }
std::string PveNode::lock_path(unsigned vmid) const {
  return fmt::format("{}/var/lock/qemu-server/lock-{}.conf", root, vmid);
}
std::string PveNode::storage_cfg_path() const { return root + "/etc/pve/storage.cfg"; }

PveNode this_pve_node() {
  PveNode node;
  if (const char* root = std::getenv("VPT_PVE_ROOT"); root && *root) node.root = root;
  while (!node.root.empty() && node.root.back() == '/') node.root.pop_back();
  return node;
}

std::string snippets_dir(const PveNode& node, const std::string& storage) {
  // pve-storage forces 'local' to be a dir storage at /var/lib/vz (Plugin.pm parse_config).
  if (storage == "local") return node.root + "/var/lib/vz/snippets";
  const std::string cfg_path = node.storage_cfg_path();
  auto cfg = read_whole_file(cfg_path);
  if (!cfg) throw PveConfigError(fmt::format("cannot find storage '{}': there is no {}", storage, cfg_path));
  // "TYPE: NAME" starts a storage, indented "key value" lines describe it.
  std::istringstream lines(*cfg);
  bool in_storage = false, found = false;
  std::string path, subdir = "snippets";
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    if (line[0] != ' ' && line[0] != '\t') {
      auto colon = line.find(':');
      std::string name = colon == std::string::npos ? "" : line.substr(colon + 1);
      name.erase(0, name.find_first_not_of(" \t"));
      name.erase(name.find_last_not_of(" \t\r") + 1);
      in_storage = name == storage;
      found |= in_storage;
      continue;
    }
    if (!in_storage) continue;
    std::istringstream words(line);
    std::string key, value;
    words >> key >> value;
    if (key == "path") path = value;
    if (key == "content-dirs") {  // "snippets=dir,iso=dir2": Plugin.pm get_subdir
      std::istringstream dirs(value);
      for (std::string item; std::getline(dirs, item, ',');)
        if (item.starts_with("snippets=")) subdir = item.substr(9);
    }
  }
  if (!found) throw PveConfigError(fmt::format("cannot find storage '{}' in {}", storage, cfg_path));
  if (path.empty())
    throw PveConfigError(fmt::format("cannot keep snippets on storage '{}': it has no directory (give a 'dir', NFS or "
                                     "CIFS storage with --snippets-storage)",
                                     storage));
  return node.root + path + "/" + subdir;
}

std::string snippet_path(const PveNode& node, const std::string& volume) {
  auto colon = volume.find(':');
  const std::string prefix = "snippets/";
  if (colon == std::string::npos || volume.compare(colon + 1, prefix.size(), prefix) != 0 ||
      volume.size() == colon + 1 + prefix.size() || volume.find('/', colon + 1 + prefix.size()) != std::string::npos)
    throw PveConfigError(fmt::format("cannot find hookscript '{}': expected STORAGE:snippets/FILE", volume));
  return snippets_dir(node, volume.substr(0, colon)) + "/" + volume.substr(colon + 1 + prefix.size());
}

std::optional<int> running_qemu_pid(const PveNode& node, unsigned vmid) {
  auto text = read_whole_file(node.pid_path(vmid));
  if (!text) return std::nullopt;
  int pid = 0;
  try {
    std::size_t used = 0;
    pid = std::stoi(*text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  auto cmdline = read_whole_file(fmt::format("/proc/{}/cmdline", pid));
  if (pid <= 0 || !cmdline) return std::nullopt;
  std::vector<std::string> args;
  std::istringstream in(*cmdline);
  for (std::string arg; std::getline(in, arg, '\0');) args.push_back(arg);
  for (std::size_t i = 0; i < args.size(); ++i)
    if (args[i] == node.pid_path(vmid) || (i > 0 && args[i - 1] == "-id" && args[i] == std::to_string(vmid)))
      return pid;
  return std::nullopt;
}

nlohmann::json qmp_command(const std::string& qmp_socket, const std::string& command, int timeout_ms) {
  UniqueFd socket;
  try {
    socket = connect_unix_socket(qmp_socket);
  } catch (const SocketError& e) {
    throw std::runtime_error(fmt::format("cannot query QMP socket '{}': {}", qmp_socket, e.what()));
  }
  const int fd = socket.get();
  LineReader reader(fd, std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms));
  // A reply is the line with "return" (or "error"); events may come between.
  auto call = [&](const std::string& name) {
    std::string request = fmt::format("{{\"execute\":\"{}\"}}\n", name);
    if (::write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size()))
      throw std::runtime_error(fmt::format("cannot query QMP socket '{}': {}", qmp_socket, std::strerror(errno)));
    for (;;) {
      auto reply = nlohmann::json::parse(reader.next(qmp_socket), nullptr, /*allow_exceptions=*/false);
      if (reply.is_object() && reply.contains("error"))
        throw std::runtime_error(fmt::format("cannot query QMP socket '{}': {} failed: {}", qmp_socket, name,
                                             reply["error"].value("desc", "unknown error")));
      if (reply.is_object() && reply.contains("return")) return reply["return"];
    }
  };
  reader.next(qmp_socket);  // the greeting
  call("qmp_capabilities");
  return call(command);
}

std::vector<QmpIothread> query_iothreads(const std::string& qmp_socket, int timeout_ms) {
  std::vector<QmpIothread> threads;
  for (const auto& t : qmp_command(qmp_socket, "query-iothreads", timeout_ms))
    if (t.is_object() && t.contains("id") && t.contains("thread-id") && t["id"].is_string() &&
        t["thread-id"].is_number_integer())
      threads.push_back({t["id"].get<std::string>(), t["thread-id"].get<int>()});
  return threads;
}

int run_pve_hookscript(const std::string& script, unsigned vmid, const std::string& phase,
                       const std::vector<std::pair<std::string, std::string>>& env) {
  std::vector<std::string> environment;
  for (char** e = environ; *e; ++e) {
    std::string entry = *e;
    bool replaced = false;
    for (const auto& [name, value] : env) replaced |= entry.starts_with(name + "=");
    if (!replaced) environment.push_back(entry);
  }
  for (const auto& [name, value] : env) environment.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (std::string& e : environment) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string id = std::to_string(vmid), ph = phase, path = script;
  char* argv[] = {path.data(), id.data(), ph.data(), nullptr};
  pid_t child = 0;
  if (int err = ::posix_spawn(&child, script.c_str(), nullptr, nullptr, argv, envp.data()); err != 0)
    throw std::runtime_error(fmt::format("cannot run hookscript '{}': {}", script, std::strerror(err)));
  int status = 0;
  while (::waitpid(child, &status, 0) < 0)
    if (errno != EINTR) throw std::runtime_error(fmt::format("cannot wait for hookscript '{}': {}", script, std::strerror(errno)));
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

PveConfigLock::PveConfigLock(const PveNode& node, unsigned vmid) {
  const std::string path = node.lock_path(vmid);
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::runtime_error(fmt::format("cannot lock VM {}: cannot open '{}': {}", vmid, path, std::strerror(errno)));
  // qemu-server waits 10 s for this lock too (AbstractConfig lock_config).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      int err = errno;
      ::close(fd_);
      throw std::runtime_error(fmt::format("cannot lock VM {} ('{}'): {}", vmid, path, std::strerror(err)));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::close(fd_);
      throw std::runtime_error(fmt::format("cannot lock VM {}: '{}' is held by another task (qm, the web UI?) for "
                                           "more than 10 s; try again when it is done",
                                           vmid, path));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

PveConfigLock::~PveConfigLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace vpt
