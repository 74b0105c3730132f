#include "virt/apply.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/virt/fake_hypervisor.hpp"
#include "tests/virt/virt_test_util.hpp"
#include "virt/domain_xml.hpp"

namespace vpt {
namespace {

namespace fs = std::filesystem;
using test::FakeHypervisor;
using test::make_plan;
using test::sample;

class ApplyPlan : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("vpt-apply-test-{}-{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    original_ = sample("win11-gaming.xml");
    hv_.definitions["win11"] = original_;
    options_.backup_dir = (dir_ / "backups").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  std::string original_;
  FakeHypervisor hv_;
  ApplyOptions options_;
  GuestPlan plan_ = make_plan(8, 4, CpuSet{0, 1}, {CpuSet{2}}, {1, 1, 4, 2});
};

TEST_F(ApplyPlan, BacksUpThenDefinesThePatchedDefinition) {
  ApplyResult r = apply_plan(hv_, "win11", plan_, options_);
  EXPECT_TRUE(r.defined);
  EXPECT_EQ(hv_.defines, 1);
  EXPECT_EQ(hv_.definitions["win11"], patch_domain_xml(original_, plan_));
  EXPECT_EQ(test::read_file(r.backup), original_);
  EXPECT_EQ(fs::path(r.backup).parent_path(), dir_ / "backups");
  EXPECT_EQ(fs::status(r.backup).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_NE(r.diff.find("\n-    <vcpupin vcpu=\"0\" cpuset=\"0\"/>\n"), std::string::npos) << r.diff;
  EXPECT_NE(r.diff.find("\n+    <vcpupin vcpu=\"0\" cpuset=\"4\"/>\n"), std::string::npos) << r.diff;
}

TEST_F(ApplyPlan, SecondApplyOfTheSamePlanChangesNothing) {
  apply_plan(hv_, "win11", plan_, options_);
  const std::string after_first = hv_.definitions["win11"];
  ApplyResult second = apply_plan(hv_, "win11", plan_, options_);
  EXPECT_FALSE(second.defined);
  EXPECT_EQ(second.backup, "");
  EXPECT_EQ(hv_.defines, 1);
  EXPECT_EQ(hv_.definitions["win11"], after_first);
  EXPECT_EQ(list_backups(options_.backup_dir, "win11").size(), 1u);
  std::ostringstream out;
  write_apply_result(out, second);
  EXPECT_EQ(out.str(), "domain 'win11': already applied, nothing changed\n");
}

TEST_F(ApplyPlan, AlreadyAppliedHoldsWhenLibvirtReformatsTheDefinition) {
  // libvirt writes single quotes and dies='1' itself: still the same plan.
  hv_.on_define = [](const std::string& xml) {
    std::string s = xml;
    std::replace(s.begin(), s.end(), '"', '\'');
    return s;
  };
  apply_plan(hv_, "win11", plan_, options_);
  EXPECT_FALSE(apply_plan(hv_, "win11", plan_, options_).defined);
}

TEST_F(ApplyPlan, FailedDefinePutsTheOldDefinitionBackByteForByte) {
  hv_.fail_define_number = 1;
  try {
    apply_plan(hv_, "win11", plan_, options_);
    FAIL() << "expected ApplyError";
  } catch (const ApplyError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("cannot apply the plan to domain 'win11': cannot define domain on 'fake:///': injected failure"),
              std::string::npos) << what;
    EXPECT_NE(what.find("the previous definition was defined again from backup '"), std::string::npos) << what;
  }
  EXPECT_EQ(hv_.definitions["win11"], original_);
  EXPECT_EQ(hv_.defines, 2);
  ASSERT_EQ(list_backups(options_.backup_dir, "win11").size(), 1u);
  EXPECT_EQ(test::read_file(list_backups(options_.backup_dir, "win11")[0].path), original_);
}

TEST_F(ApplyPlan, RefusedDefineWithRefusedRollbackSaysTheDefinitionIsUnchanged) {
  hv_.read_only = true;
  try {
    apply_plan(hv_, "win11", plan_, options_);
    FAIL() << "expected ApplyError";
  } catch (const ApplyError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("operation forbidden: read only access; the definition is unchanged (backup in '"),
              std::string::npos) << what;
  }
  EXPECT_EQ(hv_.definitions["win11"], original_);
}

TEST_F(ApplyPlan, DefinitionThatReadsBackWithoutAPinIsRolledBack) {
  hv_.on_define = [](const std::string& xml) {
    std::string s = xml;
    const std::string pin = "\n    <emulatorpin cpuset=\"0-1\"/>";
    if (auto at = s.find(pin); at != std::string::npos) s.erase(at, pin.size());
    return s;
  };
  try {
    apply_plan(hv_, "win11", plan_, options_);
    FAIL() << "expected ApplyError";
  } catch (const ApplyError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot verify domain 'win11' after defining it: the emulator has no pin, "
                                         "not CPUs 0-1"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(hv_.definitions["win11"], original_);
}

TEST_F(ApplyPlan, UnwritableBackupDirectoryStopsBeforeAnyChange) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / "a-file") << "x";
  options_.backup_dir = (dir_ / "a-file" / "backups").string();
  EXPECT_THROW(apply_plan(hv_, "win11", plan_, options_), std::runtime_error);
  EXPECT_EQ(hv_.defines, 0);
  EXPECT_EQ(hv_.definitions["win11"], original_);
}

TEST_F(ApplyPlan, PinToACpuTheHostLacksChangesNothing) {
  GuestPlan plan = plan_;
  plan.vcpus[3] = 4000;
  try {
    apply_plan(hv_, "win11", plan, options_);
    FAIL() << "expected DomainInputError";
  } catch (const DomainInputError& e) {
    EXPECT_STREQ(e.what(), "cannot apply the plan to domain 'win11': it uses CPUs 4000, which host 'fake:///' does "
                           "not have (it has CPUs 0-27)");
  }
  EXPECT_EQ(hv_.defines, 0);
  EXPECT_FALSE(fs::exists(options_.backup_dir));
}

TEST_F(ApplyPlan, UnknownDomainIsBadInput) {
  EXPECT_THROW(apply_plan(hv_, "win12", plan_, options_), DomainInputError);
  EXPECT_FALSE(fs::exists(options_.backup_dir));
}

TEST_F(ApplyPlan, PlanThatDropsAnIothreadAQueueMappingUsesChangesNothing) {
  std::string xml = sample("linux-server.xml");
  const std::string driver = "<driver name='qemu' type='raw' cache='none' io='native' iothread='5'/>";
  xml.replace(xml.find(driver), driver.size(),
              "<driver name='qemu' type='raw'><iothreads><iothread id='5'/></iothreads></driver>");
  hv_.definitions["db01"] = xml;
  EXPECT_THROW(apply_plan(hv_, "db01", plan_, options_), DomainInputError);
  EXPECT_EQ(hv_.defines, 0);
}

LivePins sixteen_vcpus_everywhere() {
  LivePins live;
  live.vcpus.assign(16, CpuSet::range(0, 27));
  live.emulator = CpuSet::range(0, 27);
  live.iothreads[1] = CpuSet::range(0, 27);
  return live;
}

TEST_F(ApplyPlan, LivePinsTheRunningGuestAndNotesRestartOnlyChanges) {
  hv_.running = true;
  hv_.live = sixteen_vcpus_everywhere();
  options_.live = true;
  GuestPlan plan = make_plan(16, 0, CpuSet{16, 17}, {CpuSet{18}}, {1, 1, 8, 2});
  plan.require_topoext = true;
  ApplyResult r = apply_plan(hv_, "win11", plan, options_);
  EXPECT_TRUE(r.live_pinned);
  for (unsigned v = 0; v < 16; ++v) EXPECT_EQ(hv_.live.vcpus[v], CpuSet{v});
  EXPECT_EQ(hv_.live.emulator, (CpuSet{16, 17}));
  EXPECT_EQ(hv_.live.iothreads[1], CpuSet{18});
  EXPECT_TRUE(std::any_of(r.notes.begin(), r.notes.end(), [](const std::string& n) {
    return n == "domain 'win11' is running: guest CPU (mode, topology, cache, features) take(s) effect at its next boot";
  })) << fmt::format("{}", fmt::join(r.notes, "\n"));
}

TEST_F(ApplyPlan, LivePinsOnlyTheVcpusTheGuestHasNow) {
  hv_.running = true;
  hv_.live = sixteen_vcpus_everywhere();
  hv_.live.vcpus.resize(4);
  options_.live = true;
  ApplyResult r = apply_plan(hv_, "win11", plan_, options_);
  ASSERT_EQ(hv_.live.vcpus.size(), 4u);
  EXPECT_EQ(hv_.live.vcpus[3], CpuSet{7});
  EXPECT_TRUE(std::any_of(r.notes.begin(), r.notes.end(), [](const std::string& n) {
    return n == "the running guest has 4 vCPUs: vCPUs 4-7 are pinned when it next boots";
  }));
}

TEST_F(ApplyPlan, RefusedLivePinPutsLivePinsAndDefinitionBack) {
  hv_.running = true;
  hv_.live = sixteen_vcpus_everywhere();
  const LivePins before = hv_.live;
  hv_.refuse_vcpu = 5;
  options_.live = true;
  try {
    apply_plan(hv_, "win11", plan_, options_);
    FAIL() << "expected ApplyError";
  } catch (const ApplyError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("cannot pin running domain 'win11': cannot pin vCPU 5"), std::string::npos) << what;
    EXPECT_NE(what.find("the previous live pins were put back and the previous definition was defined again"),
              std::string::npos) << what;
  }
  EXPECT_EQ(hv_.live, before);
  EXPECT_EQ(hv_.definitions["win11"], original_);
}

TEST_F(ApplyPlan, LivePinThatDoesNotTakeIsRolledBack) {
  hv_.running = true;
  hv_.live = sixteen_vcpus_everywhere();
  hv_.ignore_live_emulator_pin = true;
  options_.live = true;
  try {
    apply_plan(hv_, "win11", plan_, options_);
    FAIL() << "expected ApplyError";
  } catch (const ApplyError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot verify the live pins of domain 'win11': the emulator runs on CPUs "
                                         "0-27, not 0-1"),
              std::string::npos) << e.what();
  }
  EXPECT_EQ(hv_.definitions["win11"], original_);
}

TEST_F(ApplyPlan, LiveOnAStoppedDomainOnlyDefines) {
  options_.live = true;
  ApplyResult r = apply_plan(hv_, "win11", plan_, options_);
  EXPECT_TRUE(r.defined);
  EXPECT_FALSE(r.live_pinned);
  EXPECT_EQ(r.notes.back(), "domain 'win11' is not running: --live has nothing to pin; the definition takes effect "
                            "when it starts");
}

TEST_F(ApplyPlan, RunningWithoutLiveSaysWhenPinsChange) {
  hv_.running = true;
  ApplyResult r = apply_plan(hv_, "win11", plan_, options_);
  EXPECT_EQ(r.notes.back(), "domain 'win11' is running: its pins change at its next start (add --live to pin the "
                            "running guest now)");
}

TEST_F(ApplyPlan, RestoreDefinesTheBackupAndBacksUpWhatItReplaces) {
  ApplyResult r = apply_plan(hv_, "win11", plan_, options_);
  const std::string applied = hv_.definitions["win11"];
  RestoreResult restored = restore_backup(hv_, "win11", r.backup, options_.backup_dir);
  EXPECT_EQ(hv_.definitions["win11"], original_);
  EXPECT_EQ(test::read_file(restored.backup_of_replaced), applied);
  EXPECT_EQ(list_backups(options_.backup_dir, "win11").size(), 2u);
  // Without --domain the backup names its domain.
  restore_backup(hv_, "", restored.backup_of_replaced, options_.backup_dir);
  EXPECT_EQ(hv_.definitions["win11"], applied);
}

// `restore latest` twice after an apply: both times the definition from before
// the apply, never the tuned one the first restore backed up.
TEST_F(ApplyPlan, LatestUndoIsTheApplysBackupNotTheOneARestoreTook) {
  apply_plan(hv_, "win11", plan_, options_);
  const std::string applied = hv_.definitions["win11"];
  ASSERT_NE(applied, original_);
  for (int time = 0; time < 2; ++time) {
    const std::vector<Backup> backups = list_backups(options_.backup_dir, "win11");
    const Backup* undo = latest_undo(backups);
    ASSERT_NE(undo, nullptr);
    EXPECT_EQ(undo->made_by, BackupMaker::Apply);
    EXPECT_EQ(test::read_file(undo->path), original_);
    restore_backup(hv_, "win11", undo->path, options_.backup_dir);
    EXPECT_EQ(hv_.definitions["win11"], original_) << "restore " << time + 1;
  }
  const std::vector<Backup> backups = list_backups(options_.backup_dir, "win11");
  ASSERT_EQ(backups.size(), 3u);  // the apply's, then one per restore
  EXPECT_EQ(backups[1].made_by, BackupMaker::Restore);
  EXPECT_EQ(test::read_file(backups[1].path), applied);
  EXPECT_EQ(backups[2].made_by, BackupMaker::Restore);
}

TEST_F(ApplyPlan, AFixsBackupSaysSo) {
  ApplyOptions fix = options_;
  fix.made_by = BackupMaker::Fix;
  ApplyResult r = apply_plan(hv_, "win11", plan_, fix);
  const std::vector<Backup> backups = list_backups(options_.backup_dir, "win11");
  ASSERT_EQ(backups.size(), 1u);
  EXPECT_EQ(backups[0].path, r.backup);
  EXPECT_EQ(backups[0].made_by, BackupMaker::Fix);
  EXPECT_TRUE(r.backup.ends_with(".fix.xml")) << r.backup;
}

TEST_F(ApplyPlan, RestoreRefusesABackupOfAnotherDomain) {
  hv_.definitions["db01"] = sample("linux-server.xml");
  std::string backup = write_backup(options_.backup_dir, "db01", sample("linux-server.xml"), BackupMaker::Apply);
  EXPECT_THROW(restore_backup(hv_, "win11", backup, options_.backup_dir), DomainInputError);
  EXPECT_THROW(restore_backup(hv_, "win11", (dir_ / "missing.xml").string(), options_.backup_dir), DomainInputError);
  EXPECT_EQ(hv_.defines, 0);
}

TEST(Backups, AreListedPerDomainOldestFirst) {
  fs::path dir = fs::temp_directory_path() / fmt::format("vpt-backups-{}", ::getpid());
  fs::remove_all(dir);
  std::string a = write_backup(dir.string(), "win11", "<domain>1</domain>", BackupMaker::Apply);
  std::string b = write_backup(dir.string(), "win11", "<domain>2</domain>", BackupMaker::Apply);
  write_backup(dir.string(), "win11.old", "<domain>3</domain>", BackupMaker::Apply);
  std::ofstream(dir / "win11.notes.xml") << "not a backup";
  EXPECT_NE(a, b);
  auto list = list_backups(dir.string(), "win11");
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].path, a);
  EXPECT_EQ(list[1].path, b);
  EXPECT_EQ(list[0].domain, "win11");
  EXPECT_EQ(list_backups(dir.string(), "").size(), 3u);
  EXPECT_TRUE(list_backups((dir / "none").string(), "win11").empty());
  // The name's time is the file's creation time, in UTC.
  EXPECT_EQ(list[0].time.size(), std::string("2025-03-01 14:02:11.042 UTC").size());
  fs::remove_all(dir);
}

// The maker is in the name; a name from before makers (none) still lists, as
// Unknown, and counts for `latest`; a restore's never does.
TEST(Backups, SayWhatTookThemAndLatestUndoSkipsRestores) {
  fs::path dir = fs::temp_directory_path() / fmt::format("vpt-backups-maker-{}", ::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "win11.20250301T140211.042Z.xml") << "<domain>old</domain>";
  auto list = list_backups(dir.string(), "win11");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].made_by, BackupMaker::Unknown);
  EXPECT_EQ(list[0].time, "2025-03-01 14:02:11.042 UTC");
  ASSERT_NE(latest_undo(list), nullptr);
  EXPECT_EQ(latest_undo(list)->path, list[0].path);

  const std::string fix = write_backup(dir.string(), "win11", "<domain>1</domain>", BackupMaker::Fix);
  const std::string restore = write_backup(dir.string(), "win11", "<domain>2</domain>", BackupMaker::Restore);
  EXPECT_TRUE(fix.ends_with(".fix.xml")) << fix;
  EXPECT_TRUE(restore.ends_with(".restore.xml")) << restore;
  list = list_backups(dir.string(), "win11");
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[1].made_by, BackupMaker::Fix);
  EXPECT_EQ(list[2].made_by, BackupMaker::Restore);
  EXPECT_EQ(list[2].domain, "win11");
  ASSERT_NE(latest_undo(list), nullptr);
  EXPECT_EQ(latest_undo(list)->path, fix);
  EXPECT_EQ(latest_undo({list[2]}), nullptr);
  // Unknown writes a name without a maker, which reads back as Unknown.
  const std::string unknown = write_backup(dir.string(), "win11", "<domain>4</domain>", BackupMaker::Unknown);
  list = list_backups(dir.string(), "win11");
  ASSERT_EQ(list.size(), 4u);
  EXPECT_EQ(list[3].path, unknown);
  EXPECT_EQ(list[3].made_by, BackupMaker::Unknown);
  // A Proxmox config's backup, with its own extension.
  const std::string conf = write_backup(dir.string(), "pve-101", "cores: 2\n", BackupMaker::Apply, ".conf");
  EXPECT_TRUE(conf.ends_with(".apply.conf")) << conf;
  ASSERT_EQ(list_backups(dir.string(), "pve-101", ".conf").size(), 1u);
  EXPECT_EQ(list_backups(dir.string(), "pve-101", ".conf")[0].made_by, BackupMaker::Apply);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vpt
