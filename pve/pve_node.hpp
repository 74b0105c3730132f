// PveNode: where a Proxmox VE node keeps a VM's config, PID file, QMP socket,
// lock and snippets, and the few things vpt-tune asks a running VM.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace vpt {

struct PveNode {
  // Prefix of every path below: "" on a real node; $VPT_PVE_ROOT (a fake
  // node's tree) in tests.
  std::string root;

  std::string config_path(unsigned vmid) const;   // /etc/pve/qemu-server/VMID.conf
  std::string run_dir() const;                    // /var/run/qemu-server
  std::string pid_path(unsigned vmid) const;      // /var/run/qemu-server/VMID.pid
  std::string qmp_path(unsigned vmid) const;      // /var/run/qemu-server/VMID.qmp
  std::string lock_path(unsigned vmid) const;     // /var/lock/qemu-server/lock-VMID.conf
  std::string storage_cfg_path() const;           // /etc/pve/storage.cfg
};

// The node this runs on: root from $VPT_PVE_ROOT, else "".
PveNode this_pve_node();

// The directory of a storage's snippets: "local" is always
// /var/lib/vz/snippets (pve-storage forces it); another storage's "path" in
// storage.cfg + "/snippets" (or its content-dirs snippets= directory).
// Throws PveConfigError for an unknown storage or one without a path (LVM,
// ZFS pools, RBD cannot hold snippets).
std::string snippets_dir(const PveNode& node, const std::string& storage);

// The file behind a hookscript volume "STORAGE:snippets/FILE". Throws PveConfigError.
std::string snippet_path(const PveNode& node, const std::string& volume);

// The PID of VM `vmid`'s QEMU when it runs here: the PID file's process, if
// its command line names that PID file (or has "-id VMID"). nullopt otherwise.
std::optional<int> running_qemu_pid(const PveNode& node, unsigned vmid);

// One QMP command (after qmp_capabilities) on a VM's socket: its "return"
// value. QEMU serves one client at a time; this holds the socket for
// milliseconds. Throws std::runtime_error (no socket, an "error" reply, no
// answer within `timeout_ms`).
nlohmann::json qmp_command(const std::string& qmp_socket, const std::string& command, int timeout_ms = 3000);

// query-iothreads: (iothread id, thread id) pairs. Throws like qmp_command.
struct QmpIothread {
  std::string id;
  int thread_id = 0;
};
std::vector<QmpIothread> query_iothreads(const std::string& qmp_socket, int timeout_ms = 3000);

// Runs a hookscript as Proxmox does (`SCRIPT VMID PHASE`, no shell between),
// with `env` added to this process's environment; its output goes where
// ours goes. Returns its exit status (-1 when it did not exit normally).
// Throws std::runtime_error when it cannot be started.
int run_pve_hookscript(const std::string& script, unsigned vmid, const std::string& phase,
                       const std::vector<std::pair<std::string, std::string>>& env);

// Holds qemu-server's config lock (flock on lock-VMID.conf, as `qm set` takes
// it) while alive. Throws std::runtime_error when it is not free in 10 s.
class PveConfigLock {
 public:
  PveConfigLock(const PveNode& node, unsigned vmid);
  ~PveConfigLock();
  PveConfigLock(const PveConfigLock&) = delete;
  PveConfigLock& operator=(const PveConfigLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace vpt
