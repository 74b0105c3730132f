// bench's view of a libvirt domain, through the one libvirt layer
// (virt/libvirt_connection.hpp), against libvirt's test driver (no daemon).
// Expected pins are those written in data/test-driver-node.xml, and for
// test:///default those `virsh -c test:///default vcpupin test` prints (0-7:
// its 8-CPU map). The last tests are the gaps the old separate bench layer had:
// no lookup by UUID, and an unknown domain that was a run-time failure (exit 1)
// with its own wording instead of bad input (exit 2) as for suggest.
#include <gtest/gtest.h>

#include <filesystem>

#include "bench/bench.hpp"
#include "tests/common/cpuset_printer.hpp"
#include "tests/vpt_tune_runner.hpp"
#include "virt/domain.hpp"

namespace vpt {
namespace {

namespace fs = std::filesystem;

const std::string kNodeUri = std::string("test://") + VPT_BENCH_TEST_DATA + "/test-driver-node.xml";
constexpr const char* kTestDomainUuid = "6695eb01-f6a4-8304-79aa-97f2502e193f";  // test:///default's 'test'

TEST(MeasuredDomain, ReadsPinsFromCputune) {
  auto connection = connect_libvirt(kNodeUri, false);
  MeasuredDomain domain = open_measured_domain(*connection, "pinned");
  EXPECT_EQ(domain.name, "pinned");
  LivePins pins = domain.connection.live_pins(domain.name);
  ASSERT_EQ(pins.vcpus.size(), 2u);
  EXPECT_EQ(pins.vcpus[0], CpuSet{1});        // <vcpupin vcpu='0' cpuset='1'/>
  EXPECT_EQ(pins.vcpus[1], (CpuSet{2, 3}));   // <vcpupin vcpu='1' cpuset='2-3'/>
  EXPECT_EQ(pins.emulator, CpuSet{0});        // <emulatorpin cpuset='0'/>
  ASSERT_EQ(pins.iothreads.size(), 1u);
  EXPECT_EQ(pins.iothreads.at(1), CpuSet{3});  // <iothreadpin iothread='1' cpuset='3'/>
}

TEST(MeasuredDomain, UnpinnedDefaultDomainMayRunAnywhere) {
  auto connection = connect_libvirt("test:///default", false);
  LivePins pins = connection->live_pins(open_measured_domain(*connection, "test").name);
  ASSERT_EQ(pins.vcpus.size(), 2u);
  EXPECT_EQ(pins.vcpus[0], CpuSet::range(0, 7));
  EXPECT_EQ(pins.emulator, CpuSet::range(0, 7));
  EXPECT_TRUE(pins.iothreads.empty());
}

TEST(MeasuredDomain, LiveXmlIsTheRunningDomains) {
  auto connection = connect_libvirt(kNodeUri, false);
  std::string xml = connection->live_xml("pinned");
  EXPECT_NE(xml.find("<name>pinned</name>"), std::string::npos);
  EXPECT_NE(xml.find("<vcpupin vcpu='1' cpuset='2-3'/>"), std::string::npos) << xml;
}

TEST(MeasuredDomain, RefusesADomainThatIsNotRunning) {
  auto connection = connect_libvirt(kNodeUri, false);
  try {
    open_measured_domain(*connection, "stopped");
    ADD_FAILURE();
  } catch (const BenchInputError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot measure domain 'stopped': it is not running");
  }
}

TEST(MeasuredDomain, BadUriCarriesLibvirtsMessage) {
  try {
    connect_libvirt("test:///nonexistent/node.xml", false);
    ADD_FAILURE();
  } catch (const LibvirtError& e) {
    EXPECT_TRUE(std::string(e.what()).starts_with("cannot connect to 'test:///nonexistent/node.xml': ")) << e.what();
  }
}

TEST(MeasuredDomain, TheTestDriverHasNoGuestAgent) {
  // An agent command on a driver without agents is one line naming the domain, never a crash.
  auto connection = connect_libvirt("test:///default", true);
  try {
    connection->agent_command("test", R"({"execute":"guest-ping"})", std::chrono::seconds(2));
    ADD_FAILURE();
  } catch (const AgentError& e) {
    std::string what = e.what();
    EXPECT_TRUE(what.starts_with("cannot run guest agent command 'guest-ping' in domain 'test' on 'test:///default': "))
        << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

// ---- Gaps of the old bench-only libvirt layer ----

TEST(MeasuredDomain, FindsTheDomainByUuidLikeSuggest) {
  auto connection = connect_libvirt("test:///default", false);
  EXPECT_EQ(open_measured_domain(*connection, kTestDomainUuid).name, "test");
}

TEST(MeasuredDomain, UnknownDomainIsBadInputWithLibvirtsMessage) {
  auto connection = connect_libvirt("test:///default", false);
  try {
    open_measured_domain(*connection, "nope");
    ADD_FAILURE();
  } catch (const DomainInputError& e) {
    std::string message = e.what();
    EXPECT_TRUE(message.starts_with("cannot find domain 'nope' on 'test:///default': ")) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST(MeasuredDomain, BenchAndSuggestSayTheSameAboutAnUnknownDomain) {
  const fs::path dir = testing::TempDir();
  test::CommandResult bench = test::run_vpt_tune("bench --quick --connect test:///default --domain nope", dir);
  test::CommandResult suggest = test::run_vpt_tune("suggest --connect test:///default --domain nope", dir);
  EXPECT_EQ(bench.exit_code, 2) << bench.err;  // was 1: a run-time failure
  EXPECT_EQ(suggest.exit_code, 2) << suggest.err;
  EXPECT_EQ(bench.err, suggest.err);
  EXPECT_TRUE(bench.err.starts_with("vpt-tune: cannot find domain 'nope' on 'test:///default': ")) << bench.err;
}

TEST(MeasuredDomain, BenchMeasuresADomainGivenByUuid) {
  // Fails before any kernel runs when the lookup fails; a found domain whose
  // QEMU is not on this host is measured with a warning (libvirt's pins used).
  const fs::path dir = testing::TempDir();
  test::CommandResult r = test::run_vpt_tune(
      std::string("bench --quick --connect test:///default --domain ") + kTestDomainUuid + " --no-guest", dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Domain 'test' (test:///default)"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace vpt
