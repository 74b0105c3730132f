// The vpt-tune binary's restore and hook commands: exit codes and one-line errors.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/virt/virt_test_util.hpp"
#include "virt/apply.hpp"

namespace vpt {
namespace {

namespace fs = std::filesystem;
using test::read_file;
using test::sample;

struct CliRun {
  int code;
  std::string out, err;
};

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("vpt-cli-{}-{}", ::getpid(), ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  CliRun run(const std::string& args) {
    std::string cmd = fmt::format("VPT_TUNE_BACKUP_DIR={0}/backups {1} {2} >{0}/out 2>{0}/err", dir_.string(),
                                  VPT_TUNE_BINARY, args);
    int status = std::system(cmd.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file((dir_ / "out").string()),
            read_file((dir_ / "err").string())};
  }
  std::string file(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }

  fs::path dir_;
};

// The built-in domain of test:///default, as `virsh dumpxml test` prints it (abridged).
const char* kTestDomain =
    "<domain type='test'>\n  <name>test</name>\n  <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>\n"
    "  <memory unit='KiB'>8388608</memory>\n  <vcpu placement='static'>2</vcpu>\n"
    "  <os>\n    <type arch='i686'>hvm</type>\n  </os>\n</domain>\n";

TEST_F(Cli, RestoreListsBackupsOldestFirst) {
  std::string a = write_backup((dir_ / "backups").string(), "test", kTestDomain, BackupMaker::Apply);
  std::string b = write_backup((dir_ / "backups").string(), "test", kTestDomain, BackupMaker::Apply);
  CliRun r = run("restore --domain test");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_LT(r.out.find(a), r.out.find(b));
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2);
  EXPECT_EQ(run("restore --domain other").out, fmt::format("no backups of domain 'other' in {}/backups\n", dir_.string()));
}

TEST_F(Cli, RestoreDefinesABackupOnTheTestDriver) {
  write_backup((dir_ / "backups").string(), "test", kTestDomain, BackupMaker::Apply);
  CliRun r = run("restore --connect test:///default --domain test latest");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("domain 'test': defined from backup "), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");
}

// `latest` is the newest backup an apply or a fix took: a restore's own backup
// of what it replaced is listed, with what took it, but never chosen.
TEST_F(Cli, RestoreLatestSkipsTheBackupsRestoresTook) {
  const std::string dir = (dir_ / "backups").string();
  const std::string applied = write_backup(dir, "test", kTestDomain, BackupMaker::Apply);
  const std::string restored = write_backup(dir, "test", kTestDomain, BackupMaker::Restore);
  CliRun list = run("restore --domain test");
  EXPECT_EQ(list.code, 0) << list.err;
  EXPECT_NE(list.out.find("  test  apply    " + applied), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("  test  restore  " + restored), std::string::npos) << list.out;
  CliRun r = run("restore --connect test:///default --domain test latest");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("domain 'test': defined from backup " + applied + "\n"), std::string::npos) << r.out;
  fs::remove(applied);
  r = run("restore --connect test:///default --domain test latest");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, fmt::format("vpt-tune: cannot restore domain 'test': no backup an apply or a fix took in '{}' "
                               "(only the ones restores took: name one of them)\n", dir));
}

TEST_F(Cli, RestoreOfAnotherDomainsBackupIsBadInput) {
  std::string backup = write_backup((dir_ / "backups").string(), "test", kTestDomain, BackupMaker::Apply);
  CliRun r = run(fmt::format("restore --connect test:///default --domain nosuch {}", backup));
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, fmt::format("vpt-tune: cannot restore backup '{}': it is of domain 'test', not 'nosuch'\n", backup));
}

TEST_F(Cli, UnreachableUriIsARuntimeFailureInOneLine) {
  std::string backup = write_backup((dir_ / "backups").string(), "test", kTestDomain, BackupMaker::Apply);
  CliRun r = run(fmt::format("restore --connect 'qemu+unix:///system?socket=/nonexistent' {}", backup));
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.rfind("vpt-tune: cannot connect to 'qemu+unix:///system?socket=/nonexistent': ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_F(Cli, MalformedOrNonDomainXmlIsBadInputInOneLine) {
  std::string broken = file("broken.xml", "<domain>\n  <name>test</name>\n");
  CliRun r = run(fmt::format("restore --connect test:///default {}", broken));
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.rfind(fmt::format("vpt-tune: cannot read domain '{}': not well-formed XML at line", broken), 0), 0u)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
  std::string network = file("net.xml", "<network><name>default</name></network>\n");
  r = run(fmt::format("restore --connect test:///default {}", network));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("the root element is <network>, not <domain>"), std::string::npos);
}

TEST_F(Cli, HookPrintShowsTheScript) {
  CliRun r = run("hook --domain win11 --host-cpus 0-1,8 --print");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("#!/bin/sh\n", 0), 0u);
  EXPECT_NE(r.out.find("GUEST='win11'\nHOST_CPUS='0-1,8'\n"), std::string::npos);
}

TEST_F(Cli, HookDoesNotReplaceADifferentFileWithoutForce) {
  std::string path = file("qemu", "#!/bin/sh\n# someone's own hook\n");
  CliRun r = run(fmt::format("hook --domain win11 --host-cpus 0-1 --path {}", path));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("a different file is there"), std::string::npos);
  EXPECT_EQ(read_file(path), "#!/bin/sh\n# someone's own hook\n");
  r = run(fmt::format("hook --domain win11 --host-cpus 0-1 --path {} --force", path));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(read_file(path).find("HOST_CPUS='0-1'"), std::string::npos);
  EXPECT_TRUE((fs::status(path).permissions() & fs::perms::owner_exec) != fs::perms::none);
  r = run(fmt::format("hook --domain win11 --host-cpus 0-1 --path {}", path));
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("already installed, unchanged"), std::string::npos);
}

TEST_F(Cli, HookRejectsABadCpuList) {
  CliRun r = run("hook --domain win11 --host-cpus 3-1 --print");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("runs backwards"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

}  // namespace
}  // namespace vpt
