// The in-guest probe as built for the guests people run: the static Linux
// build and the Windows PE32+ build (under Wine), each run for real. What is
// checked comes from outside the probe: the ELF has no interpreter (static),
// the PE header says x86-64, the output parses with bench's reader, and the
// values fall in ranges any x86-64 machine gives (see guest/README.md for
// what Wine cannot show).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bench/guest_probe.hpp"
#include "bench/statistics.hpp"

namespace vpt {
namespace {

namespace fs = std::filesystem;

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

struct CommandRun {
  int exit_code = -1;
  std::string out;
};

CommandRun run(const std::string& command) {
  const fs::path out = fs::path(testing::TempDir()) / "vpt-guest-probe-out";
  CommandRun r;
  int status = std::system((command + " >'" + out.string() + "' 2>/dev/null </dev/null").c_str());
  if (status != -1 && WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  r.out = read_all(out);
  return r;
}

// Every record of the protocol, with plausible values for a real x86-64 CPU.
void expect_plausible(const GuestProbeOutput& o, const std::string& os, unsigned rounds) {
  EXPECT_TRUE(o.problems.empty()) << o.problems.front();
  EXPECT_TRUE(o.complete);
  EXPECT_EQ(o.version, 2u);
  EXPECT_EQ(o.os, os);
  EXPECT_EQ(o.rounds, rounds);
  ASSERT_TRUE(o.online_cpus.has_value());
  EXPECT_GE(*o.online_cpus, 1u);
  for (const GuestC2c& c : o.c2c) {
    EXPECT_TRUE(c.error.empty()) << c.error;
    ASSERT_EQ(c.samples_ns.rounds.size(), rounds);
    for (const auto& round : c.samples_ns.rounds) EXPECT_GE(round.size(), 2u);
    // A round trip between two CPUs of one machine: tens of ns to a millisecond.
    double m = *median(c.samples_ns.pooled());
    EXPECT_GT(m, 10);
    EXPECT_LT(m, 1e6);
  }
  ASSERT_EQ(o.chase.size(), 2u);
  double l1 = *median(o.chase[0].samples_ns.pooled()), l2 = *median(o.chase[1].samples_ns.pooled());
  EXPECT_GT(l1, 0.3);
  EXPECT_LT(l1, 20);
  EXPECT_LT(l2, 100);
  ASSERT_EQ(o.wakeup.size(), *o.online_cpus >= 64 ? 64u : *o.online_cpus);
  for (const GuestWakeup& w : o.wakeup) {
    EXPECT_TRUE(w.error.empty()) << w.error;
    EXPECT_EQ(w.interval_us, 1000u);
    ASSERT_EQ(w.samples_us.rounds.size(), rounds);
    EXPECT_EQ(w.samples_us.count(), 200u);
    // Never early (it is lateness), and a timer that fires at all fires within 20 ms.
    for (double x : w.samples_us.pooled()) EXPECT_GE(x, -1.0);
    EXPECT_LT(*median(w.samples_us.pooled()), 20000);
  }
}

TEST(LinuxProbe, IsStaticAndPrintsEveryRecordInRounds) {
  // No PT_INTERP: the kernel runs it without a dynamic loader, in any guest.
  CommandRun readelf = run(std::string("readelf -l '") + VPT_GUEST_PROBE_LINUX + "'");
  ASSERT_EQ(readelf.exit_code, 0);
  EXPECT_EQ(readelf.out.find("INTERP"), std::string::npos) << readelf.out;
  CommandRun r = run(std::string("'") + VPT_GUEST_PROBE_LINUX + "' --quick --rounds 2 --wakeups 200");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  GuestProbeOutput o = parse_guest_probe_output(r.out);
  expect_plausible(o, "linux", 2);
  EXPECT_EQ(o.wakeup.front().timer, "clock_nanosleep");
}

TEST(LinuxProbe, RefusesABadOptionWithExitCode2) {
  EXPECT_EQ(run(std::string("'") + VPT_GUEST_PROBE_LINUX + "' --cpus 3-1").exit_code, 2);
  EXPECT_EQ(run(std::string("'") + VPT_GUEST_PROBE_LINUX + "' --rounds 0").exit_code, 2);
  EXPECT_EQ(run(std::string("'") + VPT_GUEST_PROBE_LINUX + "' --bogus").exit_code, 2);
}

#ifdef VPT_GUEST_PROBE_WINDOWS
TEST(WindowsProbe, IsAnX86_64PeFile) {
  std::string exe = read_all(VPT_GUEST_PROBE_WINDOWS);
  ASSERT_GT(exe.size(), 0x40u);
  ASSERT_EQ(exe.substr(0, 2), "MZ");
  std::uint32_t pe = static_cast<unsigned char>(exe[0x3c]) | static_cast<unsigned char>(exe[0x3d]) << 8 |
                     static_cast<unsigned char>(exe[0x3e]) << 16 | static_cast<unsigned char>(exe[0x3f]) << 24;
  ASSERT_LT(pe + 26, exe.size());
  EXPECT_EQ(exe.substr(pe, 4), std::string("PE\0\0", 4));
  // COFF machine 0x8664 (x86-64); optional header magic 0x20b (PE32+).
  EXPECT_EQ(static_cast<unsigned char>(exe[pe + 4]) | static_cast<unsigned char>(exe[pe + 5]) << 8, 0x8664);
  EXPECT_EQ(static_cast<unsigned char>(exe[pe + 24]) | static_cast<unsigned char>(exe[pe + 25]) << 8, 0x20b);
}

TEST(WindowsProbe, RunsUnderWineAndPrintsEveryRecordInRounds) {
  if (std::string(VPT_WINE64).empty()) GTEST_SKIP() << "wine64 is not installed (scripts/install-deps.sh installs it)";
  // A prefix of our own in the build tree; no Mono or Gecko installers.
  const std::string env = std::string("WINEPREFIX='") + VPT_WINE_PREFIX +
                          "' WINEDEBUG=-all WINEDLLOVERRIDES='mscoree,mshtml=' ";
  CommandRun r = run(env + "'" + VPT_WINE64 + "' '" + VPT_GUEST_PROBE_WINDOWS + "' --quick --rounds 2 --wakeups 200");
  run(env + "'" + VPT_WINESERVER + "' -k");  // ends this prefix's server only; its exit status does not matter
  ASSERT_EQ(r.exit_code, 0) << r.out;
  GuestProbeOutput o = parse_guest_probe_output(r.out);
  expect_plausible(o, "windows", 2);
  // Wine 8 grants the high-resolution timer of Windows 10 1803+.
  EXPECT_EQ(o.wakeup.front().timer, "waitable-timer-high-resolution");
}
#endif

}  // namespace
}  // namespace vpt
