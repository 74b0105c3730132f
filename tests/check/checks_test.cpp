// Every check of the table on a domain that triggers it and on one that does
// not (CheckTable.EveryCheckHasATriggeringAndAQuietCase makes sure), then
// the facts some findings state, worked out by hand.
#include <set>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "check/findings.hpp"
#include "tests/check/check_test_util.hpp"

namespace vpt {
namespace {

using test::domain_xml;
using test::replaced;
using test::review;
using test::Review;
using test::sample;
using test::Spec;

struct Case {
  std::string id;
  bool triggers;
  std::string what;                    // the situation, for failure messages
  std::function<Review()> run;
};

const Topology& i7_host() {
  static const Topology t = test::i7();
  return t;
}
const Topology& ryzen_host() {
  static const Topology t = test::ryzen();
  return t;
}
const Topology& epyc_host() {
  static const Topology t = test::epyc();
  return t;
}

std::string win11() { return sample("win11-gaming.xml"); }
std::string win10() { return sample("win10-untuned.xml"); }
std::string server() { return sample("linux-server.xml"); }

// A Windows 11 guest with no <features>, <cpu> or <clock> at all.
std::string bare_windows() {
  Spec s;
  s.name = "bare";
  s.os_id = "http://microsoft.com/win/11";
  s.memory = "<memory unit='GiB'>4</memory>";
  return domain_xml(s);
}

// The same with every enlightenment, the Hyper-V clock and no HPET.
std::string tuned_windows() {
  Spec s;
  s.name = "tuned";
  s.os_id = "http://microsoft.com/win/11";
  s.extra =
      "  <features>\n    <hyperv mode='custom'>\n      <relaxed state='on'/>\n      <vapic state='on'/>\n"
      "      <spinlocks state='on' retries='8191'/>\n      <vpindex state='on'/>\n      <runtime state='on'/>\n"
      "      <synic state='on'/>\n      <stimer state='on'/>\n      <reset state='on'/>\n"
      "      <frequencies state='on'/>\n      <tlbflush state='on'/>\n      <ipi state='on'/>\n    </hyperv>\n"
      "  </features>\n  <clock offset='localtime'>\n    <timer name='hpet' present='no'/>\n"
      "    <timer name='hypervclock' present='yes'/>\n  </clock>\n";
  return domain_xml(s);
}

// A Linux guest on whole P-cores of the i7: 4 vCPUs on CPUs 0-3, emulator on an E-core.
Spec dedicated_linux() {
  Spec s;
  s.name = "web";
  s.os_id = "http://debian.org/debian/12";
  s.pins = {0, 1, 2, 3};
  s.emulatorpin = "16";
  s.extra = "  <cpu mode='host-passthrough' check='none' migratable='off'>\n"
            "    <topology sockets='1' dies='1' cores='2' threads='2'/>\n  </cpu>\n";
  return s;
}

// 4 vCPUs on the EPYC, presented as 2 cores x 2 threads, pinned to `pins`.
std::string epyc_guest(std::vector<unsigned> pins, const std::string& numatune = "", bool topoext = true) {
  Spec s;
  s.pins = std::move(pins);
  s.emulatorpin = "50";
  s.extra = numatune + "  <cpu mode='host-passthrough'>\n    <topology sockets='1' dies='1' cores='2' threads='2'/>\n" +
            (topoext ? "    <feature policy='require' name='topoext'/>\n" : "") + "  </cpu>\n";
  return domain_xml(s);
}

// A domain of tests/corpus/domains (its README says what each one holds).
std::string corpus_domain(const std::string& name) {
  std::ifstream in(std::string(VPT_CORPUS_DIR) + "/domains/" + name);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Review live_review(const std::string& xml, const std::function<void(HostState&)>& change,
                   std::optional<bool> running = std::nullopt) {
  static Topology host;  // kept alive for the review's pointers
  host = test::live_i7(change);
  return review(xml, &host, running);
}

std::vector<Case> cases() {
  auto on = [](const std::string& xml, const Topology* host) { return [xml, host] { return review(xml, host); }; };
  const Topology* i7 = &i7_host();
  return {
      // ---- pinning ----
      {"pins-missing-cpus", true, "win11 (pins up to CPU 17) on a 16-CPU Ryzen", on(win11(), &ryzen_host())},
      {"pins-missing-cpus", false, "win11 on the i7 it was pinned for", on(win11(), i7)},
      {"vcpu-unpinned", true, "linux-server: no <vcpupin>", on(server(), i7)},
      {"vcpu-unpinned", false, "win11: every vCPU pinned", on(win11(), i7)},
      {"vcpus-share-cpu", true, "two vCPUs on CPU 0 (the live test's bad layout)",
       on(domain_xml([] { test::Spec s; s.vcpus = 2; s.pins = {0, 0}; s.emulatorpin = "0"; return s; }()), i7)},
      {"vcpus-share-cpu", false, "win11: one CPU each", on(win11(), i7)},
      {"vcpu0-on-cpu0", true, "win11-sata-only: vCPU 0 on CPU 0", on(corpus_domain("win11-sata-only.xml"), nullptr)},
      {"vcpu0-on-cpu0", false, "vCPUs on CPUs 2-3",
       on(domain_xml([] { test::Spec s; s.vcpus = 2; s.pins = {2, 3}; s.emulatorpin = "16"; return s; }()), i7)},
      {"cpu-pm-shared", true, "cpu-pm=on with the emulator unpinned",
       on(replaced(corpus_domain("win11-sata-only.xml"), "<emulatorpin cpuset=\"5,11\"/>", ""), nullptr)},
      {"cpu-pm-shared", false, "cpu-pm=on, every vCPU on a CPU of its own",
       on(corpus_domain("win11-sata-only.xml"), nullptr)},
      {"emulator-on-vcpu-cpus", true, "win11 with the emulator on CPUs 0-1",
       on(replaced(win11(), "<emulatorpin cpuset=\"16\"/>", "<emulatorpin cpuset=\"0-1\"/>"), i7)},
      {"emulator-on-vcpu-cpus", false, "win11: emulator on E-core 16", on(win11(), i7)},
      {"iothread-on-vcpu-cpus", true, "win11 without its <iothreadpin>",
       on(replaced(win11(), "<iothreadpin iothread=\"1\" cpuset=\"17\"/>", ""), i7)},
      {"iothread-on-vcpu-cpus", false, "win11: I/O thread on E-core 17", on(win11(), i7)},
      {"smt-siblings-split", true, "win11 presented as 16 single-thread cores",
       on(replaced(win11(), "cores=\"8\" threads=\"2\"", "cores=\"16\" threads=\"1\""), i7)},
      {"smt-siblings-split", false, "win11: sibling pairs are guest threads", on(win11(), i7)},
      {"topology-pins-mismatch", true, "win11 with vCPUs 1 and 2 swapped",
       on(replaced(replaced(win11(), "vcpu=\"2\" cpuset=\"2\"", "vcpu=\"2\" cpuset=\"1\""), "vcpu=\"1\" cpuset=\"1\"",
                   "vcpu=\"1\" cpuset=\"2\""),
          i7)},
      {"topology-pins-mismatch", false, "win11", on(win11(), i7)},
      {"guest-spans-l3", true, "4 vCPUs over L3 #0 and #1 of the EPYC", on(epyc_guest({0, 192, 8, 200}), &epyc_host())},
      {"guest-spans-l3", false, "4 vCPUs in L3 #0", on(epyc_guest({0, 192, 1, 193}), &epyc_host())},
      {"guest-spans-numa", true, "4 vCPUs over both EPYC sockets", on(epyc_guest({0, 192, 96, 288}), &epyc_host())},
      {"guest-spans-numa", false, "4 vCPUs on node 1", on(epyc_guest({96, 288, 97, 289}), &epyc_host())},
      {"memory-not-local", true, "vCPUs on node 1, no <numatune>", on(epyc_guest({96, 288, 97, 289}), &epyc_host())},
      {"memory-not-local", false, "vCPUs on node 1, strict numatune on node 1",
       on(epyc_guest({96, 288, 97, 289}, "  <numatune>\n    <memory mode='strict' nodeset='1'/>\n  </numatune>\n"),
          &epyc_host())},
      // ---- cpu ----
      {"cpu-mode", true, "win10: host-model with a GPU passed through", on(win10(), i7)},
      {"cpu-mode", false, "win11: host-passthrough", on(win11(), i7)},
      {"cpu-migratable", true, "win11 without migratable='off'", on(replaced(win11(), " migratable=\"off\"", ""), i7)},
      {"cpu-migratable", false, "win11", on(win11(), i7)},
      {"cpu-topology-missing", true, "win10: no <topology>", on(win10(), i7)},
      {"cpu-topology-missing", false, "win11: 1 socket x 8 cores x 2 threads", on(win11(), i7)},
      {"windows-sockets", true, "win10: 8 vCPUs as 8 sockets", on(win10(), i7)},
      {"windows-sockets", false, "linux-server: 8 sockets, but Linux", on(server(), i7)},
      {"topoext-missing", true, "threads='2' on the EPYC without topoext",
       on(epyc_guest({0, 192, 1, 193}, "", false), &epyc_host())},
      {"topoext-missing", false, "the same on the Intel i7",
       on(domain_xml([] { test::Spec s; s.pins = {0, 1, 2, 3}; s.emulatorpin = "16"; s.extra = "  <cpu mode='host-passthrough'>\n    <topology sockets='1' dies='1' cores='2' "
                                   "threads='2'/>\n  </cpu>\n"; return s; }()),
          i7)},
      {"cache-passthrough", true, "win11 without <cache mode='passthrough'/>",
       on(replaced(win11(), "<cache mode=\"passthrough\"/>", ""), i7)},
      {"cache-passthrough", false, "win11", on(win11(), i7)},
      {"kvm-hint-dedicated", true, "a Linux guest on 2 whole P-cores", on(domain_xml(dedicated_linux()), i7)},
      {"kvm-hint-dedicated", false, "the same with the hint",
       on([] {
            Spec s = dedicated_linux();
            s.extra += "  <features>\n    <kvm>\n      <hint-dedicated state='on'/>\n    </kvm>\n  </features>\n";
            return domain_xml(s);
          }(),
          i7)},
      // ---- windows ----
      {"hyperv-relaxed", true, "Windows without <hyperv>", on(bare_windows(), i7)},
      {"hyperv-relaxed", false, "win11", on(win11(), i7)},
      {"hyperv-vapic", true, "Windows without <hyperv>", on(bare_windows(), i7)},
      {"hyperv-vapic", false, "win11", on(win11(), i7)},
      {"hyperv-spinlocks", true, "Windows without <hyperv>", on(bare_windows(), i7)},
      {"hyperv-spinlocks", false, "win11", on(win11(), i7)},
      {"hyperv-vpindex", true, "win11 (relaxed, vapic, spinlocks only)", on(win11(), i7)},
      {"hyperv-vpindex", false, "every enlightenment on", on(tuned_windows(), i7)},
      {"hyperv-runtime", true, "win11", on(win11(), i7)},
      {"hyperv-runtime", false, "every enlightenment on", on(tuned_windows(), i7)},
      {"hyperv-synic", true, "win11", on(win11(), i7)},
      {"hyperv-synic", false, "every enlightenment on", on(tuned_windows(), i7)},
      {"hyperv-stimer", true, "win11", on(win11(), i7)},
      {"hyperv-stimer", false, "<hyperv mode='passthrough'>",
       on(replaced(bare_windows(), "  <devices>", "  <features>\n    <hyperv mode='passthrough'/>\n  </features>\n  <devices>"),
          i7)},
      {"hyperv-reset", true, "win11", on(win11(), i7)},
      {"hyperv-reset", false, "every enlightenment on", on(tuned_windows(), i7)},
      {"hypervisor-bit-disabled", true, "hypervisor disabled next to <hyperv>",
       on(corpus_domain("win11-sata-only.xml"), nullptr)},
      {"hypervisor-bit-disabled", false, "win11", on(win11(), i7)},
      {"qemu-cpu-override", true, "-cpu in <qemu:commandline>", on(corpus_domain("win10-qemu-commandline.xml"), i7)},
      {"qemu-cpu-override", false, "win11", on(win11(), i7)},
      {"hyperv-on-linux", true, "a Debian NAS with <hyperv>", on(corpus_domain("linux-nas-hba.xml"), nullptr)},
      {"hyperv-on-linux", false, "linux-server", on(server(), i7)},
      {"iothreads-unused", true, "<iothreads>1 and only SATA disks", on(corpus_domain("win11-sata-only.xml"), nullptr)},
      {"iothreads-unused", false, "win11", on(win11(), i7)},
      {"hyperv-frequencies", true, "win11", on(win11(), i7)},
      {"hyperv-frequencies", false, "every enlightenment on", on(tuned_windows(), i7)},
      {"hyperv-tlbflush", true, "win11", on(win11(), i7)},
      {"hyperv-tlbflush", false, "every enlightenment on", on(tuned_windows(), i7)},
      {"hyperv-ipi", true, "win11", on(win11(), i7)},
      {"hyperv-ipi", false, "every enlightenment on", on(tuned_windows(), i7)},
      {"hyperv-dependencies", true, "win11 with stimer on but no synic or vpindex",
       on(replaced(win11(), "<vapic state=\"on\"/>", "<vapic state=\"on\"/><stimer state=\"on\"/>"), i7)},
      {"hyperv-dependencies", false, "every enlightenment on", on(tuned_windows(), i7)},
      {"timer-hypervclock", true, "Windows without <clock>", on(bare_windows(), i7)},
      {"timer-hypervclock", false, "win11", on(win11(), i7)},
      {"timer-hpet", true, "Windows without <clock>", on(bare_windows(), i7)},
      {"timer-hpet", false, "win11: hpet present='no'", on(win11(), i7)},
      {"hyperv-vendor-id", true, "win11 (vendor_id 'randomid')", on(win11(), i7)},
      {"hyperv-vendor-id", false, "win10", on(win10(), i7)},
      {"kvm-hidden", true, "win11 (<kvm><hidden>)", on(win11(), i7)},
      {"kvm-hidden", false, "win10", on(win10(), i7)},
      // ---- disk ----
      {"disk-no-iothread", true, "win10: virtio vda without an I/O thread", on(win10(), i7)},
      {"disk-no-iothread", false, "linux-server: every disk has one", on(server(), i7)},
      {"disk-io-native-cache", true, "linux-server's vdb with io='native' and cache='writeback'",
       on(replaced(server(), "type='raw' cache='none' io='native' iothread='2'",
                   "type='raw' cache='writeback' io='native' iothread='2'"),
          i7)},
      {"disk-io-native-cache", false, "linux-server: io='native' with cache='none'", on(server(), i7)},
      {"disk-cache", true, "win11's sda: cache='writeback'", on(win11(), i7)},
      {"disk-cache", false, "win11 with sda on cache='none'",
       on(replaced(win11(), "cache=\"writeback\"", "cache=\"none\""), i7)},
      {"disk-io-mode", true, "linux-server's vdb: cache='none' without io='native'",
       on(replaced(server(), "cache='none' io='native' iothread='2'", "cache='none' iothread='2'"), i7)},
      {"disk-io-mode", false, "linux-server", on(server(), i7)},
      {"disk-queues", true, "win10: machine pc-q35-4.2", on(win10(), i7)},
      {"disk-queues", false, "win10 on pc-q35-8.2", on(replaced(win10(), "pc-q35-4.2", "pc-q35-8.2"), i7)},
      {"disk-emulated-bus", true, "win11's game disk sdb on SATA", on(win11(), i7)},
      {"disk-emulated-bus", false, "win10: SATA holds only a CD-ROM", on(win10(), i7)},
      {"nvme-passthrough", true, "an NVMe namespace disk",
       on(domain_xml([] { test::Spec s; s.devices = "    <disk type='nvme' device='disk'>\n      <driver name='qemu' type='raw'/>\n"
                                     "      <source type='pci' managed='yes' namespace='1'>\n        <address "
                                     "domain='0x0000' bus='0x02' slot='0x00' function='0x0'/>\n      </source>\n"
                                     "      <target dev='vde' bus='virtio'/>\n    </disk>\n"; return s; }()),
          i7)},
      {"nvme-passthrough", false, "win11", on(win11(), i7)},
      // ---- memory ----
      {"hugepages-missing", true, "win11: 16 GiB on 4 KiB pages", on(win11(), i7)},
      {"hugepages-missing", false, "linux-server: <hugepages/>", on(server(), i7)},
      {"hugepages-short", true, "linux-server (32 GiB of 2 MiB pages) on a host with none free",
       [] { return live_review(server(), [](HostState& h) { h.hugepages = {{2u << 20, std::nullopt, 0, 0}}; }); }},
      {"hugepages-short", false, "the same host with 16384 free pages",
       [] { return live_review(server(), [](HostState& h) { h.hugepages = {{2u << 20, std::nullopt, 16384, 16384}}; }); }},
      {"memballoon-passthrough", true, "win10: virtio balloon and a GPU", on(win10(), i7)},
      {"memballoon-passthrough", false, "win11: <memballoon model='none'/>", on(win11(), i7)},
      // ---- host ----
      {"host-governor", true, "powersave on the guest's CPUs", [] {
         return live_review(win11(), [](HostState& h) {
           for (unsigned c = 0; c < 28; ++c) h.cpufreq[c] = {"intel_pstate", "powersave", "balance_performance"};
         });
       }},
      {"host-governor", false, "performance on the guest's CPUs", [] {
         return live_review(win11(), [](HostState& h) {
           for (unsigned c = 0; c < 28; ++c) h.cpufreq[c] = {"intel_pstate", "performance", "performance"};
         });
       }},
      {"host-isolation", true, "no isolcpus=, no hook", [] { return live_review(win11(), {}); }},
      {"host-isolation", false, "vpt-tune's hook for win11",
       [] { return live_review(win11(), [](HostState& h) { h.libvirt_qemu_hooks = {"qemu.d/vpt-tune-win11"}; }); }},
      {"host-nohz-cpu0", true, "nohz_full=0-15",
       [] { return live_review(win11(), [](HostState& h) { h.nohz_full = CpuSet::range(0, 15); }); }},
      {"host-nohz-cpu0", false, "nohz_full=1-15",
       [] { return live_review(win11(), [](HostState& h) { h.nohz_full = CpuSet::range(1, 15); }); }},
      {"host-irq-affinity", true, "an i915 IRQ allowed on every CPU", [] {
         return live_review(win11(), [](HostState& h) { h.irqs = {{150, "i915", CpuSet::range(0, 27), false, ""}}; });
       }},
      {"host-irq-affinity", false, "the same IRQ on the host's E-cores", [] {
         return live_review(win11(), [](HostState& h) { h.irqs = {{150, "i915", CpuSet::range(16, 27), false, ""}}; });
       }},
      {"host-managed-irqs", true, "an NVMe I/O queue IRQ on CPUs 0-3", [] {
         return live_review(win11(), [](HostState& h) { h.irqs = {{40, "nvme0q1", CpuSet::range(0, 3), std::nullopt, ""}}; });
       }},
      {"host-managed-irqs", false, "the same with isolcpus=managed_irq,0-15", [] {
         return live_review(win11(), [](HostState& h) {
           h.irqs = {{40, "nvme0q1", CpuSet::range(0, 3), std::nullopt, ""}};
           h.isolcpus = CpuSet::range(0, 15);
           h.isolcpus_managed_irq = true;
         });
       }},
      {"host-thp", true, "THP 'never', no static hugepages",
       [] { return live_review(win11(), [](HostState& h) { h.thp_enabled = "never"; }); }},
      {"host-thp", false, "THP 'never', guest on static hugepages",
       [] { return live_review(server(), [](HostState& h) { h.thp_enabled = "never"; }); }},
      {"host-halt-poll", true, "halt_poll_ns=0", [] { return live_review(win11(), [](HostState& h) { h.kvm_halt_poll_ns = 0; }); }},
      {"host-halt-poll", false, "halt_poll_ns=200000", [] { return live_review(win11(), {}); }},
      {"host-irqbalance", true, "irqbalance without banned CPUs", [] {
         return live_review(win11(), [](HostState& h) { h.irqbalance = IrqbalanceDaemon{812, std::nullopt}; });
       }},
      {"host-irqbalance", false, "irqbalance banning CPUs 0-15", [] {
         return live_review(win11(), [](HostState& h) { h.irqbalance = IrqbalanceDaemon{812, CpuSet::range(0, 15)}; });
       }},
  };
}

class EachCheck : public ::testing::TestWithParam<Case> {};

TEST_P(EachCheck, FindsWhatItLooksFor) {
  const Case& c = GetParam();
  Review r = c.run();
  const Finding* f = test::find(r.report, c.id);
  if (c.triggers) {
    ASSERT_NE(f, nullptr) << c.id << " should trigger on: " << c.what;
    EXPECT_FALSE(f->evidence.empty());
    EXPECT_NE(f->why.find("Source: "), std::string::npos) << c.id << ": why names no source";
  } else {
    EXPECT_EQ(f, nullptr) << c.id << " should stay quiet on: " << c.what << "\n  found: " << (f ? f->evidence : "");
  }
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string name = info.param.id + (info.param.triggers ? "_triggers" : "_quiet");
  for (char& ch : name)
    if (ch == '-') ch = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Table, EachCheck, ::testing::ValuesIn(cases()), case_name);

TEST(CheckTable, EveryCheckHasATriggeringAndAQuietCase) {
  std::set<std::pair<std::string, bool>> covered;
  for (const Case& c : cases()) covered.insert({c.id, c.triggers});
  for (const CheckInfo& check : check_table()) {
    EXPECT_TRUE(covered.count({check.id, true})) << check.id << " has no triggering case";
    EXPECT_TRUE(covered.count({check.id, false})) << check.id << " has no quiet case";
  }
}

TEST(CheckTable, IdsAreUniqueKebabCaseAndEveryWhyNamesItsSource) {
  std::set<std::string> seen;
  for (const CheckInfo& check : check_table()) {
    EXPECT_TRUE(seen.insert(check.id).second) << check.id;
    EXPECT_EQ(check.id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-"), std::string::npos) << check.id;
    EXPECT_NE(check.why.find("Source: "), std::string::npos) << check.id;
  }
}

}  // namespace
}  // namespace vpt
