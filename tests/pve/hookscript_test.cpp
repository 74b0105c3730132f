// The Proxmox hookscript as a shell script: POSIX syntax (dash, busybox,
// shellcheck), the plan read back, and every phase run on a fake node
// (online CPUs, systemd and the PID file are files the test writes).
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "pve/hookscript.hpp"
#include "tests/pve/pve_test_util.hpp"

namespace vpt {
namespace {

using test::read_file;
using test::TempDir;
using test::write_file;

PveHookPlan sample_plan(unsigned vmid = 101, bool confine = false, CpuSet host = CpuSet::range(16, 27)) {
  PveHookPlan plan;
  plan.vmid = vmid;
  plan.vm_name = "win11 'gaming'\n";  // quotes and a newline must not break the script
  for (unsigned cpu = 0; cpu < 8; ++cpu) plan.vcpus.push_back(cpu);
  plan.emulator = {16};
  plan.iothread_ids = {"iothread-virtioscsi0", "iothread-virtio1"};
  plan.iothreads = {{17}, {18, 19}};
  plan.host = host;
  plan.confine_host = confine;
  return plan;
}

struct ScriptRun {
  int exit_code = -1;
  std::string err;
  double seconds = 0;
};

class HookscriptOnFakeNode : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_ / "run");
    std::filesystem::create_directories(dir_ / "systemd");
    write_file(dir_ / "online", "0-27\n");
    // A systemctl that records its arguments.
    write_file(dir_ / "systemctl", "#!/bin/sh\necho \"$*\" >> \"$(dirname \"$0\")/systemctl.log\"\n");
    ::chmod((dir_ / "systemctl").c_str(), 0755);
  }

  std::string install(const PveHookPlan& plan, const std::string& name = "hook.sh") {
    std::string path = dir_ / name;
    write_file(path, pve_hookscript(plan));
    ::chmod(path.c_str(), 0755);
    return path;
  }

  ScriptRun run(const std::string& script, const std::string& args, const std::string& extra_env = "") {
    std::string command = fmt::format(
        "VPT_PVE_RUN_DIR='{0}/run' VPT_STATE_DIR='{0}/state' VPT_ONLINE_CPUS='{0}/online' VPT_SYSTEMD_RUN='{0}/systemd' "
        "VPT_SYSTEMCTL='{0}/systemctl' VPT_PVE_WAIT_S=1 {1} '{2}' {3} 2>'{0}/err' >/dev/null",
        dir_.path().string(), extra_env, script, args);
    auto start = std::chrono::steady_clock::now();
    int status = std::system(command.c_str());
    ScriptRun r;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.err = read_file(dir_ / "err");
    return r;
  }

  std::string systemctl_log() { return read_file(dir_ / "systemctl.log"); }

  TempDir dir_;
};

TEST(Hookscript, IsPosixShell) {
  TempDir dir;
  write_file(dir / "hook.sh", pve_hookscript(sample_plan(101, true)));
  EXPECT_EQ(std::system(fmt::format("dash -n '{}'", dir / "hook.sh").c_str()), 0);
  if (std::system("command -v busybox >/dev/null 2>&1") == 0) {
    EXPECT_EQ(std::system(fmt::format("busybox sh -n '{}'", dir / "hook.sh").c_str()), 0);
  }
  if (std::system("command -v shellcheck >/dev/null 2>&1") != 0) GTEST_SKIP() << "shellcheck is not installed";
  int status = std::system(fmt::format("shellcheck -s sh '{}' >'{}' 2>&1", dir / "hook.sh", dir / "sc").c_str());
  EXPECT_EQ(status, 0) << read_file(dir / "sc");
}

// A VM's name is the config's, which anyone with VM.Config rights sets: a newline, quotes, $(...) and
// backticks must stay comment text. Every phase runs; none may run a command from the name.
TEST(Hookscript, HostileVmNamesStayCommentText) {
  TempDir dir;
  for (const std::string& name : {std::string("x\ntouch '") + (dir / "newline") + "' #",
                                  "$(touch '" + (dir / "dollar") + "')", "`touch '" + (dir / "tick") + "'`",
                                  std::string("it's \"quoted\"\r\x1b[2J")}) {
    PveHookPlan plan = sample_plan(101, true);
    plan.vm_name = name;
    const std::string script = pve_hookscript(plan);
    write_file(dir / "hook.sh", script);
    EXPECT_EQ(std::system(fmt::format("dash -n '{}'", dir / "hook.sh").c_str()), 0) << name;
    for (const char* phase : {"pre-start", "post-start", "post-stop"}) {
      const int status = std::system(fmt::format("cd '{0}' && VPT_STATE_DIR='{0}/state' VPT_PVE_RUN_DIR='{0}/run' VPT_PVE_WAIT_S=0 "
                              "VPT_SYSTEMD_RUN='{0}/none' VPT_CGROUP_ROOT='{0}/none' sh '{0}/hook.sh' 101 {1} "
                              ">/dev/null 2>&1",
                              dir.path().string(), phase)
                      .c_str());
      EXPECT_NE(status, -1);
    }
    for (const char* planted : {"newline", "dollar", "tick"}) EXPECT_FALSE(std::filesystem::exists(dir / planted)) << name;
    EXPECT_EQ(script.find('\x1b'), std::string::npos);
    EXPECT_EQ(script.find('\r'), std::string::npos);
  }
}

TEST(Hookscript, ReadsBackThePlanItWasWrittenFor) {
  PveHookPlan plan = sample_plan(7, true, CpuSet::range(20, 27));
  PveHookPlan back = read_pve_hookscript(pve_hookscript(plan), "hook.sh");
  EXPECT_EQ(back.vmid, 7u);
  EXPECT_EQ(back.vcpus, plan.vcpus);
  EXPECT_EQ(back.emulator, CpuSet{16});
  EXPECT_EQ(back.iothread_ids, plan.iothread_ids);
  EXPECT_EQ(back.iothreads, (std::vector<CpuSet>{{17}, {18, 19}}));
  EXPECT_EQ(back.host, CpuSet::range(20, 27));
  EXPECT_TRUE(back.confine_host);
  EXPECT_THROW(read_pve_hookscript("#!/bin/sh\necho my own hook\n", "mine.sh"), PveConfigError);
}

TEST_F(HookscriptOnFakeNode, DoesNothingForOtherPhasesAndOtherVms) {
  std::string script = install(sample_plan(101, true));
  ScriptRun r = run(script, "101 pre-stop");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(run(script, "101 something-new").exit_code, 0);
  r = run(script, "202 pre-start");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.err.find("written for VM 101: nothing done"), std::string::npos) << r.err;
  EXPECT_EQ(systemctl_log(), "");
}

TEST_F(HookscriptOnFakeNode, PreStartLetsTheVmStartUnpinnedOnANodeWithoutThePlannedCpus) {
  std::string script = install(sample_plan());
  EXPECT_EQ(run(script, "101 pre-start").exit_code, 0);
  write_file(dir_ / "online", "0-15\n");  // a smaller node: CPUs 16-19 are missing
  ScriptRun r = run(script, "101 pre-start");
  EXPECT_EQ(r.exit_code, 0) << r.err;  // HA recovery onto this node is not blocked
  EXPECT_NE(r.err.find("WARNING: this node lacks CPU(s) 16 17 18 19"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("starts unpinned"), std::string::npos) << r.err;
  // post-start then pins nothing and does not wait for the QEMU.
  r = run(script, "101 post-start", "VPT_PVE_WAIT_S=30");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.err.find("runs unpinned on this node"), std::string::npos) << r.err;
  EXPECT_LT(r.seconds, 5.0);
}

TEST_F(HookscriptOnFakeNode, StrictPreStartRefusesANodeWithoutThePlannedCpus) {
  PveHookPlan plan = sample_plan();
  plan.strict = true;
  std::string script = install(plan);
  EXPECT_NE(read_file(script).find("--strict"), std::string::npos);
  EXPECT_TRUE(read_pve_hookscript(read_file(script), "hook.sh").strict);
  write_file(dir_ / "online", "0-15\n");
  ScriptRun r = run(script, "101 pre-start");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("lacks CPU(s) 16 17 18 19"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("not starting (strict)"), std::string::npos) << r.err;
}

TEST_F(HookscriptOnFakeNode, PostStartSaysAtOnceThatUnnamedThreadsCannotBePinned) {
  std::string script = install(sample_plan());
  // A stand-in QEMU: a live process whose command line names the PID file and debug-threads=off.
  const std::string pidfile = (dir_ / "run/101.pid");
  ASSERT_EQ(std::system(fmt::format("mkdir -p '{0}' && (sh -c 'sleep 20; true' qemu -pidfile '{1}' -name "
                                    "win,debug-threads=off & echo $! > '{1}')",
                                    dir_ / "run", pidfile)
                            .c_str()),
            0);
  ScriptRun r = run(script, "101 post-start", "VPT_PVE_WAIT_S=30");
  EXPECT_GE(std::system(fmt::format("kill $(cat '{}') 2>/dev/null", pidfile).c_str()), 0);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.err.find("debug-threads=off"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing pinned"), std::string::npos) << r.err;
  EXPECT_LT(r.seconds, 5.0);
}

TEST_F(HookscriptOnFakeNode, PreStartDoesNotWaitForAPidFile) {
  // Before the start there is no QEMU yet: pre-start checks the node and returns at once,
  // whatever post-start's wait is set to.
  std::string script = install(sample_plan(101, true));
  ScriptRun r = run(script, "101 pre-start", "VPT_PVE_WAIT_S=30");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(r.seconds, 5.0);
  EXPECT_EQ(r.err.find("no running QEMU"), std::string::npos) << r.err;
}

TEST_F(HookscriptOnFakeNode, PostStartWithoutAPidFileTimesOutAndExitsZero) {
  std::string script = install(sample_plan());
  ScriptRun r = run(script, "101 post-start");
  EXPECT_EQ(r.exit_code, 0);  // Proxmox would only warn; the message says what happened
  EXPECT_NE(r.err.find("no running QEMU of VM 101 after 1 s"), std::string::npos) << r.err;
  EXPECT_LT(r.seconds, 10.0);
}

TEST_F(HookscriptOnFakeNode, PostStartIgnoresAStalePidFile) {
  std::string script = install(sample_plan());
  // A live process that is not this VM's QEMU (its command line does not name the PID file).
  write_file(dir_ / "run/101.pid", std::to_string(::getpid()) + "\n");
  ScriptRun r = run(script, "101 post-start");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.err.find("no running QEMU of VM 101"), std::string::npos) << r.err;
  write_file(dir_ / "run/101.pid", "garbage\n");
  EXPECT_EQ(run(script, "101 post-start").exit_code, 0);
}

// systemctl set-property lines for the three host units, with the CPUs given.
std::string allowed(const std::string& cpus) {
  return fmt::format(
      "set-property --runtime -- system.slice AllowedCPUs={0}\nset-property --runtime -- user.slice AllowedCPUs={0}\n"
      "set-property --runtime -- init.scope AllowedCPUs={0}\n",
      cpus);
}

// The PID of a process that has ended.
int ended_pid() {
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  return child;
}

// One confinement model (common/host_confinement.hpp): start A, start B, A ends
// without its post-stop (a live migration, a failed start), stop B: the host
// is back to the values it had before A started, the admin's own included.
// VM 103 runs without a plan (its scope is confined with the host), VM 104 has
// an affinity of its own (left alone); the containers' cgroup is written directly.
TEST_F(HookscriptOnFakeNode, ConfinesTheHostToWhatEveryRunningVmLeavesItAndPutsBackWhatWasThere) {
  write_file(dir_ / "systemctl",
             "#!/bin/sh\nif [ \"$1\" = show ]; then cat \"$(dirname \"$0\")/allowed.$6\" 2>/dev/null; exit 0; fi\n"
             "echo \"$*\" >> \"$(dirname \"$0\")/systemctl.log\"\n");
  write_file(dir_ / "allowed.system.slice", "0-11\n");  // the admin's own limit
  std::filesystem::create_directories(dir_ / "conf");
  write_file(dir_ / "conf/103.conf", "cores: 2\nmemory: 512\n");
  write_file(dir_ / "conf/104.conf", "affinity: 0-3\ncores: 2\n");
  const std::string alive = std::to_string(::getpid());
  write_file(dir_ / "run/103.pid", alive + "\n");
  write_file(dir_ / "run/104.pid", alive + "\n");
  std::filesystem::create_directories(dir_ / "cgroup/lxc");
  write_file(dir_ / "cgroup/cgroup.controllers", "cpuset\n");
  write_file(dir_ / "cgroup/lxc/cpuset.cpus", "\n");
  const std::string env = fmt::format("VPT_CONFINE_GRACE_S=0 VPT_PVE_CONF_DIR='{0}/conf' VPT_CGROUP_ROOT='{0}/cgroup'",
                                      dir_.path().string());
  auto scope = [](const std::string& cpus) { return fmt::format("set-property --runtime -- 103.scope AllowedCPUs={}\n", cpus); };

  std::string a = install(sample_plan(101, true, CpuSet::range(16, 27)), "a.sh");
  std::string b = install(sample_plan(102, true, CpuSet::range(20, 27)), "b.sh");
  write_file(dir_ / "run/101.pid", alive + "\n");
  EXPECT_EQ(run(a, "101 pre-start", env).exit_code, 0);
  EXPECT_EQ(systemctl_log(), allowed("16-27") + scope("16-27"));
  EXPECT_EQ(read_file(dir_ / "cgroup/lxc/cpuset.cpus"), "16-27\n");
  std::filesystem::remove(dir_ / "systemctl.log");
  write_file(dir_ / "run/102.pid", alive + "\n");
  EXPECT_EQ(run(b, "102 pre-start", env).exit_code, 0);  // both run: the host keeps what both leave it
  EXPECT_EQ(systemctl_log(), allowed("20-27") + scope("20-27"));
  std::filesystem::remove(dir_ / "systemctl.log");

  write_file(dir_ / "run/101.pid", std::to_string(ended_pid()) + "\n");  // A is gone; its post-stop never ran
  write_file(dir_ / "run/102.pid", std::to_string(ended_pid()) + "\n");
  ScriptRun r = run(b, "102 post-stop", env);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.err.find("pve-101 no longer runs"), std::string::npos) << r.err;
  // Put back in the reverse order of saving, each to what it was.
  EXPECT_EQ(systemctl_log(),
            "set-property --runtime -- 103.scope AllowedCPUs=\n"
            "set-property --runtime -- init.scope AllowedCPUs=\n"
            "set-property --runtime -- user.slice AllowedCPUs=\n"
            "set-property --runtime -- system.slice AllowedCPUs=0-11\n");
  EXPECT_EQ(read_file(dir_ / "cgroup/lxc/cpuset.cpus"), "\n");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "state/confine.saved"));
  std::filesystem::remove(dir_ / "systemctl.log");
  EXPECT_EQ(run(b, "102 post-stop", env).exit_code, 0);  // twice (after a crash and a stop): nothing more to do
  EXPECT_EQ(systemctl_log(), "");
}

TEST_F(HookscriptOnFakeNode, AHostWithoutSystemdOrCpusetIsLeftAlone) {
  std::string script = install(sample_plan(101, true));
  std::filesystem::remove(dir_ / "systemd");
  ScriptRun r = run(script, "101 pre-start", fmt::format("VPT_CGROUP_ROOT='{}/none'", dir_.path().string()));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.err.find("no cpuset cgroup found"), std::string::npos) << r.err;
  EXPECT_EQ(run(script, "101 post-stop").exit_code, 0);
  EXPECT_EQ(systemctl_log(), "");
}

}  // namespace
}  // namespace vpt
