// The in-guest probe's host side: the channel in the domain XML, the channel
// client against a real shell loop like the guest's /init (no VM), the output
// parser on hand-written probe lines, and compare on synthetic in-guest samples.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "bench/bench.hpp"
#include "bench/guest_probe.hpp"
#include "tests/virt/fake_hypervisor.hpp"
#include "tests/bench/results_fixture.hpp"

namespace vpt {
namespace {

// ---- guest_channel_path -------------------------------------------------------

std::string domain_with(const std::string& devices) {
  return "<domain type='qemu'><name>vm</name><devices>" + devices + "</devices></domain>";
}

TEST(GuestChannelPath, IsTheBoundUnixSerialOnPortOne) {
  std::string xml = domain_with(
      "<serial type='file'><source path='/run/console.log'/><target type='isa-serial' port='0'/></serial>"
      "<serial type='unix'><source mode='bind' path='/run/vm/cmd.sock'/><target type='isa-serial' port='1'/></serial>");
  EXPECT_EQ(guest_channel_path(xml), "/run/vm/cmd.sock");
}

TEST(GuestChannelPath, NoneWithoutAUnixSerialOnPortOne) {
  EXPECT_EQ(guest_channel_path(domain_with("")), std::nullopt);
  // On port 0 (the console), or QEMU as the client (mode='connect'): not a channel we can use.
  EXPECT_EQ(guest_channel_path(domain_with(
                "<serial type='unix'><source mode='bind' path='/a.sock'/><target port='0'/></serial>")),
            std::nullopt);
  EXPECT_EQ(guest_channel_path(domain_with(
                "<serial type='unix'><source mode='connect' path='/a.sock'/><target port='1'/></serial>")),
            std::nullopt);
}

TEST(GuestChannelPath, XmlThatDoesNotParseThrows) {
  EXPECT_THROW(guest_channel_path("<domain><devices>"), std::runtime_error);
}

// ---- run_guest_command against the guest's shell loop ------------------------

// A unix socket served by the same loop the guest's /init runs on its serial
// port, with `preamble` written first (stale output from before we connected).
class FakeGuest {
 public:
  explicit FakeGuest(const std::string& preamble = "", bool answer = true) {
    dir_ = std::filesystem::temp_directory_path() / ("vpt-guest-test-" + std::to_string(::getpid()) + "-" +
                                                     std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "cmd.sock").string();
    listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener_, 1) != 0)
      throw std::runtime_error("cannot listen on " + path_);
    child_ = ::fork();
    if (child_ == 0) {
      int conn = ::accept(listener_, nullptr, nullptr);
      if (conn < 0) _exit(1);
      if (!preamble.empty() && ::write(conn, preamble.data(), preamble.size()) < 0) _exit(1);
      ::dup2(conn, 0);
      ::dup2(conn, 1);
      ::dup2(conn, 2);
      if (answer) ::execl("/bin/sh", "sh", "-c", "while IFS= read -r l; do eval \"$l\"; done", nullptr);
      else ::execl("/bin/sh", "sh", "-c", "cat >/dev/null", nullptr);  // reads, never answers
      _exit(127);
    }
  }
  ~FakeGuest() {
    ::kill(child_, SIGKILL);
    ::waitpid(child_, nullptr, 0);
    ::close(listener_);
    std::filesystem::remove_all(dir_);
  }
  FakeGuest(const FakeGuest&) = delete;
  FakeGuest& operator=(const FakeGuest&) = delete;
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::filesystem::path dir_;
  std::string path_;
  int listener_ = -1;
  pid_t child_ = -1;
};

TEST(GuestCommand, ReturnsTheOutputBetweenTheMarkersAndTheExitCode) {
  FakeGuest guest;
  GuestReply r = run_guest_command(guest.path(), "echo one; echo two", std::chrono::seconds(5));
  EXPECT_EQ(r.output, "one\ntwo\n");
  EXPECT_EQ(r.exit_code, 0);
}

TEST(GuestCommand, ReportsTheCommandsExitCode) {
  FakeGuest guest;
  GuestReply r = run_guest_command(guest.path(), "echo failing; (exit 3)", std::chrono::seconds(5));
  EXPECT_EQ(r.output, "failing\n");
  EXPECT_EQ(r.exit_code, 3);
}

TEST(GuestCommand, SkipsStaleOutputAndCarriageReturns) {
  // What an earlier, interrupted command left in the channel, and a tty's CR LF.
  FakeGuest guest("c2c cpus=0,1 error=old\r\nVPT-END-1-0-0 rc=0\n");
  GuestReply r = run_guest_command(guest.path(), "printf 'a\\r\\nb\\n'", std::chrono::seconds(5));
  EXPECT_EQ(r.output, "a\nb\n");
}

TEST(GuestCommand, GivesUpAtTheTimeoutAndSaysWhat) {
  FakeGuest guest("", /*answer=*/false);
  auto start = std::chrono::steady_clock::now();
  try {
    run_guest_command(guest.path(), "true", std::chrono::milliseconds(300));
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot run 'true' in the guest through '" + guest.path() +
                                         "': no end marker within 300 ms"),
              std::string::npos)
        << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(GuestCommand, AGuestThatFloodsTheChannelIsCutOffAtTheCap) {
  // Lines at full speed, forever: bench grew from 0.9 to 8 GB in 25 s before the cap.
  FakeGuest guest;
  const auto start = std::chrono::steady_clock::now();
  try {
    run_guest_command(guest.path(), "while :; do echo c2c cpus=0,1 round_trips_per_sample=1000 ns=1,2,3,4,5,6,7,8; done",
                      std::chrono::seconds(60));
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("the guest sent more than 16 MiB before its end marker: stopped reading"),
              std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(50));
}

TEST(GuestCommand, AnEndlessLineIsCutOffAtTheCap) {
  FakeGuest guest;
  try {
    run_guest_command(guest.path(), "while :; do printf xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; done", std::chrono::seconds(60));
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("a line longer than 1024 KiB"), std::string::npos) << e.what();
  }
}

TEST(GuestCommand, AHugeExitCodeIsNotAnEndMarker) {
  // A guest sees the command line, end marker included ($l in the fake guest's loop), and
  // can answer it early; rc= beyond int is no exit code (std::stoi threw out_of_range, a
  // logic_error, here): the line is output and the real marker is awaited.
  FakeGuest guest;
  EXPECT_THROW(run_guest_command(guest.path(),
                                 "id=${l#echo VPT-BEGIN-}; id=${id%%;*}; echo VPT-END-$id rc=99999999999999999999; "
                                 "sleep 5",
                                 std::chrono::milliseconds(500)),
               std::runtime_error);
  FakeGuest fresh;
  GuestReply r = run_guest_command(fresh.path(), "id=${l#echo VPT-BEGIN-}; id=${id%%;*}; echo VPT-END-$id rc=7; echo no",
                                   std::chrono::seconds(5));
  EXPECT_EQ(r.exit_code, 7);  // the guest can end a command early: the marker is what it says
  EXPECT_EQ(r.output, "");
}

TEST(GuestCommand, MissingSocketAndMultiLineCommandsAreRefused) {
  EXPECT_THROW(run_guest_command("/nonexistent/vpt/cmd.sock", "true", std::chrono::seconds(1)), std::runtime_error);
  FakeGuest guest;
  EXPECT_THROW(run_guest_command(guest.path(), "true\nreboot", std::chrono::seconds(1)), std::runtime_error);
}

// ---- parse_guest_probe_output -------------------------------------------------

const char* const kOutput =
    "probe version=1 online_cpus=2 timer_ns=31.5\n"
    "c2c cpus=0,1 round_trips_per_sample=1 warmup=2 samples=3 median_ns=6000000.0 p99_ns=7000000.0 min_ns=5000000.0 "
    "max_ns=7000000.0 elapsed_ms=20.0\n"
    "c2c_samples cpus=0,1 ns=5000000.0,6000000.0,7000000.0\n"
    "[   12.345678] random: crng init done\n"
    "chase cpu=0 bytes=16384 loads_per_sample=1000 samples=2 median_ns=4.50\n"
    "chase_samples cpu=0 bytes=16384 ns=4.000,5.000\n"
    "end\n";

std::vector<std::vector<double>> one_round(std::vector<double> samples) { return {std::move(samples)}; }

TEST(GuestProbeOutput, ReadsEveryVersion1RecordAsOneRoundAndIgnoresForeignLines) {
  GuestProbeOutput o = parse_guest_probe_output(kOutput);
  EXPECT_EQ(o.version, 1u);
  EXPECT_EQ(o.online_cpus, 2u);
  EXPECT_EQ(o.timer_ns, 31.5);
  EXPECT_EQ(o.rounds, 1u);
  ASSERT_EQ(o.c2c.size(), 1u);
  EXPECT_EQ(o.c2c[0].cpu_a, 0u);
  EXPECT_EQ(o.c2c[0].cpu_b, 1u);
  EXPECT_EQ(o.c2c[0].round_trips_per_sample, 1u);
  EXPECT_EQ(o.c2c[0].samples_ns.rounds, one_round({5e6, 6e6, 7e6}));
  ASSERT_EQ(o.chase.size(), 1u);
  EXPECT_EQ(o.chase[0].bytes, 16384u);
  EXPECT_EQ(o.chase[0].loads_per_sample, 1000u);
  EXPECT_EQ(o.chase[0].samples_ns.rounds, one_round({4.0, 5.0}));
  EXPECT_TRUE(o.complete);
  EXPECT_TRUE(o.problems.empty()) << o.problems.front();
}

// Version 2 (guest/README.md): rounds, the OS, and wake-up records.
const char* const kOutput2 =
    "probe version=2 os=windows online_cpus=4 timer_ns=100.0 rounds=2 cpus=0-3\n"
    "c2c cpus=0,1 round=0 round_trips_per_sample=8 warmup=2 samples=2 median_ns=900.0\n"
    "c2c_samples cpus=0,1 round=0 ns=800.0,1000.0\n"
    "chase cpu=0 bytes=16384 round=0 loads_per_sample=5000 samples=2 median_ns=1.50\n"
    "chase_samples cpu=0 bytes=16384 round=0 ns=1.400,1.600\n"
    "wakeup cpu=0 round=0 interval_us=1000 timer=waitable-timer-high-resolution samples=3 p50_us=50.0\n"
    "wakeup_samples cpu=0 round=0 us=40.0,50.0,60.0\n"
    "c2c cpus=0,1 round=1 round_trips_per_sample=8 warmup=2 samples=2 median_ns=1100.0\n"
    "c2c_samples cpus=0,1 round=1 ns=1000.0,1200.0\n"
    "wakeup cpu=0 round=1 interval_us=1000 timer=waitable-timer-high-resolution samples=2 p50_us=55.0\n"
    "wakeup_samples cpu=0 round=1 us=50.0,60.0\n"
    "end\n";

TEST(GuestProbeOutput, ReadsVersion2RoundsAndWakeups) {
  GuestProbeOutput o = parse_guest_probe_output(kOutput2);
  EXPECT_TRUE(o.problems.empty()) << o.problems.front();
  EXPECT_EQ(o.version, 2u);
  EXPECT_EQ(o.os, "windows");
  EXPECT_EQ(o.rounds, 2u);
  ASSERT_EQ(o.c2c.size(), 1u);
  EXPECT_EQ(o.c2c[0].samples_ns.rounds, (std::vector<std::vector<double>>{{800, 1000}, {1000, 1200}}));
  // The chase ran in round 0 only: round 1 is there, empty.
  ASSERT_EQ(o.chase.size(), 1u);
  EXPECT_EQ(o.chase[0].samples_ns.rounds, (std::vector<std::vector<double>>{{1.4, 1.6}, {}}));
  ASSERT_EQ(o.wakeup.size(), 1u);
  EXPECT_EQ(o.wakeup[0].cpu, 0u);
  EXPECT_EQ(o.wakeup[0].interval_us, 1000u);
  EXPECT_EQ(o.wakeup[0].timer, "waitable-timer-high-resolution");
  EXPECT_EQ(o.wakeup[0].samples_us.rounds, (std::vector<std::vector<double>>{{40, 50, 60}, {50, 60}}));
  EXPECT_TRUE(o.complete);
}

TEST(GuestProbeOutput, CarriageReturnsDoNotMatter) {
  std::string crlf;
  for (const char* p = kOutput2; *p; ++p) {
    if (*p == '\n') crlf += '\r';
    crlf += *p;
  }
  EXPECT_EQ(parse_guest_probe_output(crlf), parse_guest_probe_output(kOutput2));
}

TEST(GuestProbeOutput, AnErrorRecordKeepsTheRestOfTheLine) {
  GuestProbeOutput o = parse_guest_probe_output(
      "probe version=1 online_cpus=1 timer_ns=20\nc2c cpus=0,1 error=cannot pin to CPU 1: Invalid argument\nend\n");
  ASSERT_EQ(o.c2c.size(), 1u);
  EXPECT_EQ(o.c2c[0].error, "cannot pin to CPU 1: Invalid argument");
  EXPECT_TRUE(o.c2c[0].samples_ns.empty());
  EXPECT_TRUE(o.problems.empty());
}

TEST(GuestProbeOutput, TerminalControlFromTheGuestNeverComesBackRaw) {
  // ESC[2J clears the screen; OSC 52 (ESC]52;c;...BEL) writes root's clipboard.
  const std::string hostile = "\x1b[2J\x1b]52;c;cm0gLXJmIC8=\x07";
  GuestProbeOutput o = parse_guest_probe_output("probe version=1 online_cpus=2 timer_ns=20\nc2c cpus=0,1 error=" +
                                                hostile + "\nc2c_samples cpus=0,1 ns=" + hostile + "\nend\n");
  ASSERT_EQ(o.c2c.size(), 1u);
  EXPECT_EQ(o.c2c[0].error, "?[2J?]52;c;cm0gLXJmIC8=?");
  ASSERT_FALSE(o.problems.empty());
  for (const std::string& p : o.problems) {
    EXPECT_EQ(p.find('\x1b'), std::string::npos) << p;
    EXPECT_EQ(p.find('\x07'), std::string::npos) << p;
  }
}

TEST(GuestProbeOutput, AFloodOfDistinctRowsStaysSmall) {
  // 9.9 MiB of distinct c2c lines once became a 395 MB results file.
  std::string text = "probe version=2 online_cpus=4096 timer_ns=20 rounds=1\n";
  for (unsigned a = 0; text.size() < (9u << 20) + (9u << 20) / 10; ++a)
    text += fmt::format("c2c cpus={},{} round_trips_per_sample=1000\nc2c_samples cpus={},{} round=0 ns=1,2,3,4\n",
                        a % 4096, a / 4096, a % 4096, a / 4096);
  text += "end\n";
  GuestProbeOutput o = parse_guest_probe_output(text);
  EXPECT_EQ(o.c2c.size(), 4096u);
  EXPECT_LE(o.problems.size(), 51u);
  EXPECT_NE(o.problems.back().find("more problems not shown"), std::string::npos) << o.problems.back();

  // CPUs the guest said it does not have are not rows.
  GuestProbeOutput two = parse_guest_probe_output(
      "probe version=2 online_cpus=2 timer_ns=20 rounds=1\nc2c cpus=0,7 round_trips_per_sample=1\n"
      "wakeup cpu=9 interval_us=100\nend\n");
  EXPECT_TRUE(two.c2c.empty());
  EXPECT_TRUE(two.wakeup.empty());
  EXPECT_EQ(two.problems.size(), 2u);
}

TEST(GuestProbeOutput, BadSampleListsAndMissingPartsAreProblemsNotCrashes) {
  GuestProbeOutput o = parse_guest_probe_output(
      "probe version=1\n"
      "c2c_samples cpus=0,1 ns=1.0,abc,3\n"
      "chase_samples cpu=0 bytes=4096 ns=1,nan\n"
      "c2c cpus=zero error=x\n");
  EXPECT_TRUE(o.c2c.empty() || o.c2c[0].samples_ns.empty());
  EXPECT_FALSE(o.complete);
  // bad c2c list, bad chase list, bad cpus, two samples without summaries, no end line
  EXPECT_EQ(o.problems.size(), 6u);
  EXPECT_FALSE(parse_guest_probe_output("sh: vpt-guest-probe: not found\n").problems.empty());
  EXPECT_FALSE(parse_guest_probe_output("").problems.empty());
}

TEST(GuestProbeOutput, HugeRoundNumbersAreProblemsNotAllocations) {
  GuestProbeOutput o = parse_guest_probe_output(
      "probe version=2 rounds=4000000000\nwakeup_samples cpu=0 round=4000000000 us=1\n"
      "wakeup cpu=99999 round=1 error=x\nend\n");
  EXPECT_EQ(o.rounds, 1u);
  EXPECT_EQ(o.problems.size(), 2u);
  ASSERT_EQ(o.wakeup.size(), 1u);
  EXPECT_EQ(o.wakeup[0].cpu, 99999u);
}

TEST(GuestProbeOutput, CpuNumbersTheResultsReaderRefusesAreProblems) {
  // The results reader (and CpuSet::parse) stop at CPU 1048575: a larger vCPU number
  // in the probe's output made the saved results unreadable (found by
  // tests/fuzz/guest_probe_fuzz.cpp).
  GuestProbeOutput o = parse_guest_probe_output(
      "probe version=2 rounds=1\nwakeup cpu=1111114 round=0 error=x\nchase cpu=1048576 bytes=16384 round=0 "
      "error=x\nc2c cpus=0,4294967295 round=0 error=x\nwakeup cpu=1048575 round=0 error=x\nend\n");
  EXPECT_EQ(o.problems.size(), 3u);
  ASSERT_EQ(o.wakeup.size(), 1u);
  EXPECT_EQ(o.wakeup[0].cpu, 1048575u);
  EXPECT_TRUE(o.chase.empty());
  EXPECT_TRUE(o.c2c.empty());
}

// ---- the "guest" section and compare ----------------------------------------------

// A guest section with one vCPU pair and one chase size, samples in 5 rounds.
GuestResults run_with(const std::vector<double>& c2c_ns, const std::vector<double>& chase_ns) {
  GuestResults run;
  run.channel = "serial";
  run.via = "/run/vm/cmd.sock";
  run.command = "vpt-guest-probe --quick --rounds 5";
  run.exit_code = 0;
  run.output.version = 2;
  run.output.online_cpus = 2;
  run.output.rounds = 5;
  run.output.complete = true;
  run.output.c2c = {{0, 1, 1, RoundSamples::split(c2c_ns, 5), ""}};
  run.output.chase = {{0, 16384, 1000, RoundSamples::split(chase_ns, 5), ""}};
  return run;
}

TEST(GuestSection, KeepsSamplesByRoundAndRecomputesTheMedian) {
  Results r = test::sample_results();
  r.guest = run_with({3e6, 1e6, 2e6, 4e6, 5e6}, {4.0, 5.0, 4.0, 5.0, 6.0});
  nlohmann::json g = nlohmann::json::parse(results_to_json_text(r))["guest"];
  EXPECT_EQ(g["c2c"][0]["cpus"], nlohmann::json({0, 1}));
  EXPECT_EQ(g["c2c"][0]["samples_ns"], nlohmann::json({{3e6}, {1e6}, {2e6}, {4e6}, {5e6}}));
  EXPECT_EQ(g["c2c"][0]["median_ns"], 3e6);
  EXPECT_TRUE(g["c2c"][0]["p99_ns"].is_null());  // p99 needs 100 samples
  EXPECT_EQ(g["chase"][0]["median_ns"], 5.0);
  EXPECT_EQ(g["channel"], "serial");
  EXPECT_EQ(g["via"], "/run/vm/cmd.sock");
  Results back = results_from_json_text(results_to_json_text(r), "r.json");
  EXPECT_EQ(back.guest, r.guest);
}

// Found by fuzzing (tests/fuzz/regressions/guest_probe): a console sending
// bytes that are not UTF-8 made the section's JSON throw, losing the whole run.
TEST(GuestSection, BytesThatAreNotUtf8AreReplacedNotFatal) {
  Results r = test::sample_results();
  r.guest.emplace();
  r.guest->channel = "serial";
  r.guest->output = parse_guest_probe_output("probe version=1\nc2c cpus=0,1 error=pin \x96\xff failed\nend\n");
  ASSERT_EQ(r.guest->output.c2c.size(), 1u);
  r.host.hostname = "box\xff";  // /proc and uname are not UTF-8 either, necessarily
  nlohmann::json g = nlohmann::json::parse(results_to_json_text(r))["guest"];
  EXPECT_EQ(g["c2c"][0]["error"], "pin \xef\xbf\xbd\xef\xbf\xbd failed");  // U+FFFD twice
  EXPECT_NO_THROW(results_from_json_text(results_to_json_text(r), "r.json"));
}

// Round trips like the ones measured on the live guest: 5-8 ms with both vCPUs
// on one host CPU, 4-7 us on two.
std::vector<double> uniform(double low, double high, std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> d(low, high);
  std::vector<double> v;
  for (std::size_t i = 0; i < n; ++i) v.push_back(d(rng));
  return v;
}

const ComparisonRow* row_named(const Comparison& c, const std::string& name) {
  for (const auto& row : c.rows)
    if (row.metric == name) return &row;
  return nullptr;
}

TEST(CompareGuest, MillisecondsToMicrosecondsIsBetterOnRoundsWithOneRunASide) {
  Results before = test::sample_results(), after = test::sample_results();
  before.guest = run_with(uniform(5e6, 8e6, 30, 1), uniform(4, 5, 15, 2));
  after.guest = run_with(uniform(4e3, 7e3, 200, 3), uniform(4, 5, 15, 4));
  Comparison c = compare_results(before, after, "before.json", "after.json", {});
  const ComparisonRow* row = row_named(c, "guest_c2c vCPU 0 <-> 1, round trip");
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->verdict, Verdict::Better) << row->reason;
  EXPECT_EQ(row->unit_of_test, TestUnit::Rounds);
  // Every after round below every before round: the smallest exact p of 5 vs 5.
  EXPECT_NEAR(*row->p_value, 2.0 / 252, 1e-12);
  EXPECT_EQ(row->n_before, 30u);
  EXPECT_EQ(row->n_after, 200u);
  EXPECT_LT(*row->change, -0.99);
  // Chase samples drawn from one distribution on both sides.
  const ComparisonRow* chase = row_named(c, "guest_chase 16 KiB on vCPU 0");
  ASSERT_NE(chase, nullptr);
  EXPECT_NE(chase->verdict, Verdict::Better);
  EXPECT_NE(chase->verdict, Verdict::Worse);
}

TEST(CompareGuest, TheSameLayoutTwiceIsWithinNoise) {
  Results before = test::sample_results(), after = test::sample_results();
  before.guest = run_with(uniform(4e3, 7e3, 200, 5), {});
  after.guest = run_with(uniform(4e3, 7e3, 200, 6), {});
  Comparison c = compare_results(before, after, "a.json", "b.json", {});
  const ComparisonRow* row = row_named(c, "guest_c2c vCPU 0 <-> 1, round trip");
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->verdict, Verdict::WithinNoise) << row->reason;
}

// ---- run_guest_probe with a domain source ------------------------------------

// A running domain "vm" whose live XML is `xml`.
struct XmlDomain {
  explicit XmlDomain(const std::string& xml) {
    connection.definitions["vm"] = xml;
    connection.running = true;
  }
  test::FakeHypervisor connection;
  MeasuredDomain domain{connection, "vm"};
};

TEST(RunGuestProbe, WithoutAChannelWarnsAndAddsNoSection) {
  Results r;
  XmlDomain vm(domain_with(""));
  run_guest_probe(r, vm.domain, {}, nullptr);
  EXPECT_FALSE(r.guest);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("has neither a guest agent channel"), std::string::npos) << r.warnings[0];
}

TEST(RunGuestProbe, AGuestWithoutTheProbeIsRecordedAsAFailure) {
  FakeGuest guest;  // a shell, but no vpt-guest-probe on its PATH
  XmlDomain vm(domain_with("<serial type='unix'><source mode='bind' path='" + guest.path() +
                           "'/><target port='1'/></serial>"));
  Results r;
  GuestProbeOptions o;
  o.command = "vpt-guest-probe-not-installed --quick";
  o.timeout = std::chrono::seconds(5);
  run_guest_probe(r, vm.domain, o, nullptr);
  ASSERT_TRUE(r.guest);
  EXPECT_EQ(r.guest->exit_code, 127);
  EXPECT_TRUE(r.guest->output.c2c.empty());
  EXPECT_FALSE(r.warnings.empty());
}

}  // namespace
}  // namespace vpt
