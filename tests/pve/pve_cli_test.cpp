// vpt-tune suggest/restore for Proxmox VMs as a user runs them: offline on a
// config file, and --apply/restore on a fake node ($VPT_PVE_ROOT).
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "pve/hookscript.hpp"
#include "pve/pve_config.hpp"
#include "tests/pve/pve_test_util.hpp"
#include "tests/vpt_tune_runner.hpp"

namespace vpt {
namespace {

namespace fs = std::filesystem;
using test::data_file;
using test::read_data;
using test::read_file;
using test::split_config;
using test::TempDir;
using test::write_file;

const std::string kI7 = std::string(VPT_DATA_DIR) + "/lscpu/intel-core-i7-14700f.txt";

// The words of a hookscript variable, VAR='a b c'.
std::vector<std::string> script_words(const std::string& script, const std::string& var) {
  std::smatch m;
  std::vector<std::string> words;
  if (std::regex_search(script, m, std::regex("\n" + var + "='([^']*)'"))) {
    std::istringstream in(m[1].str());
    for (std::string w; in >> w;) words.push_back(w);
  }
  return words;
}

TEST(PveSuggestOffline, WritesTheConfigAndAHookscriptThatAgree) {
  TempDir dir;
  test::CommandResult r = test::run_vpt_tune(
      fmt::format("suggest --lscpu {} --pve-config {} --out {} --hookscript-out {}", kI7, data_file("101.conf"),
                  dir / "101.conf", dir / "hook.sh"),
      dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // A config may hold cipassword's hash and sshkeys: only its owner reads the copy.
  EXPECT_EQ(std::filesystem::status(dir / "101.conf").permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  const std::string before = read_data("101.conf"), after = read_file(dir / "101.conf");
  test::ConfigParts b = split_config(before), a = split_config(after);
  EXPECT_EQ(a.other_lines, b.other_lines);
  EXPECT_EQ(a.tail, b.tail);  // both snapshot sections, byte for byte
  // The config's 8 vCPUs, as SMT pairs of the i7's P-cores: -smp 8 with threads=2, cores x sockets = 8.
  EXPECT_NE(a.owned["args"].find("-smp 8,"), std::string::npos);
  EXPECT_NE(a.owned["args"].find("threads=2"), std::string::npos);
  EXPECT_EQ(std::stoi(a.owned["cores"]) * std::stoi(a.owned["sockets"]), 8);
  EXPECT_EQ(a.owned["hookscript"], "local:snippets/vpt-tune-101.sh");
  // affinity: is exactly the CPUs the hookscript pins threads to.
  const std::string script = read_file(dir / "hook.sh");
  CpuSet pinned;
  for (const char* var : {"VCPU_CPUS", "EMULATOR_CPUS", "IOTHREAD_CPUS"})
    for (const std::string& w : script_words(script, var)) pinned |= CpuSet::parse(w);
  EXPECT_EQ(CpuSet::parse(a.owned["affinity"]), pinned);
  EXPECT_EQ(script_words(script, "VCPU_CPUS").size(), 8u);
  EXPECT_EQ(script_words(script, "IOTHREAD_IDS"), std::vector<std::string>{"iothread-virtioscsi0"});
  struct stat st{};
  ASSERT_EQ(::stat((dir / "hook.sh").c_str(), &st), 0);
  EXPECT_TRUE(st.st_mode & S_IXUSR);
  EXPECT_EQ(std::system(fmt::format("dash -n '{}'", dir / "hook.sh").c_str()), 0);
  // The diff is printed too.
  EXPECT_NE(r.out.find("+affinity: "), std::string::npos);
}

TEST(PveSuggestOffline, RefusesBadInputWithOneLine) {
  TempDir dir;
  for (const char* bad : {"bad/not-a-config.xml", "bad/binary.conf", "bad/empty.conf", "bad/bad-cores.conf",
                          "bad/garbage-line.conf", "bad/no-such-file.conf"}) {
    test::CommandResult r =
        test::run_vpt_tune(fmt::format("suggest --lscpu {} --pve-config {}", kI7, data_file(bad)), dir.path());
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
    EXPECT_TRUE(r.err.starts_with("vpt-tune: cannot read Proxmox config")) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.out, "");
  }
}

TEST(PveSuggestOffline, SaysWhenTheHostCannotHoldTheConfigsCores) {
  TempDir dir;
  write_file(dir / "300.conf", "cores: 64\nmemory: 4096\nname: huge\nsockets: 2\n");
  test::CommandResult r =
      test::run_vpt_tune(fmt::format("suggest --lscpu {} --pve-config {}", kI7, dir / "300.conf"), dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("VM 300 ('huge') asks for 128 vCPUs (sockets: 2 x cores: 64)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("at most 24 fit"), std::string::npos) << r.err;
  // --vcpus overrides the config.
  EXPECT_EQ(test::run_vpt_tune(fmt::format("suggest --lscpu {} --pve-config {} --vcpus 8", kI7, dir / "300.conf"),
                               dir.path())
                .exit_code,
            0);
}

TEST(PveSuggestOffline, RefusesActionsThatNeedTheNode) {
  TempDir dir;
  auto run = [&](const std::string& args) { return test::run_vpt_tune("suggest --lscpu " + kI7 + " " + args, dir.path()); };
  test::CommandResult r = run("--pve-config " + data_file("101.conf") + " --apply");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--apply writes the VM's own config"), std::string::npos) << r.err;
  write_file(dir / "copy.conf", read_data("101.conf"));
  r = run("--pve-config " + dir / "copy.conf" + " --hookscript-out " + dir / "h.sh");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("its VMID is unknown"), std::string::npos) << r.err;
  EXPECT_EQ(run("--pve-config " + dir / "copy.conf" + " --hookscript-out " + dir / "h.sh" + " --vmid 101").exit_code,
            0);
  EXPECT_EQ(run("--apply").exit_code, 2);
  EXPECT_NE(run("--vmid 101 --domain win11").exit_code, 0);  // libvirt or Proxmox, not both
}

// A fake Proxmox node: VPT_PVE_ROOT with etc/pve/qemu-server/101.conf.
class PveNodeCli : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / "root/etc/pve/qemu-server");
    write_file(config(), read_data("101.conf"));
  }
  std::string config() { return dir_ / "root/etc/pve/qemu-server/101.conf"; }
  std::string script() { return dir_ / "root/var/lib/vz/snippets/vpt-tune-101.sh"; }
  test::CommandResult vpt(const std::string& args) {
    std::string env = fmt::format("env VPT_PVE_ROOT='{}' VPT_TUNE_BACKUP_DIR='{}' '{}' ", dir_ / "root",
                                  dir_ / "backups", VPT_TUNE_BINARY);
    test::CommandResult r;
    int status = std::system((env + args + " >'" + dir_ / "out" + "' 2>'" + dir_ / "err" + "'").c_str());
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = read_file(dir_ / "out");
    r.err = read_file(dir_ / "err");
    return r;
  }
  std::vector<fs::path> backups() {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_ / "backups", ec)) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
  }
  TempDir dir_;
};

TEST_F(PveNodeCli, AppliesBacksUpAndRestores) {
  const std::string original = read_data("101.conf");
  test::CommandResult r = vpt("suggest --lscpu " + kI7 + " --vmid 101 --out " + dir_ / "expected.conf");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(config()), original);  // --out alone changes nothing on the node

  r = vpt("suggest --lscpu " + kI7 + " --vmid 101 --apply");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(config()), read_file(dir_ / "expected.conf"));
  struct stat st{};
  ASSERT_EQ(::stat(script().c_str(), &st), 0) << r.out;
  EXPECT_EQ(st.st_mode & 0777, 0755u & ~0022u);
  EXPECT_EQ(std::system(fmt::format("dash -n '{}'", script()).c_str()), 0);
  ASSERT_EQ(backups().size(), 1u);
  EXPECT_TRUE(backups()[0].filename().string().starts_with("pve-101."));
  EXPECT_EQ(read_file(backups()[0].string()), original);
  EXPECT_NE(r.out.find("undo with: vpt-tune restore --vmid 101"), std::string::npos) << r.out;

  r = vpt("suggest --lscpu " + kI7 + " --vmid 101 --apply");  // the same plan again
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("VM 101: already applied, nothing changed"), std::string::npos) << r.out;
  EXPECT_EQ(backups().size(), 1u);

  r = vpt("restore --vmid 101");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(backups()[0].string()), std::string::npos) << r.out;
  r = vpt("restore --vmid 101 latest");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(config()), original);
  EXPECT_EQ(backups().size(), 2u);  // the replaced (patched) config is backed up first
  // A backup of another VM is refused.
  r = vpt("restore --vmid 102 " + backups()[0].string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("not a backup of that VM"), std::string::npos) << r.err;
}

TEST_F(PveNodeCli, RefusesALockedVmAndAForeignSnippet) {
  const std::string locked = read_data("101.conf").insert(0, "lock: backup\n");
  write_file(config(), locked);
  test::CommandResult r = vpt("suggest --lscpu " + kI7 + " --vmid 101 --apply");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("it is locked (backup)"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(config()), locked);

  write_file(config(), read_data("101.conf"));
  fs::create_directories(fs::path(script()).parent_path());
  write_file(script(), "#!/bin/sh\n# someone's own script\n");
  r = vpt("suggest --lscpu " + kI7 + " --vmid 101 --apply");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("vpt-tune did not write it"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(config()), read_data("101.conf"));
  EXPECT_EQ(read_file(script()), "#!/bin/sh\n# someone's own script\n");
  EXPECT_TRUE(backups().empty());
}

// The whole node in one apply (suggest --all-vmids --apply): 101 and 103 pass
// devices through (dedicated: config and hookscript), 102 and 104 share the
// pool (affinity only). A failure at 103 (a snippet vpt-tune did not write)
// puts 101 and 102 back; without it, every VM is written and `restore --all`
// puts all of them back.
TEST_F(PveNodeCli, AppliesTheWholeNodeOrNothingAndRestoresItWhole) {
  std::map<unsigned, std::string> original;
  for (unsigned vmid : {101u, 102u, 103u, 104u}) {
    original[vmid] = read_data(fmt::format("{}.conf", vmid));
    write_file(dir_ / fmt::format("root/etc/pve/qemu-server/{}.conf", vmid), original[vmid]);
  }
  auto conf = [&](unsigned vmid) { return read_file(dir_ / fmt::format("root/etc/pve/qemu-server/{}.conf", vmid)); };
  auto snippet = [&](unsigned vmid) { return dir_ / fmt::format("root/var/lib/vz/snippets/vpt-tune-{}.sh", vmid); };
  const std::string foreign = "#!/bin/sh\n# the admin's own hookscript\n";
  fs::create_directories(dir_ / "root/var/lib/vz/snippets");
  write_file(snippet(103), foreign);

  test::CommandResult r = vpt("suggest --lscpu " + kI7 + " --all-vmids --apply");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("vpt-tune did not write it"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("rolled back VMs 101, 102"), std::string::npos) << r.err;
  for (unsigned vmid : {101u, 102u, 103u, 104u}) EXPECT_EQ(conf(vmid), original[vmid]) << vmid;
  EXPECT_FALSE(fs::exists(snippet(101)));
  EXPECT_EQ(read_file(snippet(103)), foreign);
  for (const fs::path& b : backups()) EXPECT_FALSE(b.filename().string().starts_with("pve-whole-host")) << b;

  // --pve-dir plans a copy: it cannot write the node.
  r = vpt("suggest --lscpu " + kI7 + " --pve-dir " + dir_ / "root/etc/pve/qemu-server --apply");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("use --all-vmids"), std::string::npos) << r.err;

  fs::remove(snippet(103));
  r = vpt("suggest --lscpu " + kI7 + " --all-vmids --apply");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (unsigned vmid : {101u, 102u, 103u, 104u}) {
    const PveConfig before = parse_pve_config(original[vmid], "before");
    const PveConfig after = parse_pve_config(conf(vmid), "after");
    ASSERT_TRUE(after.affinity) << vmid;
    if (before.hostpci.empty()) {
      EXPECT_FALSE(fs::exists(snippet(vmid))) << vmid;
      EXPECT_EQ(after.cores, before.cores) << vmid;  // a shared VM: its affinity only
    } else {
      EXPECT_EQ(std::system(fmt::format("dash -n '{}'", snippet(vmid)).c_str()), 0) << vmid;
    }
  }
  // The two devices differ: no CPU of 101's vCPUs is one of 103's.
  const PveHookPlan a = read_pve_hookscript(read_file(snippet(101)), "101"), b = read_pve_hookscript(read_file(snippet(103)), "103");
  for (unsigned cpu : a.vcpus) EXPECT_EQ(std::count(b.vcpus.begin(), b.vcpus.end(), cpu), 0) << cpu;
  std::size_t records = 0;
  for (const fs::path& p : backups()) records += p.filename().string().starts_with("pve-whole-host.");
  EXPECT_EQ(records, 1u);
  EXPECT_NE(r.out.find("vpt-tune restore --all"), std::string::npos) << r.out;

  r = vpt("restore --all");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (unsigned vmid : {101u, 102u, 103u, 104u}) EXPECT_EQ(conf(vmid), original[vmid]) << vmid;
}

TEST_F(PveNodeCli, ChangesNothingWhenTheHookscriptCannotBeWritten) {
  fs::create_directories(dir_ / "root/var/lib/vz");
  write_file(dir_ / "root/var/lib/vz/snippets", "a file where the directory should be\n");
  test::CommandResult r = vpt("suggest --lscpu " + kI7 + " --vmid 101 --apply");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(read_file(config()), read_data("101.conf"));
  EXPECT_TRUE(backups().empty());
}

TEST_F(PveNodeCli, FindsSnippetsOfOtherStoragesInStorageCfg) {
  write_file(dir_ / "root/etc/pve/storage.cfg",
             "dir: local\n\tpath /var/lib/vz\n\tcontent iso,vztmpl,backup\n\n"
             "lvmthin: local-lvm\n\tthinpool data\n\tvgname pve\n\tcontent rootdir,images\n\n"
             "nfs: nas\n\texport /export/pve\n\tpath /mnt/pve/nas\n\tserver 10.0.0.2\n\tcontent snippets\n");
  test::CommandResult r = vpt("suggest --lscpu " + kI7 + " --vmid 101 --apply --snippets-storage nas");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir_ / "root/mnt/pve/nas/snippets/vpt-tune-101.sh"));
  EXPECT_EQ(split_config(read_file(config())).owned["hookscript"], "nas:snippets/vpt-tune-101.sh");
  write_file(config(), read_data("101.conf"));
  r = vpt("suggest --lscpu " + kI7 + " --vmid 101 --apply --snippets-storage local-lvm");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("it has no directory"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(config()), read_data("101.conf"));
}

}  // namespace
}  // namespace vpt
