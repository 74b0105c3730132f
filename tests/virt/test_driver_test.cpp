// libvirt's own test driver (no daemon): every connection starts from the
// driver's default state or from the node file it is given.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/virt/virt_test_util.hpp"
#include "virt/apply.hpp"
#include "virt/domain_xml.hpp"
#include "virt/libvirt_connection.hpp"

namespace vpt {
namespace {

namespace fs = std::filesystem;
using test::make_plan;

constexpr const char* kDefaultUri = "test:///default";
constexpr const char* kTestDomainUuid = "6695eb01-f6a4-8304-79aa-97f2502e193f";  // the driver's built-in 'test'

// A node with one running guest that has two iothreads.
constexpr const char* kNodeXml = R"(<node>
  <cpu><nodes>1</nodes><sockets>1</sockets><cores>4</cores><threads>2</threads><active>8</active><mhz>2000</mhz><model>i686</model></cpu>
  <memory>8388608</memory>
  <domain type='test'>
    <name>guest1</name>
    <memory>1048576</memory>
    <vcpu>2</vcpu>
    <iothreads>2</iothreads>
    <os><type>hvm</type></os>
  </domain>
</node>
)";

class TestDriver : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("vpt-testdrv-{}-{}", ::getpid(), ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    std::ofstream(dir_ / "node.xml") << kNodeXml;
    node_uri_ = "test://" + (dir_ / "node.xml").string();
    options_.backup_dir = (dir_ / "backups").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  std::string node_uri_;
  ApplyOptions options_;
};

TEST_F(TestDriver, FindsDomainsByNameAndUuid) {
  auto hv = connect_libvirt(kDefaultUri, false);
  EXPECT_EQ(hv->uri(), kDefaultUri);
  EXPECT_EQ(hv->find_domain("test"), "test");
  EXPECT_EQ(hv->find_domain(kTestDomainUuid), "test");
  EXPECT_TRUE(hv->is_running("test"));
}

TEST_F(TestDriver, UnknownDomainIsOneLineWithLibvirtsReason) {
  auto hv = connect_libvirt(kDefaultUri, false);
  ::testing::internal::CaptureStderr();
  try {
    hv->find_domain("nosuch");
    FAIL() << "expected DomainInputError";
  } catch (const DomainInputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot find domain 'nosuch' on 'test:///default': Domain not found");
  }
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");  // libvirt's own printing is off
}

TEST_F(TestDriver, UnreachableUriIsOneLineWithLibvirtsReason) {
  ::testing::internal::CaptureStderr();
  try {
    connect_libvirt("qemu+unix:///system?socket=/nonexistent/libvirt-sock", false);
    FAIL() << "expected LibvirtError";
  } catch (const LibvirtError& e) {
    std::string what = e.what();
    EXPECT_EQ(what.rfind("cannot connect to 'qemu+unix:///system?socket=/nonexistent/libvirt-sock': ", 0), 0u) << what;
    EXPECT_NE(what.find("No such file or directory"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos);
  }
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST_F(TestDriver, DefinesAndReadsBackAPatchedDefinition) {
  auto hv = connect_libvirt(kDefaultUri, true);
  GuestPlan plan = make_plan(2, 2, CpuSet{0}, {CpuSet{1}}, {1, 1, 1, 2});
  const std::string old_xml = hv->definition_xml("test", true);
  hv->define(patch_domain_xml(old_xml, plan));
  Domain back = parse_domain_xml(hv->definition_xml("test", true), "test");
  EXPECT_EQ(back.vcpupins.at(0), CpuSet{2});
  EXPECT_EQ(back.vcpupins.at(1), CpuSet{3});
  EXPECT_EQ(back.emulatorpin, CpuSet{0});
  EXPECT_EQ(back.iothreadpins.at(1), CpuSet{1});
  EXPECT_EQ(back.cpu_mode, "host-passthrough");
  ASSERT_TRUE(back.cpu_topology);
  EXPECT_EQ(back.cpu_topology->threads, 2u);
}

TEST_F(TestDriver, ApplyBacksUpDefinesVerifiesAndIsIdempotent) {
  auto hv = connect_libvirt(kDefaultUri, true);
  const std::string before = hv->definition_xml("test", true);
  GuestPlan plan = make_plan(2, 4, CpuSet{0, 1}, {CpuSet{1}}, {1, 1, 2, 1});
  ApplyResult first = apply_plan(*hv, "test", plan, options_);
  EXPECT_TRUE(first.defined);
  EXPECT_EQ(test::read_file(first.backup), before);
  ApplyResult second = apply_plan(*hv, "test", plan, options_);
  EXPECT_FALSE(second.defined);
  EXPECT_EQ(list_backups(options_.backup_dir, "test").size(), 1u);
  restore_backup(*hv, "test", first.backup, options_.backup_dir);
  EXPECT_EQ(hv->definition_xml("test", true), before);
}

TEST_F(TestDriver, ReadOnlyConnectionCannotApplyAndChangesNothing) {
  // What a user without write access gets: libvirt's "operation forbidden", before any backup or define.
  auto hv = connect_libvirt(kDefaultUri, false);
  const std::string before = hv->definition_xml("test", false);
  try {
    apply_plan(*hv, "test", make_plan(2, 4, CpuSet{0}, {CpuSet{1}}, {1, 1, 2, 1}), options_);
    FAIL() << "expected LibvirtError";
  } catch (const LibvirtError& e) {
    std::string what = e.what();
    EXPECT_EQ(what.rfind("cannot read the definition of domain 'test' on 'test:///default': operation forbidden", 0), 0u)
        << what;
  }
  EXPECT_EQ(hv->definition_xml("test", false), before);
  EXPECT_FALSE(fs::exists(options_.backup_dir));
}

TEST_F(TestDriver, PinsEmulatorAndIothreadsOfARunningGuest) {
  auto hv = connect_libvirt(node_uri_, true);
  ASSERT_TRUE(hv->is_running("guest1"));
  hv->pin_emulator_live("guest1", CpuSet{3});
  hv->pin_iothread_live("guest1", 2, CpuSet{5, 6});
  LivePins pins = hv->live_pins("guest1");
  EXPECT_EQ(pins.emulator, CpuSet{3});
  EXPECT_EQ(pins.iothreads.at(2), (CpuSet{5, 6}));
  EXPECT_EQ(pins.vcpus.size(), 2u);
  // An iothread the guest does not have is refused, with libvirt's reason.
  EXPECT_THROW(hv->pin_iothread_live("guest1", 7, CpuSet{1}), LibvirtError);
}

TEST_F(TestDriver, RefusedLiveVcpuPinRollsBackLivePinsAndDefinition) {
  // The test driver refuses VIR_DOMAIN_AFFECT_LIVE for vCPU pins ("unsupported
  // flags"): a real refusal after the emulator and iothreads were pinned.
  auto hv = connect_libvirt(node_uri_, true);
  const std::string before_xml = hv->definition_xml("guest1", true);
  const LivePins before = hv->live_pins("guest1");
  options_.live = true;
  GuestPlan plan = make_plan(2, 6, CpuSet{0}, {CpuSet{1}, CpuSet{2}}, {1, 1, 2, 1});
  try {
    apply_plan(*hv, "guest1", plan, options_);
    FAIL() << "expected ApplyError";
  } catch (const ApplyError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("cannot pin running domain 'guest1': cannot pin vCPU 0 to CPUs 6 of domain 'guest1'"),
              std::string::npos) << what;
    EXPECT_NE(what.find("unsupported flags"), std::string::npos) << what;
    EXPECT_NE(what.find("the previous live pins were put back and the previous definition was defined again"),
              std::string::npos) << what;
  }
  EXPECT_EQ(hv->live_pins("guest1"), before);
  EXPECT_EQ(hv->definition_xml("guest1", true), before_xml);
}

}  // namespace
}  // namespace vpt
