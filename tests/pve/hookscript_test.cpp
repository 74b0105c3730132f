// The Proxmox hookscript as a shell script: POSIX syntax (dash, busybox,
// shellcheck), the plan read back, and every phase run on a fake node
// (online CPUs, systemd and the PID file are files the test writes).
#include <sys/stat.h>
#include <sys/wait.h>

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

TEST_F(HookscriptOnFakeNode, ConfinesTheHostToWhatEveryRunningVmLeavesIt) {
  std::string a = install(sample_plan(101, true, CpuSet::range(16, 27)), "a.sh");
  std::string b = install(sample_plan(102, true, CpuSet::range(20, 27)), "b.sh");
  EXPECT_EQ(run(a, "101 pre-start").exit_code, 0);
  EXPECT_EQ(systemctl_log(), allowed("16,17,18,19,20,21,22,23,24,25,26,27"));
  std::filesystem::remove(dir_ / "systemctl.log");
  EXPECT_EQ(run(b, "102 pre-start").exit_code, 0);  // both run: the host keeps what both leave it
  EXPECT_EQ(systemctl_log(), allowed("20,21,22,23,24,25,26,27"));
  std::filesystem::remove(dir_ / "systemctl.log");
  EXPECT_EQ(run(a, "101 post-stop").exit_code, 0);  // 102 still runs
  EXPECT_EQ(systemctl_log(), allowed("20,21,22,23,24,25,26,27"));
  std::filesystem::remove(dir_ / "systemctl.log");
  EXPECT_EQ(run(b, "102 post-stop").exit_code, 0);  // none left: every CPU again
  EXPECT_EQ(systemctl_log(), allowed("0-27"));
  std::filesystem::remove(dir_ / "systemctl.log");
  EXPECT_EQ(run(b, "102 post-stop").exit_code, 0);  // twice (after a crash and a stop): the same
  EXPECT_EQ(systemctl_log(), allowed("0-27"));
}

TEST_F(HookscriptOnFakeNode, LeavesAHostWithoutSystemdAlone) {
  std::string script = install(sample_plan(101, true));
  std::filesystem::remove(dir_ / "systemd");
  ScriptRun r = run(script, "101 pre-start");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.err.find("systemd does not run here"), std::string::npos) << r.err;
  EXPECT_EQ(run(script, "101 post-stop").exit_code, 0);
  EXPECT_EQ(systemctl_log(), "");
}

}  // namespace
}  // namespace vpt
