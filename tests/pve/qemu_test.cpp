// A real QEMU started the way qemu-server starts a VM (src/PVE/QemuServer.pm
// config_to_command, quoted in docs/proxmox-notes.md): under `taskset
// --cpu-list --all-tasks <affinity>`, "-name NAME,debug-threads=on", a QMP
// socket and -pidfile in the run directory, -daemonize, qemu-server's -smp
// followed by the args: line, an iothread object per iothread=1 disk. The
// generated hookscript pins it; every thread is checked in /proc by this test.
// Then bench --vmid and suggest --apply --live on a fake node, the VM killed
// by its PID, and the hookscript's post-stop and post-start on a VM that is gone.
#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "probe/probe.hpp"
#include "pve/hookscript.hpp"
#include "pve/pve_config.hpp"
#include "pve/pve_node.hpp"
#include "tests/pve/pve_test_util.hpp"

namespace vpt {
namespace {

namespace fs = std::filesystem;
using test::read_file;
using test::TempDir;
using test::write_file;

constexpr unsigned kVmid = 9101;

// The thread ids of `pid` with their names and Cpus_allowed_list, read here.
struct ProcThread {
  int tid = 0;
  std::string comm;
  CpuSet allowed;
};

std::vector<ProcThread> proc_threads(int pid) {
  std::vector<ProcThread> out;
  for (const auto& entry : fs::directory_iterator(fmt::format("/proc/{}/task", pid))) {
    ProcThread t;
    t.tid = std::stoi(entry.path().filename().string());
    t.comm = read_file((entry.path() / "comm").string());
    while (!t.comm.empty() && t.comm.back() == '\n') t.comm.pop_back();
    std::istringstream status(read_file((entry.path() / "status").string()));
    for (std::string line; std::getline(status, line);)
      if (line.starts_with("Cpus_allowed_list:")) t.allowed = CpuSet::parse(line.substr(18));
    out.push_back(t);
  }
  return out;
}

bool have(const char* program) { return std::system(fmt::format("command -v {} >/dev/null 2>&1", program).c_str()) == 0; }

// Runs argv (no shell), stdout and stderr to `log`; returns the exit status.
int run_program(const std::vector<std::string>& argv, const std::string& log) {
  pid_t child = ::fork();
  if (child == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class QemuStartedLikeProxmox : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* program : {"qemu-system-x86_64", "taskset", "socat"})
      if (!have(program)) GTEST_SKIP() << program << " is not installed (scripts/install-deps.sh installs it)";
    cpu_set_t mask;
    CPU_ZERO(&mask);
    ASSERT_EQ(::sched_getaffinity(0, sizeof mask, &mask), 0);
    if (!CPU_ISSET(0, &mask) || !CPU_ISSET(1, &mask)) GTEST_SKIP() << "needs CPUs 0 and 1";
    for (const char* dir : {"etc/pve/qemu-server", "var/run/qemu-server", "var/lib/vz/snippets"})
      fs::create_directories(dir_.path() / "root" / dir);
    node_.root = dir_ / "root";
  }

  void TearDown() override {
    for (int pid : more_pids_)
      if (pid > 0) ::kill(pid, SIGTERM);
    for (int pid : more_pids_)
      for (int i = 0; i < 50 && pid > 0 && fs::exists(fmt::format("/proc/{}", pid)); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    for (int pid : more_pids_)
      if (pid > 0) ::kill(pid, SIGKILL);
    if (pid_ > 0 && ::kill(pid_, SIGTERM) == 0) {  // only the QEMU this test started, by its PID
      for (int i = 0; i < 50 && fs::exists(fmt::format("/proc/{}", pid_)); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      ::kill(pid_, SIGKILL);
    }
  }

  // The command line qemu-server builds from `config` for the parts that
  // matter here (QemuServer.pm config_to_command), with a null disk.
  std::vector<std::string> proxmox_command(const PveConfig& config, unsigned vmid = kVmid) {
    std::vector<std::string> cmd;
    if (config.affinity) cmd = {"taskset", "--cpu-list", "--all-tasks", config.affinity->to_string()};
    const std::string run = node_.run_dir();
    std::vector<std::string> qemu = {
        "qemu-system-x86_64", "-name", config.name + ",debug-threads=on", "-no-shutdown",
        "-chardev", fmt::format("socket,id=qmp,path={}/{}.qmp,server=on,wait=off", run, vmid),
        "-mon", "chardev=qmp,mode=control", "-pidfile", node_.pid_path(vmid), "-daemonize",
        "-smp", fmt::format("{0},sockets={1},cores={2},maxcpus={0}", config.vcpus(), config.sockets, config.cores),
        "-nodefaults", "-display", "none", "-m", std::to_string(config.memory_mib)};
    cmd.insert(cmd.end(), qemu.begin(), qemu.end());
    // KVM when this host has it, TCG otherwise (QEMU tries them in order).
    if (::access("/dev/kvm", R_OK | W_OK) == 0) cmd.insert(cmd.end(), {"-accel", "kvm"});
    cmd.insert(cmd.end(), {"-accel", "tcg"});
    for (const std::string& id : config.iothread_ids) {
      std::string disk = id.substr(std::string("iothread-").size());
      cmd.insert(cmd.end(), {"-object", "iothread,id=" + id, "-blockdev",
                             fmt::format("driver=null-co,node-name=drive-{},size=1048576", disk), "-device",
                             fmt::format("virtio-blk-pci,drive=drive-{0},id={0},iothread={1}", disk, id)});
    }
    for (const ArgsWord& word : split_pve_args(config.args)) cmd.push_back(word.text);
    return cmd;
  }

  // Another VM of the node, started as qemu-server starts it; stopped by TearDown.
  int start_other(const PveConfig& config, unsigned vmid) {
    int status = run_program(proxmox_command(config, vmid), dir_ / "qemu.log");
    EXPECT_EQ(status, 0) << read_file(dir_ / "qemu.log");
    if (status != 0) return -1;
    more_pids_.push_back(std::stoi(read_file(node_.pid_path(vmid))));
    return more_pids_.back();
  }

  int start(const PveConfig& config) {
    int status = run_program(proxmox_command(config), dir_ / "qemu.log");
    EXPECT_EQ(status, 0) << read_file(dir_ / "qemu.log");
    if (status != 0) return -1;
    pid_ = std::stoi(read_file(node_.pid_path(kVmid)));
    return pid_;
  }

  int hook(const std::string& phase, const std::string& wait_s = "20") {
    return run_program({"env", "VPT_PVE_RUN_DIR=" + node_.run_dir(), "VPT_PVE_WAIT_S=" + wait_s, script_,
                        std::to_string(kVmid), phase},
                       dir_ / "hook.log");
  }

  int vpt(const std::string& args) {
    return std::system(fmt::format("VPT_PVE_ROOT='{}' VPT_TUNE_BACKUP_DIR='{}' '{}' {} >'{}' 2>&1", node_.root,
                                   dir_ / "backups", VPT_TUNE_BINARY, args, dir_ / "vpt.log")
                           .c_str());
  }

  TempDir dir_;
  PveNode node_;
  std::string script_;
  int pid_ = 0;
  std::vector<int> more_pids_;
};

TEST_F(QemuStartedLikeProxmox, HookscriptPinsEveryThreadAndBenchChecksThem) {
  // A 4-vCPU VM with one iothread disk; the plan, by hand for CPUs 0-1: vCPU
  // i on CPU i % 2 (SMT pairs 0+1 and 2+3 as the guest sees them), the
  // I/O thread on CPU 0, every other thread on CPU 1.
  const std::string original =
      "cores: 4\nmemory: 128\nname: vpt-proxmox-test\nscsihw: virtio-scsi-pci\nsockets: 1\n"
      "virtio0: local:9101/vm-9101-disk-0.raw,iothread=1,size=1M\n";
  PveConfig config = parse_pve_config(original, node_.config_path(kVmid));
  GuestPlan plan = test::hand_plan({0, 1, 0, 1}, {1}, {{0}}, {1, 1, 2, 2});
  const std::string volume = fmt::format("local:snippets/vpt-tune-{}.sh", kVmid);
  PvePatch patch = patch_pve_config(config, plan, probe_live_host(), {volume, std::nullopt});
  write_file(node_.config_path(kVmid), patch.text);
  script_ = snippet_path(node_, volume);
  write_file(script_, pve_hookscript(make_pve_hook_plan(kVmid, config, plan, {}, false)));
  ::chmod(script_.c_str(), 0755);
  const PveConfig patched = parse_pve_config(patch.text, node_.config_path(kVmid));
  ASSERT_EQ(patched.args, "-smp 4,sockets=1,dies=1,cores=2,threads=2,maxcpus=4");
  ASSERT_EQ(patched.affinity, CpuSet::range(0, 1));

  EXPECT_EQ(hook("pre-start"), 0) << read_file(dir_ / "hook.log");
  const int pid = start(patched);
  ASSERT_GT(pid, 0);

  // taskset --all-tasks: every thread starts on the affinity's CPUs.
  std::vector<ProcThread> threads = proc_threads(pid);
  int vcpus = 0;
  for (const ProcThread& t : threads) {
    EXPECT_EQ(t.allowed, CpuSet::range(0, 1)) << t.tid << " " << t.comm;
    vcpus += t.comm.starts_with("CPU ") && (t.comm.ends_with("/TCG") || t.comm.ends_with("/KVM"));
  }
  EXPECT_EQ(vcpus, 4);

  // The args: -smp won over qemu-server's: cpu-index i is core i/2, thread i%2.
  nlohmann::json cpus = qmp_command(node_.qmp_path(kVmid), "query-cpus-fast");
  ASSERT_EQ(cpus.size(), 4u);
  for (const auto& cpu : cpus) {
    int index = cpu["cpu-index"].get<int>();
    EXPECT_EQ(cpu["props"]["socket-id"], 0) << cpu.dump();
    EXPECT_EQ(cpu["props"]["core-id"], index / 2) << cpu.dump();
    EXPECT_EQ(cpu["props"]["thread-id"], index % 2) << cpu.dump();
  }
  // qemu-server's iothread id is longer than a thread name holds: QEMU could not name the thread.
  std::vector<QmpIothread> io = query_iothreads(node_.qmp_path(kVmid));
  ASSERT_EQ(io.size(), 1u);
  EXPECT_EQ(io[0].id, "iothread-virtio0");
  const int io_tid = io[0].thread_id;
  for (const ProcThread& t : threads) {
    if (t.tid == io_tid) {
      EXPECT_FALSE(t.comm.starts_with("IO ")) << t.comm;
    }
  }

  auto expect_planned_pins = [&] {
    for (const ProcThread& t : proc_threads(pid)) {
      CpuSet want{1};
      if (t.comm.starts_with("CPU ")) want = CpuSet{static_cast<unsigned>(std::stoi(t.comm.substr(4)) % 2)};
      if (t.tid == io_tid) want = CpuSet{0};
      EXPECT_EQ(t.allowed, want) << "thread " << t.tid << " '" << t.comm << "'";
    }
  };
  EXPECT_EQ(hook("post-start"), 0);
  const std::string log = read_file(dir_ / "hook.log");
  EXPECT_NE(log.find("4 vCPU thread(s)"), std::string::npos) << log;
  EXPECT_NE(log.find("1 I/O thread(s)"), std::string::npos) << log;
  EXPECT_NE(log.find("(all as planned)"), std::string::npos) << log;
  expect_planned_pins();
  EXPECT_EQ(hook("post-start"), 0);  // again: the same result
  expect_planned_pins();

  // bench --vmid finds the process by its PID file and checks every thread against the hookscript's plan.
  ASSERT_EQ(vpt(fmt::format("bench --vmid {} --quick --save '{}'", kVmid, dir_ / "bench.json")), 0)
      << read_file(dir_ / "vpt.log");
  nlohmann::json results = nlohmann::json::parse(read_file(dir_ / "bench.json"));
  const auto& domain = results["domain"];
  EXPECT_EQ(domain["qemu_pid"], pid);
  std::map<std::string, int> kinds;
  for (const auto& t : domain["threads"]) {
    kinds[t["kind"].get<std::string>()]++;
    EXPECT_EQ(t["matches"], true) << t.dump();
  }
  EXPECT_EQ(kinds["vcpu"], 4);
  EXPECT_EQ(kinds["iothread"], 1);

  // suggest --apply --live with the optimizer's own plan for 2 vCPUs on this 2-CPU host: the
  // running QEMU has 4, so it cannot be the plan's (issue 21): nothing is re-pinned, the threads
  // keep the first plan's pins, and the change waits in [PENDING] for the next start, so the
  // config's current section still describes the running QEMU.
  ASSERT_EQ(vpt(fmt::format("suggest --vmid {} --vcpus 2 --reserve 0 --apply --live", kVmid)), 0)
      << read_file(dir_ / "vpt.log");
  EXPECT_NE(read_file(dir_ / "vpt.log").find("runs 4 vCPUs, the plan has 2: nothing pinned now"), std::string::npos)
      << read_file(dir_ / "vpt.log");
  ASSERT_EQ(vpt(fmt::format("bench --vmid {} --quick --save '{}'", kVmid, dir_ / "bench2.json")), 0)
      << read_file(dir_ / "vpt.log");
  const PveConfig after = parse_pve_config(read_file(node_.config_path(kVmid)), "x");
  EXPECT_EQ(after.vcpus(), 2u);  // the next start's
  EXPECT_NE(std::find(after.pending_keys.begin(), after.pending_keys.end(), "cores"), after.pending_keys.end());
  EXPECT_EQ(parse_pve_config(read_file(node_.config_path(kVmid)).substr(0, read_file(node_.config_path(kVmid)).find("[PENDING]")), "x").vcpus(), 4u);

  // The VM stops: QEMU killed by its PID; post-stop, then post-start on a VM that is gone.
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  for (int i = 0; i < 100 && fs::exists(fmt::format("/proc/{}", pid)); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_FALSE(fs::exists(fmt::format("/proc/{}", pid)));
  pid_ = 0;
  EXPECT_EQ(hook("post-stop"), 0);
  EXPECT_EQ(hook("post-start", "1"), 0);
  EXPECT_NE(read_file(dir_ / "hook.log").find("no running QEMU of VM 9101"), std::string::npos)
      << read_file(dir_ / "hook.log");
}

// A node of five VMs and a container (suggest --all-vmids --apply --live):
// 9101 passes a device through and runs (dedicated: its hookscript's
// post-start pins it now), 9102 runs without one (shared: every thread moves
// to the pool now), 9103 has a pending change, 9104 is HA-managed, 9105 is a
// template (skipped); the container is not a VM. Planned for this host
// (CPUs 0 and 1, --reserve 0). What the test checks comes from the written
// configs (read with the config parser) and /proc, never from vpt-tune's text.
TEST_F(QemuStartedLikeProxmox, WholeNodeApplyRepinsTheRunningVms) {
  auto conf_path = [&](unsigned vmid) { return node_.config_path(vmid); };
  const std::map<unsigned, std::string> configs = {
      {9101, "cores: 1\nhostpci0: 0000:01:00.0,pcie=1\nmemory: 64\nname: vpt-dedicated\nsockets: 1\n"},
      {9102, "cores: 1\nmemory: 64\nname: vpt-shared\nsockets: 1\n"},
      {9103, "cores: 1\nmemory: 64\nname: vpt-pending\nsockets: 1\n\n[PENDING]\nmemory: 96\n"},
      {9104, "cores: 1\nmemory: 64\nname: vpt-ha\nsockets: 1\n"},
      {9105, "cores: 1\nmemory: 64\nname: vpt-template\nsockets: 1\ntemplate: 1\n"}};
  for (const auto& [vmid, text] : configs) write_file(conf_path(vmid), text);
  fs::create_directories(node_.root + "/etc/pve/ha");
  write_file(node_.root + "/etc/pve/ha/resources.cfg", "vm: 9104\n\tstate started\n");
  fs::create_directories(node_.root + "/etc/pve/lxc");
  write_file(node_.root + "/etc/pve/lxc/200.conf", "arch: amd64\ncores: 1\nhostname: ct\nmemory: 512\n");

  const int dedicated = start_other(parse_pve_config(configs.at(9101), "9101"), 9101);
  const int shared = start_other(parse_pve_config(configs.at(9102), "9102"), 9102);
  ASSERT_GT(dedicated, 0);
  ASSERT_GT(shared, 0);

  ASSERT_EQ(vpt("suggest --all-vmids --reserve 0 --apply --live"), 0) << read_file(dir_ / "vpt.log");
  const std::string log = read_file(dir_ / "vpt.log");
  EXPECT_NE(log.find("skipped: VM 9105: a template"), std::string::npos) << log;

  // Running VMs keep a current section that describes the QEMU that runs; the
  // plan is in [PENDING] (the hookscript line is current: it acts at the next start).
  auto current = [&](unsigned vmid) {
    const std::string text = read_file(conf_path(vmid));
    return parse_pve_config(text.substr(0, text.find("\n[")), "current");
  };
  auto pending_affinity = [&](unsigned vmid) -> std::optional<CpuSet> {
    const std::string text = read_file(conf_path(vmid));
    const std::size_t at = text.find("[PENDING]");
    if (at == std::string::npos) return std::nullopt;
    return parse_pve_config(text.substr(at + 10), "pending").affinity;
  };
  EXPECT_FALSE(current(9101).affinity);
  EXPECT_FALSE(current(9102).affinity);
  const std::optional<CpuSet> pool = pending_affinity(9102);
  ASSERT_TRUE(pool) << read_file(conf_path(9102));
  // The shared VM's every thread runs on its pool now, as /proc shows.
  for (const ProcThread& t : proc_threads(shared)) EXPECT_EQ(t.allowed, *pool) << t.tid << " " << t.comm;
  // The dedicated VM's vCPU runs on the CPU its hookscript names, its other threads elsewhere in the plan.
  const PveHookPlan hook = read_pve_hookscript(read_file(node_.root + "/var/lib/vz/snippets/vpt-tune-9101.sh"), "9101");
  ASSERT_EQ(hook.vcpus.size(), 1u);
  EXPECT_FALSE(pool->contains(hook.vcpus[0]));  // the pool is off the dedicated vCPU
  for (const ProcThread& t : proc_threads(dedicated)) {
    if (t.comm.starts_with("CPU 0/")) {
      EXPECT_EQ(t.allowed, CpuSet{hook.vcpus[0]}) << t.comm;
    } else {
      EXPECT_EQ(t.allowed, hook.emulator) << t.tid << " " << t.comm;
    }
  }
  // The VMs that do not run got their plan in the config itself; the pending change stays.
  EXPECT_EQ(parse_pve_config(read_file(conf_path(9104)), "9104").affinity, pool);
  EXPECT_NE(read_file(conf_path(9103)).find("[PENDING]\nmemory: 96"), std::string::npos) << read_file(conf_path(9103));
  EXPECT_EQ(read_file(conf_path(9105)), configs.at(9105));
  EXPECT_EQ(read_file(node_.root + "/etc/pve/lxc/200.conf"), "arch: amd64\ncores: 1\nhostname: ct\nmemory: 512\n");

  // restore --all: every config as it was.
  ASSERT_EQ(vpt("restore --all"), 0) << read_file(dir_ / "vpt.log");
  for (const auto& [vmid, text] : configs) EXPECT_EQ(read_file(conf_path(vmid)), text) << vmid;
}

}  // namespace
}  // namespace vpt
