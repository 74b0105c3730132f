// The in-guest probe through the QEMU guest agent, without a VM: a fake agent
// that answers like qemu-ga (qapi/qga) and runs guest-exec for real on this
// host, which is a Linux x86-64 "guest" for the static probe. What is checked
// comes from outside bench: the bytes that arrive are the build's file, the
// file is gone afterwards, the commands qemu-ga saw, the elapsed time.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "bench/bench.hpp"
#include "bench/guest_agent.hpp"
#include "bench/probe_hashes.hpp"
#include "common/sha256.hpp"
#include "tests/virt/fake_hypervisor.hpp"

namespace vpt {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// Runs path + args on this host; stdout and stderr through files.
struct Finished {
  int exit_code = -1;
  std::string out, err;
};
Finished run_here(const std::string& path, const std::vector<std::string>& args) {
  const fs::path dir = fs::path(testing::TempDir());
  // Per process: test processes that ctest runs side by side must not share them.
  const fs::path out = dir / fmt::format("vpt-agent-exec-out-{}", ::getpid()),
                 err = dir / fmt::format("vpt-agent-exec-err-{}", ::getpid());
  pid_t child = ::fork();
  if (child == 0) {
    std::vector<char*> argv{const_cast<char*>(path.c_str())};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    if (!std::freopen(out.c_str(), "w", stdout) || !std::freopen(err.c_str(), "w", stderr)) _exit(127);
    ::execv(path.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_bytes(out), read_bytes(err)};
}

// qemu-ga as far as bench uses it. Files are written where the guest path says
// (this host is the guest); guest-exec runs synchronously, or, with
// `probe_stuck`, the probe's run never reports an exit.
class FakeAgent {
 public:
  std::string version = "7.2.0";
  json osinfo = {{"id", "debian"}, {"pretty-name", "Fake Linux"}, {"kernel-release", "6.1.0"}, {"machine", "x86_64"}};
  std::vector<std::string> missing, blocked;           // commands guest-info leaves out / marks disabled
  std::map<std::string, std::string> canned;           // guest-exec path -> the output it "prints" (not run)
  std::string exe_output;                              // what any *.exe "prints" (a Windows guest's probe)
  bool probe_stuck = false;                              // the probe's run never exits
  std::optional<json> status_reply;                     // what guest-exec-status of the probe's run returns (hostile)
  std::map<std::string, std::string> files;            // every file written: path -> bytes
  std::vector<json> commands;                          // every command, in order

  std::string operator()(const std::string& text) {
    json c = json::parse(text);
    commands.push_back(c);
    const std::string name = c["execute"];
    const json& a = c.contains("arguments") ? c["arguments"] : json::object();
    if (name == "guest-ping") return R"({"return": {}})";
    if (name == "guest-info") {
      json list = json::array();
      for (const char* n : {"guest-ping", "guest-info", "guest-get-osinfo", "guest-file-open", "guest-file-write",
                            "guest-file-close", "guest-exec", "guest-exec-status"}) {
        if (std::find(missing.begin(), missing.end(), n) != missing.end()) continue;
        bool off = std::find(blocked.begin(), blocked.end(), n) != blocked.end();
        list.push_back({{"name", n}, {"enabled", !off}, {"success-response", true}});
      }
      return json({{"return", {{"version", version}, {"supported_commands", list}}}}).dump();
    }
    if (name == "guest-get-osinfo") return json({{"return", osinfo}}).dump();
    if (name == "guest-file-open") {
      open_[++handle_] = a["path"];
      files[a["path"]].clear();
      return json({{"return", handle_}}).dump();
    }
    if (name == "guest-file-write") {
      std::string bytes = *base64_decode(a["buf-b64"].get<std::string>());
      files[open_.at(a["handle"])] += bytes;
      return json({{"return", {{"count", bytes.size()}, {"eof", false}}}}).dump();
    }
    if (name == "guest-file-close") {
      const std::string path = open_.at(a["handle"]);
      if (path.front() == '/') std::ofstream(path, std::ios::binary) << files[path];
      return R"({"return": {}})";
    }
    if (name == "guest-exec") {
      const std::string path = a["path"];
      std::vector<std::string> args = a.value("arg", std::vector<std::string>{});
      Finished f;
      const bool probe_run = path == "/bin/sh" && args.size() > 1 && args[1].starts_with("chmod");
      if (probe_run && probe_stuck) f.exit_code = -2;
      else if (probe_run && status_reply) f.exit_code = -3;
      else if (canned.count(path)) f = {0, canned[path], ""};
      else if (path.ends_with(".exe")) f = {0, exe_output, ""};
      // Never run for real: the pid is the fake agent's (4001, ...), and a real `kill -9 4001`
      // hit whatever process of this host had it (once the probe of a test running beside).
      else if (path == "cmd.exe" || path == "taskkill" || path == "kill") f = {0, "", ""};
      else f = run_here(path, args);
      exec_[++pid_] = f;
      return json({{"return", {{"pid", pid_}}}}).dump();
    }
    if (name == "guest-exec-status") {
      const Finished& f = exec_.at(a["pid"]);
      if (f.exit_code == -3) return json({{"return", *status_reply}}).dump();
      if (f.exit_code == -2) return R"({"return": {"exited": false}})";
      return json({{"return",
                    {{"exited", true}, {"exitcode", f.exit_code}, {"out-data", base64_encode(f.out)},
                     {"err-data", base64_encode(f.err)}}}})
          .dump();
    }
    throw AgentError(AgentError::Kind::CommandFailed, "unexpected agent command " + name);
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const json& c : commands) out.push_back(c["execute"]);
    return out;
  }
  std::vector<std::string> executed() const {  // guest-exec paths, in order
    std::vector<std::string> out;
    for (const json& c : commands)
      if (c["execute"] == "guest-exec") out.push_back(c["arguments"]["path"]);
    return out;
  }

 private:
  long handle_ = 1000, pid_ = 4000;
  std::map<long, std::string> open_;
  std::map<long, Finished> exec_;
};

const char* const kAgentChannel =
    "<channel type='unix'><source mode='bind' path='/run/libvirt/qemu/channel/1-vm/org.qemu.guest_agent.0'/>"
    "<target type='virtio' name='org.qemu.guest_agent.0' state='connected'/></channel>";

// A running domain "vm" with an agent channel, its agent `agent`.
struct AgentDomain {
  explicit AgentDomain(FakeAgent& agent, const std::string& devices = kAgentChannel) {
    connection.definitions["vm"] = "<domain type='kvm'><name>vm</name><devices>" + devices + "</devices></domain>";
    connection.running = true;
    connection.agent = [&agent](const std::string& c) { return agent(c); };
  }
  test::FakeHypervisor connection;
  MeasuredDomain domain{connection, "vm"};
};

GuestProbeOptions agent_options() {
  GuestProbeOptions o;
  o.quick = true;
  o.probe_dir = fs::path(VPT_GUEST_PROBE_LINUX).parent_path().string();
  o.timeout = std::chrono::seconds(60);
  return o;
}

bool warned(const Results& r, const std::string& part) {
  for (const std::string& w : r.warnings)
    if (w.find(part) != std::string::npos) return true;
  return false;
}

std::string all_warnings(const Results& r) {
  std::string s;
  for (const std::string& w : r.warnings) s += w + "\n";
  return s;
}

// ---- base64 and the channel in the XML ----

TEST(Base64, RoundTripsEveryByteAndRejectsGarbage) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  for (std::size_t n : {0u, 1u, 2u, 3u, 255u, 256u}) EXPECT_EQ(base64_decode(base64_encode(bytes.substr(0, n))), bytes.substr(0, n));
  EXPECT_EQ(base64_encode("Man"), "TWFu");  // RFC 4648's examples
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_decode("Zm9vYmFy"), "foobar");
  EXPECT_FALSE(base64_decode("Zm9"));
  EXPECT_FALSE(base64_decode("Zm9v!mFy"));
  EXPECT_FALSE(base64_decode("Z=9v"));
}

TEST(AgentChannel, IsFoundWithItsStateInTheLiveXml) {
  EXPECT_EQ(agent_channel_state(std::string("<domain><devices>") + kAgentChannel + "</devices></domain>"),
            "connected");
  EXPECT_EQ(agent_channel_state("<domain><devices><channel type='spicevmc'><target type='virtio' "
                                "name='com.redhat.spice.0'/></channel></devices></domain>"),
            std::nullopt);
  EXPECT_THROW(agent_channel_state("<domain"), std::runtime_error);
}

// ---- a run through the agent ----

TEST(AgentRun, CopiesTheLinuxProbeInRunsItAndDeletesIt) {
  FakeAgent agent;
  AgentDomain vm(agent);
  Results r;
  r.rounds = 2;
  run_guest_probe(r, vm.domain, agent_options(), nullptr);
  ASSERT_TRUE(r.guest) << all_warnings(r);
  const GuestResults& g = *r.guest;
  EXPECT_EQ(g.channel, "agent");
  EXPECT_EQ(g.via, "qemu-ga 7.2.0");
  EXPECT_EQ(g.os, "Fake Linux");
  EXPECT_EQ(g.exit_code, 0) << g.error;
  EXPECT_TRUE(g.error.empty()) << g.error;
  // The bytes that arrived are the Linux build, byte for byte, in a directory of
  // its own that mktemp -d made (a random name, mode 0700) in /tmp.
  ASSERT_EQ(agent.files.size(), 1u);
  const auto& [path, bytes] = *agent.files.begin();
  EXPECT_TRUE(path.starts_with("/tmp/vpt-guest-probe.")) << path;
  EXPECT_TRUE(path.ends_with("/vpt-guest-probe")) << path;
  EXPECT_EQ(bytes, read_bytes(VPT_GUEST_PROBE_LINUX));
  EXPECT_TRUE(g.command.starts_with(path + " --quick --rounds 2")) << g.command;
  // It ran (through sh, which makes it executable), printed the protocol, and is gone.
  EXPECT_EQ(g.output.version, 2u);
  EXPECT_EQ(g.output.os, "linux");
  EXPECT_EQ(g.output.rounds, 2u);
  EXPECT_TRUE(g.output.complete);
  EXPECT_FALSE(g.output.wakeup.empty());
  EXPECT_EQ(g.output.chase.size(), 2u);
  EXPECT_FALSE(fs::exists(fs::path(path).parent_path()));  // the directory is gone too
  EXPECT_EQ(agent.executed(), (std::vector<std::string>{"/bin/sh", "/bin/sh", "/bin/rm"}));
  const json mktemp = agent.commands[std::find_if(agent.commands.begin(), agent.commands.end(),
                                                  [](const json& c) { return c["execute"] == "guest-exec"; }) -
                                     agent.commands.begin()];
  EXPECT_NE(mktemp["arguments"]["arg"][1].get<std::string>().find("umask 077 && exec mktemp -d"), std::string::npos);
  std::vector<std::string> names = agent.names();
  EXPECT_EQ(names.front(), "guest-ping");
  EXPECT_EQ(names[1], "guest-info");
  EXPECT_EQ(names[2], "guest-get-osinfo");
}

TEST(AgentRun, AWindowsGuestGetsTheExeInItsTempDirectory) {
  const fs::path dir = fs::path(testing::TempDir()) / "vpt-fake-probes";
  fs::create_directories(dir);
  std::ofstream(dir / "vpt-guest-probe.exe", std::ios::binary) << "MZ fake exe";
  FakeAgent agent;
  agent.osinfo = {{"id", "mswindows"}, {"pretty-name", "Microsoft Windows 11 Pro"}, {"machine", "x86_64"}};
  agent.canned["cmd.exe"] = "C:\\Windows\\TEMP\r\n";
  AgentDomain vm(agent);
  GuestProbeOptions o = agent_options();
  o.probe_dir = dir.string();
  // The probe's output, as a Windows guest prints it (CR LF).
  agent.exe_output =
      "probe version=2 os=windows online_cpus=2 timer_ns=100.0 rounds=1 cpus=0,1\r\n"
      "wakeup cpu=0 round=0 interval_us=1000 timer=waitable-timer-high-resolution samples=2 p50_us=500.0\r\n"
      "wakeup_samples cpu=0 round=0 us=400.0,600.0\r\nend\r\n";
  Results r;
  r.rounds = 1;
  run_guest_probe(r, vm.domain, o, nullptr);
  ASSERT_TRUE(r.guest);
  EXPECT_EQ(r.guest->output.os, "windows");
  ASSERT_EQ(r.guest->output.wakeup.size(), 1u);
  EXPECT_EQ(r.guest->output.wakeup[0].timer, "waitable-timer-high-resolution");
  ASSERT_EQ(agent.files.size(), 1u);
  const auto& [path, bytes] = *agent.files.begin();
  // A directory of its own, of a random name, in %TEMP%.
  const std::string prefix = "C:\\Windows\\TEMP\\vpt-guest-probe.";
  ASSERT_TRUE(path.starts_with(prefix)) << path;
  ASSERT_TRUE(path.ends_with("\\vpt-guest-probe.exe")) << path;
  const std::string probe_dir = path.substr(0, path.rfind('\\'));
  EXPECT_GE(probe_dir.size(), prefix.size() + 8) << probe_dir;
  EXPECT_EQ(bytes, "MZ fake exe");
  EXPECT_EQ(r.guest->os, "Microsoft Windows 11 Pro");
  // A fake exe is not the build's probe: copied because --guest-probe-dir names it, and said.
  EXPECT_TRUE(warned(r, "named by --guest-probe-dir")) << all_warnings(r);
  // Asked for %TEMP%, made the directory (only SYSTEM and Administrators may open it),
  // ran the exe, removed the directory.
  std::vector<std::string> executed = agent.executed();
  ASSERT_EQ(executed.size(), 4u);
  EXPECT_EQ(executed[0], "cmd.exe");
  EXPECT_EQ(executed[1], "cmd.exe");
  EXPECT_EQ(executed[2], path);
  EXPECT_EQ(executed[3], "cmd.exe");
  std::vector<json> execs;
  for (const json& c : agent.commands)
    if (c["execute"] == "guest-exec") execs.push_back(c);
  ASSERT_EQ(execs.size(), 4u);
  EXPECT_EQ(execs[1]["arguments"]["arg"],
            json({"/c", "mkdir", probe_dir, "&&", "icacls", probe_dir, "/inheritance:r", "/grant:r",
                  "*S-1-5-18:(OI)(CI)F", "*S-1-5-32-544:(OI)(CI)F"}));
  EXPECT_EQ(execs[3]["arguments"]["arg"], json({"/c", "rmdir", "/s", "/q", probe_dir}));
  fs::remove_all(dir);
}

TEST(AgentRun, AProbeInTheBuildDirectoryThatIsNotTheBuildsIsNeverCopiedIn) {
  // The probe the install (here: build) directory holds must have the SHA-256
  // compiled in at build time; someone who swapped it gets nothing into the guest.
  const fs::path dir = fs::path(testing::TempDir()) / fmt::format("vpt-swapped-probes-{}", ::getpid());
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_all);
  std::ofstream(dir / "vpt-guest-probe", std::ios::binary) << "#!/bin/sh\necho swapped\n";
  ::setenv("VPT_GUEST_PROBE_DIR", dir.c_str(), 1);
  FakeAgent agent;
  AgentDomain vm(agent);
  GuestProbeOptions o = agent_options();
  o.probe_dir.clear();  // not named by the admin: found by the search
  Results r;
  run_guest_probe(r, vm.domain, o, nullptr);
  ::unsetenv("VPT_GUEST_PROBE_DIR");
  EXPECT_FALSE(r.guest);
  EXPECT_TRUE(warned(r, "refusing to copy " + (dir / "vpt-guest-probe").string() +
                            " into the guest, where it runs as root: its SHA-256 " +
                            sha256_hex("#!/bin/sh\necho swapped\n")))
      << all_warnings(r);
  EXPECT_TRUE(agent.files.empty());
  fs::remove_all(dir);
}

TEST(AgentRun, TheBuildsOwnProbeHasTheHashCompiledIn) {
  // coreutils' sha256sum, not our code, says what the file's hash is.
  FILE* pipe = ::popen(("sha256sum '" + std::string(VPT_GUEST_PROBE_LINUX) + "'").c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char line[256] = {};
  ASSERT_NE(std::fgets(line, sizeof line, pipe), nullptr);
  ::pclose(pipe);
  EXPECT_EQ(std::string(built_probe_sha256(false)), std::string(line).substr(0, 64));
}

TEST(AgentRun, AStuckProbeIsStoppedAtTheTimeoutAndDeleted) {
  FakeAgent agent;
  agent.probe_stuck = true;
  AgentDomain vm(agent);
  GuestProbeOptions o = agent_options();
  o.timeout = std::chrono::seconds(1);
  Results r;
  const auto start = std::chrono::steady_clock::now();
  run_guest_probe(r, vm.domain, o, nullptr);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(6));
  ASSERT_TRUE(r.guest);
  EXPECT_TRUE(r.guest->error.starts_with("no result within 1 s (--guest-timeout); stopped it with kill"))
      << r.guest->error;
  EXPECT_EQ(agent.executed(), (std::vector<std::string>{"/bin/sh", "/bin/sh", "kill", "/bin/rm"}));
  EXPECT_TRUE(warned(r, "no result within 1 s")) << all_warnings(r);
  for (const auto& [path, bytes] : agent.files) EXPECT_FALSE(fs::exists(path)) << path;
}

TEST(AgentRun, AMalformedStatusReplyIsAnAgentErrorAndTheProbeIsDeleted) {
  // A hostile (or broken) guest answers "exited": "yes": an uncaught JSON type error
  // ended bench with the probe left in the guest.
  FakeAgent agent;
  agent.status_reply = json{{"exited", "yes"}, {"exitcode", 0}};
  AgentDomain vm(agent);
  Results r;
  run_guest_probe(r, vm.domain, agent_options(), nullptr);
  ASSERT_TRUE(r.guest);
  EXPECT_NE(r.guest->error.find("its \"exited\" is string, not true or false"), std::string::npos) << r.guest->error;
  EXPECT_EQ(agent.executed(), (std::vector<std::string>{"/bin/sh", "/bin/sh", "/bin/rm"}));
  for (const auto& [path, bytes] : agent.files) EXPECT_FALSE(fs::exists(fs::path(path).parent_path())) << path;
}

TEST(AgentRun, AnOutdatedAgentSaysWhatItLacksAndWhatToDo) {
  FakeAgent agent;
  agent.version = "2.4.0";
  agent.missing = {"guest-get-osinfo", "guest-exec", "guest-exec-status"};
  AgentDomain vm(agent);
  Results r;
  run_guest_probe(r, vm.domain, agent_options(), nullptr);
  EXPECT_FALSE(r.guest);
  EXPECT_TRUE(warned(r, "the guest agent (qemu-ga 2.4.0) is too old: it lacks guest-get-osinfo, guest-exec, "
                        "guest-exec-status"))
      << all_warnings(r);
  EXPECT_TRUE(warned(r, "update qemu-guest-agent")) << all_warnings(r);
  EXPECT_TRUE(agent.files.empty());
}

TEST(AgentRun, BlockedCommandsAreNamed) {
  FakeAgent agent;
  agent.blocked = {"guest-exec"};
  AgentDomain vm(agent);
  Results r;
  run_guest_probe(r, vm.domain, agent_options(), nullptr);
  EXPECT_FALSE(r.guest);
  EXPECT_TRUE(warned(r, "blocks guest-exec")) << all_warnings(r);
}

TEST(AgentRun, AnAgentThatDoesNotAnswerFallsBackToHostSideChecks) {
  FakeAgent unused;
  AgentDomain vm(unused);
  vm.connection.agent = [](const std::string&) -> std::string {
    throw AgentError(AgentError::Kind::NotResponding,
                     "cannot run guest agent command 'guest-ping' in domain 'vm' on 'fake:///': Guest agent is not "
                     "responding: QEMU guest agent is not connected");
  };
  Results r;
  run_guest_probe(r, vm.domain, agent_options(), nullptr);
  EXPECT_FALSE(r.guest);
  EXPECT_TRUE(warned(r, "QEMU guest agent is not connected (is qemu-guest-agent installed and running in the guest?)"))
      << all_warnings(r);
  EXPECT_TRUE(warned(r, "host-side checks only")) << all_warnings(r);
  EXPECT_TRUE(unused.commands.empty());
}

TEST(AgentRun, WithoutAnyChannelTheNoteSaysHostSideChecksOnly) {
  FakeAgent agent;
  AgentDomain vm(agent, "");
  Results r;
  run_guest_probe(r, vm.domain, agent_options(), nullptr);
  EXPECT_FALSE(r.guest);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("has neither a guest agent channel"), std::string::npos) << r.warnings[0];
  EXPECT_NE(r.warnings[0].find("host-side checks only"), std::string::npos) << r.warnings[0];
  EXPECT_TRUE(agent.commands.empty());
}

TEST(AgentRun, ForcedAgentWithoutItsChannelIsAWarningNotAnAttempt) {
  FakeAgent agent;
  AgentDomain vm(agent, "");
  GuestProbeOptions o = agent_options();
  o.channel = GuestChannel::Agent;
  Results r;
  run_guest_probe(r, vm.domain, o, nullptr);
  EXPECT_TRUE(warned(r, "has no guest agent channel")) << all_warnings(r);
  EXPECT_TRUE(agent.commands.empty());
}

TEST(AgentRun, ChannelNoneDoesNothing) {
  FakeAgent agent;
  AgentDomain vm(agent);
  GuestProbeOptions o = agent_options();
  o.channel = GuestChannel::None;
  Results r;
  run_guest_probe(r, vm.domain, o, nullptr);
  EXPECT_FALSE(r.guest);
  EXPECT_TRUE(r.warnings.empty());
  EXPECT_TRUE(agent.commands.empty());
}

TEST(AgentRun, AMissingProbeBuildSaysWhereItLooked) {
  FakeAgent agent;
  agent.osinfo = {{"id", "mswindows"}, {"pretty-name", "Microsoft Windows 10 Pro"}, {"machine", "x86_64"}};
  AgentDomain vm(agent);
  GuestProbeOptions o = agent_options();
  o.probe_dir = "/nonexistent/vpt-probes";
  Results r;
  run_guest_probe(r, vm.domain, o, nullptr);
  EXPECT_FALSE(r.guest);
  EXPECT_TRUE(warned(r, "no vpt-guest-probe.exe for this Windows guest (looked in /nonexistent/vpt-probes)"))
      << all_warnings(r);
  EXPECT_TRUE(warned(r, "gcc-mingw-w64-x86-64")) << all_warnings(r);
}

TEST(AgentRun, AProbeOthersMayWriteIsNeverCopiedIn) {
  // The probe runs as root in the guest: a file or directory someone else may
  // replace (a binary run from /tmp finds "beside itself" what any user made) is refused.
  const fs::path dir = fs::path(testing::TempDir()) / fmt::format("vpt-writable-probes-{}", ::getpid());
  fs::create_directories(dir);
  std::ofstream(dir / "vpt-guest-probe", std::ios::binary) << "#!/bin/sh\necho planted\n";
  fs::permissions(dir, fs::perms::all);  // 0777
  FakeAgent agent;
  AgentDomain vm(agent);
  GuestProbeOptions o = agent_options();
  o.probe_dir = dir.string();
  Results r;
  run_guest_probe(r, vm.domain, o, nullptr);
  EXPECT_FALSE(r.guest);
  EXPECT_TRUE(warned(r, "refusing to copy " + (dir / "vpt-guest-probe").string() +
                            " into the guest, where it runs as root: others may write " + dir.string()))
      << all_warnings(r);
  EXPECT_TRUE(agent.files.empty());
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
  fs::permissions(dir / "vpt-guest-probe", fs::perms::all);
  Results again;
  run_guest_probe(again, vm.domain, o, nullptr);
  EXPECT_TRUE(warned(again, "others may write " + (dir / "vpt-guest-probe").string())) << all_warnings(again);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vpt
