// The vpt-tune binary's check command: bad input, JSON, --fix --out, --apply.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/check/check_test_util.hpp"
#include "tests/vpt_tune_runner.hpp"

namespace vpt {
namespace {

namespace fs = std::filesystem;
using test::run_vpt_tune;

class CheckCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("vpt-check-cli-{}-{}", ::getpid(), ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string file(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  static std::string data(const std::string& path) { return std::string(VPT_DATA_DIR) + "/" + path; }
  test::CommandResult run(const std::string& args) { return run_vpt_tune("check " + args, dir_); }

  fs::path dir_;
};

void expect_one_line(const test::CommandResult& r, const std::string& start) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.rfind(start, 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_F(CheckCli, MalformedXmlIsOneLineExit2AndWritesNothing) {
  std::string bad = file("bad.xml", "<domain type='kvm'><name>x</name><vcpu>2</vcpu");
  auto r = run("--xml " + bad + " --fix --out " + (dir_ / "out.xml").string());
  expect_one_line(r, "vpt-tune: cannot read domain '" + bad + "': not well-formed XML");
  EXPECT_FALSE(fs::exists(dir_ / "out.xml"));
}

TEST_F(CheckCli, NonDomainDocumentIsOneLineExit2) {
  std::string net = file("net.xml", "<network><name>default</name></network>");
  expect_one_line(run("--xml " + net), "vpt-tune: cannot read domain '" + net + "': the root element is <network>");
}

TEST_F(CheckCli, UnknownDomainIsOneLineExit2) {
  expect_one_line(run("--connect test:///default --domain vpt-no-such-domain"),
                  "vpt-tune: cannot find domain 'vpt-no-such-domain'");
}

TEST_F(CheckCli, NoDomainIsOneLineExit2) { expect_one_line(run(""), "vpt-tune: check needs a domain"); }

TEST_F(CheckCli, OutWithoutFixIsRefused) {
  auto r = run("--xml " + data("domains/minimal.xml") + " --out " + (dir_ / "o.xml").string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--fix"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "o.xml"));
}

TEST_F(CheckCli, JsonHasTheSchemaAndTheFindings) {
  auto r = run("--xml " + data("domains/win10-untuned.xml") + " --lscpu " + data("lscpu/intel-core-i7-14700f.txt") +
               " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["schema"], "vpt-tune/check/1");
  EXPECT_EQ(j["domain"]["name"], "win10");
  bool stimer = false;
  for (const auto& f : j["findings"]) stimer |= f["id"] == "hyperv-stimer";
  EXPECT_TRUE(stimer);
}

TEST_F(CheckCli, FixOutWritesADefinitionWithoutErrorFindings) {
  const std::string out = (dir_ / "fixed.xml").string();
  const std::string host = " --lscpu " + data("lscpu/intel-core-i7-14700f.txt");
  auto r = run("--xml " + data("domains/win10-untuned.xml") + host + " --fix --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("wrote the fixed definition of domain 'win10' to " + out), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("after the fixes: 0 errors"), std::string::npos) << r.out;
  Domain d = load_domain_xml_file(out);
  EXPECT_TRUE(d.hyperv.at("stimer"));
  auto again = run("--xml " + out + host + " --json");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(nlohmann::json::parse(again.out)["counts"]["error"], 0);
}

TEST_F(CheckCli, FixWithoutOutOrApplyOnlyShowsTheDiff) {
  auto r = run("--xml " + data("domains/win10-untuned.xml") + " --fix");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("+++ win10 (fixed)"), std::string::npos);
  EXPECT_NE(r.out.find("nothing written"), std::string::npos);
}

TEST_F(CheckCli, ListNamesEveryCheck) {
  auto r = run("--list");
  ASSERT_EQ(r.exit_code, 0);
  for (const CheckInfo& c : check_table()) EXPECT_NE(r.out.find(c.id + " "), std::string::npos) << c.id;
}

TEST_F(CheckCli, FixApplyDefinesThroughLibvirtWithABackup) {
  // test:///default: libvirt's test driver, a fresh in-memory host per connection.
  auto r = run("--connect test:///default --domain test --fix --apply --backup-dir " + (dir_ / "backups").string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("domain 'test': new definition defined and verified"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("undo with: vpt-tune restore --domain test"), std::string::npos) << r.out;
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "backups"), fs::directory_iterator()), 1);
  // The backup says a fix took it: `restore latest` undoes a fix as it undoes an apply.
  const std::string name = fs::directory_iterator(dir_ / "backups")->path().filename().string();
  EXPECT_TRUE(name.starts_with("test.") && name.ends_with(".fix.xml")) << name;
}

}  // namespace
}  // namespace vpt
