// The libvirt DomainSource against libvirt's test driver (no daemon). Expected
// pins are those written in data/test-driver-node.xml, and for test:///default
// those `virsh -c test:///default vcpupin test` prints (0-7: its 8-CPU map).
#include <gtest/gtest.h>

#include "bench/bench.hpp"
#include "tests/probe/cpuset_printer.hpp"

namespace vpt {
namespace {

const std::string kNodeUri = std::string("test://") + VPT_BENCH_TEST_DATA + "/test-driver-node.xml";

TEST(LibvirtTestDriver, ReadsPinsFromCputune) {
  auto domain = open_libvirt_domain(kNodeUri, "pinned");
  EXPECT_EQ(domain->name(), "pinned");
  DomainPins pins = domain->read_pins();
  ASSERT_EQ(pins.vcpus.size(), 2u);
  EXPECT_EQ(pins.vcpus[0], CpuSet{1});        // <vcpupin vcpu='0' cpuset='1'/>
  EXPECT_EQ(pins.vcpus[1], (CpuSet{2, 3}));   // <vcpupin vcpu='1' cpuset='2-3'/>
  EXPECT_EQ(pins.emulator, CpuSet{0});        // <emulatorpin cpuset='0'/>
  ASSERT_EQ(pins.iothreads.size(), 1u);
  EXPECT_EQ(pins.iothreads[0].id, 1u);
  EXPECT_EQ(pins.iothreads[0].cpus, CpuSet{3});  // <iothreadpin iothread='1' cpuset='3'/>
}

TEST(LibvirtTestDriver, UnpinnedDefaultDomainMayRunAnywhere) {
  DomainPins pins = open_libvirt_domain("test:///default", "test")->read_pins();
  ASSERT_EQ(pins.vcpus.size(), 2u);
  EXPECT_EQ(pins.vcpus[0], CpuSet::range(0, 7));
  EXPECT_EQ(pins.emulator, CpuSet::range(0, 7));
  EXPECT_TRUE(pins.iothreads.empty());
}

TEST(LibvirtTestDriver, RefusesADomainThatIsNotRunning) {
  try {
    open_libvirt_domain(kNodeUri, "stopped");
    ADD_FAILURE();
  } catch (const BenchInputError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot measure domain 'stopped': it is not running");
  }
}

TEST(LibvirtTestDriver, UnknownDomainCarriesLibvirtsMessage) {
  try {
    open_libvirt_domain("test:///default", "nope");
    ADD_FAILURE();
  } catch (const std::runtime_error& e) {
    std::string message = e.what();
    EXPECT_TRUE(message.starts_with("cannot find domain 'nope' at 'test:///default': ")) << message;
    EXPECT_NE(message.find("nope"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST(LibvirtTestDriver, BadUriCarriesLibvirtsMessage) {
  try {
    open_libvirt_domain("test:///nonexistent/node.xml", "x");
    ADD_FAILURE();
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(std::string(e.what()).starts_with("cannot connect to libvirt 'test:///nonexistent/node.xml': "))
        << e.what();
  }
}

}  // namespace
}  // namespace vpt
