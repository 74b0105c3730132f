// Runs the generated hook with sh on a fake cgroup tree and a fake systemctl.
#include "virt/hook_script.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/virt/virt_test_util.hpp"
#include "virt/domain.hpp"

namespace vpt {
namespace {

namespace fs = std::filesystem;
using test::read_file;

class HookScript : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("vpt-hook-{}-{}", ::getpid(), ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "cgroup");
    write("online", "0-7\n");
    write("hook", qemu_hook_script("win11", CpuSet{0, 1}));
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const fs::path& rel, const std::string& text) {
    fs::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel) << text;
  }
  std::string read(const fs::path& rel) { return read_file((dir_ / rel).string()); }

  int run(const std::string& args) {
    std::string cmd = fmt::format(
        "cd {0} && VPT_CGROUP_ROOT={0}/cgroup VPT_SYSTEMD_RUN={0}/systemd VPT_SYSTEMCTL={0}/systemctl "
        "VPT_ONLINE_CPUS={0}/online VPT_STATE_DIR={0}/state sh {0}/hook {1} 2>{0}/stderr",
        dir_.string(), args);
    return std::system(cmd.c_str());
  }

  fs::path dir_;
};

TEST_F(HookScript, CgroupV2ConfinesTheHostsGroupsAndPutsThemBack) {
  write("cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
  write("cgroup/cgroup.subtree_control", "cpu memory\n");
  write("cgroup/cgroup.procs", "1\n57\n");
  write("cgroup/cpuset.mems", "0\n");
  write("cgroup/services/cpuset.cpus", "\n");
  write("cgroup/services/sshd/cpuset.cpus", "2-3\n");
  write("cgroup/machine/cpuset.cpus", "\n");
  write("cgroup/machine/win11/cpuset.cpus", "4-7\n");

  ASSERT_EQ(run("win11 prepare begin -"), 0) << read("stderr");
  EXPECT_EQ(read("cgroup/services/cpuset.cpus"), "0-1\n");
  EXPECT_EQ(read("cgroup/services/sshd/cpuset.cpus"), "0-1\n");
  EXPECT_EQ(read("cgroup/machine/cpuset.cpus"), "\n");  // the guests' own group is left alone
  EXPECT_EQ(read("cgroup/machine/win11/cpuset.cpus"), "4-7\n");
  EXPECT_EQ(read("cgroup/cgroup.subtree_control"), "+cpuset\n");  // cpuset controller switched on
  EXPECT_TRUE(fs::is_directory(dir_ / "cgroup/vpt-tune-host"));   // root group's processes moved there

  ASSERT_EQ(run("win11 release end -"), 0) << read("stderr");
  EXPECT_EQ(read("cgroup/services/cpuset.cpus"), "\n");
  EXPECT_EQ(read("cgroup/services/sshd/cpuset.cpus"), "2-3\n");
  EXPECT_FALSE(fs::exists(dir_ / "state/confine.saved"));
}

TEST_F(HookScript, CgroupV1ConfinesChildrenBeforeParents) {
  write("cgroup/cpuset/cpuset.cpus", "0-7\n");
  write("cgroup/cpuset/cpuset.mems", "0\n");
  write("cgroup/cpuset/cgroup.procs", "1\n");
  write("cgroup/cpuset/daemons/cpuset.cpus", "0-7\n");
  write("cgroup/cpuset/daemons/db/cpuset.cpus", "2-5\n");
  write("cgroup/cpuset/machine/cpuset.cpus", "0-7\n");
  ASSERT_EQ(run("win11 prepare begin -"), 0) << read("stderr");
  EXPECT_EQ(read("cgroup/cpuset/daemons/cpuset.cpus"), "0-1\n");
  EXPECT_EQ(read("cgroup/cpuset/daemons/db/cpuset.cpus"), "0-1\n");
  EXPECT_EQ(read("cgroup/cpuset/machine/cpuset.cpus"), "0-7\n");
  EXPECT_EQ(read("cgroup/cpuset/cpuset.cpus"), "0-7\n");  // the root cpuset always has every CPU
  // The saved values list children first; release writes them back parents first.
  std::string state = read("state/confine.saved");
  EXPECT_LT(state.find("daemons/db\t2-5"), state.find("daemons\t0-7"));
  ASSERT_EQ(run("win11 release end -"), 0) << read("stderr");
  EXPECT_EQ(read("cgroup/cpuset/daemons/cpuset.cpus"), "0-7\n");
  EXPECT_EQ(read("cgroup/cpuset/daemons/db/cpuset.cpus"), "2-5\n");
}

TEST_F(HookScript, SystemdSetsAllowedCpusOnTheHostSlicesAndPutsBackTheAdminsValues) {
  fs::create_directories(dir_ / "systemd");
  // A systemctl that answers `show -p AllowedCPUs --value -- UNIT` from allowed.UNIT and logs the rest.
  write("systemctl",
        "#!/bin/sh\nif [ \"$1\" = show ]; then cat \"$(dirname \"$0\")/allowed.$6\" 2>/dev/null; exit 0; fi\n"
        "echo \"$*\" >> \"$(dirname \"$0\")/systemctl.log\"\n");
  fs::permissions(dir_ / "systemctl", fs::perms::owner_all);
  write("allowed.system.slice", "0-5\n");  // the admin's own setting; the others allow every CPU ("")
  ASSERT_EQ(run("win11 prepare begin -"), 0) << read("stderr");
  ASSERT_EQ(run("win11 release end -"), 0) << read("stderr");
  EXPECT_EQ(read("systemctl.log"),
            "set-property --runtime -- system.slice AllowedCPUs=0-1\n"
            "set-property --runtime -- user.slice AllowedCPUs=0-1\n"
            "set-property --runtime -- init.scope AllowedCPUs=0-1\n"
            "set-property --runtime -- init.scope AllowedCPUs=\n"
            "set-property --runtime -- user.slice AllowedCPUs=\n"
            "set-property --runtime -- system.slice AllowedCPUs=0-5\n");
  EXPECT_FALSE(fs::exists(dir_ / "state/confine.saved"));
}

TEST_F(HookScript, OtherGuestsAndOperationsDoNothing) {
  write("cgroup/cgroup.controllers", "cpuset\n");
  write("cgroup/services/cpuset.cpus", "\n");
  ASSERT_EQ(run("linux-vm prepare begin -"), 0);
  ASSERT_EQ(run("win11 started begin -"), 0);
  EXPECT_EQ(read("cgroup/services/cpuset.cpus"), "\n");
  EXPECT_FALSE(fs::exists(dir_ / "state"));
}

TEST_F(HookScript, HostileNamesAreRefusedOrStayData) {
  // A newline would end the comment that names the guest and run the rest as root.
  for (const std::string& name : {std::string("x\ntouch /tmp/p #"), std::string("a\rb"), std::string("esc\x1b[2J"),
                                 std::string(""), std::string("../../etc/cron.d/x")}) {
    try {
      qemu_hook_script(name, CpuSet{0});
      ADD_FAILURE() << "accepted " << name;
    } catch (const DomainInputError& e) {
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find('\x1b'), std::string::npos) << e.what();
    }
  }
  // Quotes, $(...) and backticks stay data: the hook runs for that exact name and nothing else runs.
  // (run() works in dir_: a command that ran would leave its file there.)
  const std::string name = "it's $(touch dollar) `touch tick`";
  write("hook", qemu_hook_script(name, CpuSet{0, 1}));
  write("cgroup/cgroup.controllers", "cpuset\n");
  write("cgroup/cgroup.subtree_control", "cpuset\n");
  write("cgroup/services/cpuset.cpus", "\n");
  const std::string arg = "'it'\\''s $(touch dollar) `touch tick`'";
  ASSERT_EQ(run(arg + " prepare begin -"), 0) << read("stderr");
  EXPECT_FALSE(fs::exists(dir_ / "dollar"));
  EXPECT_FALSE(fs::exists(dir_ / "tick"));
  EXPECT_EQ(read("cgroup/services/cpuset.cpus"), "0-1\n");  // it acted for that guest
}

TEST_F(HookScript, AGroupWithASpaceInItsNameIsConfinedToo) {
  write("cgroup/cgroup.controllers", "cpuset\n");
  write("cgroup/cgroup.subtree_control", "cpuset\n");
  write("cgroup/x y/cpuset.cpus", "\n");
  write("cgroup/x/cpuset.cpus", "\n");
  ASSERT_EQ(run("win11 prepare begin -"), 0) << read("stderr");
  EXPECT_EQ(read("cgroup/x y/cpuset.cpus"), "0-1\n");
  EXPECT_EQ(read("cgroup/x/cpuset.cpus"), "0-1\n");
  ASSERT_EQ(run("win11 release end -"), 0) << read("stderr");
  EXPECT_EQ(read("cgroup/x y/cpuset.cpus"), "\n");
}

TEST_F(HookScript, QuotesTheGuestNameForTheShell) {
  std::string script = qemu_hook_script("it's", CpuSet{3});
  EXPECT_NE(script.find("GUEST='it'\\''s'\n"), std::string::npos);
  EXPECT_NE(script.find("HOST_CPUS='3'\n"), std::string::npos);
}

}  // namespace
}  // namespace vpt
