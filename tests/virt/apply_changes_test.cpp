// One apply for several domains (virt/apply.hpp, apply_changes): all or none.
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "tests/virt/fake_hypervisor.hpp"
#include "tests/virt/virt_test_util.hpp"
#include "virt/apply.hpp"
#include "virt/domain_xml.hpp"

namespace vpt {
namespace {

namespace fs = std::filesystem;
using test::FakeHypervisor;
using test::sample;

class ApplyChanges : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("vpt-apply-changes-{}-{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    options_.backup_dir = (dir_ / "backups").string();
    for (const char* file : {"win11-gaming.xml", "linux-server.xml", "win10-untuned.xml"}) {
      Domain d = parse_domain_xml(sample(file), file);
      hv_.definitions[d.name] = d.xml;
      names_.push_back(d.name);
    }
    before_ = hv_.definitions;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Each domain gets its own two cores' worth of pins: 2-3, 4-5, 6-7.
  std::vector<DomainChange> changes() const {
    std::vector<DomainChange> out;
    for (std::size_t i = 0; i < names_.size(); ++i) {
      const unsigned first = 2 + 2 * static_cast<unsigned>(i);
      DomainTuning tuning;
      tuning.emulator_pin = CpuSet{first, first + 1};
      out.push_back({names_[i], [tuning](const std::string& xml) { return patch_domain(xml, tuning); }});
    }
    return out;
  }

  fs::path dir_;
  FakeHypervisor hv_;
  ApplyOptions options_;
  std::vector<std::string> names_;
  std::map<std::string, std::string> before_;
};

TEST_F(ApplyChanges, AFailureAtTheThirdDefineRollsEveryDomainBack) {
  hv_.fail_define_number = 3;
  try {
    apply_changes(hv_, changes(), options_);
    FAIL() << "expected ApplyError";
  } catch (const ApplyError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("injected failure"), std::string::npos) << what;
    EXPECT_NE(what.find(fmt::format("rolled back {}, {}", names_[0], names_[1])), std::string::npos) << what;
  }
  // The first two were defined and then defined again from their backups;
  // the third was never changed.
  for (const std::string& name : names_) {
    Domain now = parse_domain_xml(hv_.definitions.at(name), name);
    Domain was = parse_domain_xml(before_.at(name), name);
    EXPECT_EQ(now.emulatorpin, was.emulatorpin) << name;
    EXPECT_TRUE(owned_differences(was, now).empty()) << name;
  }
  EXPECT_TRUE(list_backups(options_.backup_dir, kWholeHostManifest, ".tsv").empty());
}

TEST_F(ApplyChanges, SuccessDefinesAllAndRecordsTheBackupsForRestoreAll) {
  std::vector<ApplyResult> results = apply_changes(hv_, changes(), options_);
  ASSERT_EQ(results.size(), 3u);
  for (std::size_t i = 0; i < names_.size(); ++i) {
    EXPECT_TRUE(results[i].defined);
    const unsigned first = 2 + 2 * static_cast<unsigned>(i);
    EXPECT_EQ(parse_domain_xml(hv_.definitions.at(names_[i]), "x").emulatorpin, (CpuSet{first, first + 1}));
  }
  std::vector<Backup> records = list_backups(options_.backup_dir, kWholeHostManifest, ".tsv");
  ASSERT_EQ(records.size(), 1u);
  const std::string record = test::read_file(records.front().path);
  for (const ApplyResult& r : results) EXPECT_NE(record.find(r.domain + '\t' + r.backup + '\n'), std::string::npos);
  // Restoring each line puts every original definition back.
  for (const ApplyResult& r : results) restore_backup(hv_, r.domain, r.backup, options_.backup_dir);
  for (const std::string& name : names_) EXPECT_EQ(hv_.definitions.at(name), before_.at(name));
}

}  // namespace
}  // namespace vpt
