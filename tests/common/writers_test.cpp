// Every file vpt-tune writes goes through write_file_atomically: on a full disk
// or a read-only directory each writer fails with one clear line, exit code 1,
// and leaves neither a half file nor a temporary one behind. (Before, results
// left "FILE.tmp" on a full disk and the report and hook writers each had their
// own guarantees.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "bench/results.hpp"
#include "common/atomic_file.hpp"
#include "tests/common/scratch_tmpfs.hpp"
#include "tests/vpt_tune_runner.hpp"
#include "virt/apply.hpp"

namespace vpt {
namespace {

namespace fs = std::filesystem;

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename().string());
  return names;
}

enum class Trouble { FullDisk, ReadOnly };

class WritersOn : public testing::TestWithParam<Trouble> {
 protected:
  void SetUp() override {
    if (auto why = test::ScratchTmpfs::unavailable()) GTEST_SKIP() << *why;
    work_ = fs::path(testing::TempDir()) / ("vpt-writers-" + std::to_string(::getpid()));
    fs::remove_all(work_);
    fs::create_directories(work_);
    disk_.emplace(256 * 1024);
    // Files already there must survive the failed writes.
    std::ofstream(disk_->path() / "existing.html") << "mine";
    if (GetParam() == Trouble::FullDisk)
      before_ = {"existing.html", disk_->fill().filename().string()};
    else {
      before_ = {"existing.html"};
      disk_->remount_read_only();
    }
  }
  void TearDown() override {
    disk_.reset();
    fs::remove_all(work_);
  }

  std::string on_disk(const std::string& name) const { return (disk_->path() / name).string(); }
  std::string reason() const { return GetParam() == Trouble::FullDisk ? "No space left on device" : "Read-only file system"; }
  test::CommandResult run(const std::string& args) { return test::run_vpt_tune(args, work_); }
  void expect_disk_unchanged() {
    EXPECT_EQ(names_in(disk_->path()), before_);
    EXPECT_EQ(test::read_file_text(disk_->path() / "existing.html"), "mine");
  }

  fs::path work_;
  std::optional<test::ScratchTmpfs> disk_;
  std::set<std::string> before_;
};

TEST_P(WritersOn, ResultsFileFailsCleanly) {
  Results results;
  try {
    save_results_file(results, on_disk("run.json"), false);
    ADD_FAILURE() << "no error";
  } catch (const FileWriteError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot write results '" + on_disk("run.json") + "': " + reason());
  }
  expect_disk_unchanged();
}

TEST_P(WritersOn, BackupFailsCleanly) {
  try {
    write_backup(disk_->path().string(), "win11", "<domain/>", BackupMaker::Apply);
    ADD_FAILURE() << "no error";
  } catch (const FileWriteError& e) {
    std::string message = e.what();
    EXPECT_TRUE(message.starts_with("cannot write backup '" + on_disk("win11.")));
    EXPECT_TRUE(message.ends_with(".xml': " + reason())) << message;
  }
  expect_disk_unchanged();
}

TEST_P(WritersOn, ReportFailsCleanly) {
  std::string lscpu = std::string(VPT_DATA_DIR) + "/lscpu/intel-core-i7-14700f.txt";
  test::CommandResult r = run("report --lscpu " + lscpu + " --vcpus 16 --out " + on_disk("r.html"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "vpt-tune: cannot write report '" + on_disk("r.html") + "': " + reason() + "\n");
  r = run("report --lscpu " + lscpu + " --vcpus 16 --force --out " + on_disk("existing.html"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "vpt-tune: cannot write report '" + on_disk("existing.html") + "': " + reason() + "\n");
  expect_disk_unchanged();
}

TEST_P(WritersOn, PatchedDefinitionFailsCleanly) {
  std::string lscpu = std::string(VPT_DATA_DIR) + "/lscpu/intel-core-i7-14700f.txt";
  std::string xml = std::string(VPT_DATA_DIR) + "/domains/win11-gaming.xml";
  test::CommandResult r = run("suggest --lscpu " + lscpu + " --xml " + xml + " --out " + on_disk("win11.xml"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "vpt-tune: cannot write patched definition '" + on_disk("win11.xml") + "': " + reason() + "\n");
  expect_disk_unchanged();
}

TEST_P(WritersOn, HookFailsCleanly) {
  test::CommandResult r = run("hook --domain win11 --host-cpus 0-1 --path " + on_disk("qemu"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "vpt-tune: cannot write hook '" + on_disk("qemu") + "': " + reason() + "\n");
  expect_disk_unchanged();
}

// Issue 28, point 10: the documentation writer, too, replaces a symlink planted
// where it writes instead of writing through it into the file it points to.
TEST(DocumentationWriter, ReplacesAPlantedSymlinkAndLeavesItsTargetAlone) {
  const std::filesystem::path dir =
      std::filesystem::path(testing::TempDir()) / ("vpt-docs-symlink-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::filesystem::path victim = dir / "victim", planted = dir / "vpt-tune.bash";
  std::ofstream(victim) << "root's file\n";
  std::filesystem::create_symlink(victim, planted);
  test::CommandResult r =
      test::run_vpt_tune("generate-docs --date 2026-12-07 --bash " + planted.string(), dir.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(victim);
  std::string victim_text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(victim_text, "root's file\n");
  EXPECT_FALSE(std::filesystem::is_symlink(planted));
  std::ifstream written(planted);
  std::string script((std::istreambuf_iterator<char>(written)), std::istreambuf_iterator<char>());
  EXPECT_NE(script.find("complete"), std::string::npos);
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Trouble, WritersOn, testing::Values(Trouble::FullDisk, Trouble::ReadOnly),
                         [](const auto& info) { return info.param == Trouble::FullDisk ? "FullDisk" : "ReadOnlyDir"; });

}  // namespace
}  // namespace vpt
