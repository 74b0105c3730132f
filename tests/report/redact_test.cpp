// Redaction: real-looking UUIDs, MACs, paths, serials and host names are
// hidden; CPU lists, versions, PCI addresses and system paths are not.
#include <gtest/gtest.h>

#include "report/redact.hpp"

namespace vpt {
namespace {

TEST(RedactText, HidesDomainUuids) {
  EXPECT_EQ(redact_text("domain uuid 5f3c2a1e-9b7d-4c2e-8f1a-0b2c3d4e5f60 started"), "domain uuid [uuid] started");
  EXPECT_EQ(redact_text("<uuid>C0FFEE00-1234-4ABC-9DEF-00112233AABB</uuid>"), "<uuid>[uuid]</uuid>");
}

TEST(RedactText, HidesMacAddressesWithColonsOrDashes) {
  EXPECT_EQ(redact_text("<mac address='52:54:00:a1:b2:c3'/>"), "<mac address='[mac]'/>");
  EXPECT_EQ(redact_text("NIC 52-54-00-A1-B2-C3 up"), "NIC [mac] up");
}

TEST(RedactText, KeepsCpuListsVersionsAndPciAddresses) {
  for (const char* text : {"CPUs 0-3,8-11 and 16-27", "kernel 6.1.0-18-amd64", "GPU 0000:01:00.0 on NUMA 0",
                           "measured 2025-01-02T03:04:05Z", "microcode 0xa101144", "ratio 1.5 (12:34)",
                           "I/O thread 1 on CPU 17", "L3 #0 (32 MiB)"})
    EXPECT_EQ(redact_text(text), text);
}

TEST(RedactText, HidesHomeAndOtherPersonalPaths) {
  EXPECT_EQ(redact_text("cannot read '/home/alice/vms/notes.txt': gone"), "cannot read '[path]': gone");
  EXPECT_EQ(redact_text("saved to ~/bench/after.json."), "saved to [path].");
  EXPECT_EQ(redact_text("nvram=/var/lib/libvirt/qemu/nvram/alice_VARS.fd"), "nvram=[path]");
}

TEST(RedactText, HidesDiskImagesWhereverTheyAre) {
  EXPECT_EQ(redact_text("<source file='/var/lib/libvirt/images/alice-win11.qcow2'/>"), "<source file='[disk image]'/>");
  EXPECT_EQ(redact_text("disk taxes-2024.IMG attached"), "disk [disk image] attached");
  EXPECT_EQ(redact_text("-drive file=/srv/vm/win.raw,format=raw"), "-drive file=[disk image],format=raw");
}

TEST(RedactText, KeepsSystemPathsThatAdviceNames) {
  for (const char* text : {"set /proc/irq/*/smp_affinity_list to 16-27", "/sys/devices/system/cpu/smt/active",
                           "/etc/libvirt/hooks/qemu", "IRQs of /dev/vfio/12", "qemu:///system"})
    EXPECT_EQ(redact_text(text), text);
}

TEST(RedactText, HidesDiskByIdPathsSinceTheyCarrySerials) {
  EXPECT_EQ(redact_text("/dev/disk/by-id/nvme-Samsung_SSD_980_PRO_S5GXNF0R123456 as vda"), "[path] as vda");
}

TEST(RedactText, HidesSerialNumbersInTheirUsualForms) {
  EXPECT_EQ(redact_text("<serial>WD-WX12A3456789</serial>"), "<serial>[serial]</serial>");
  EXPECT_EQ(redact_text("<disk serial='S5GXNF0R123456'>"), "<disk serial='[serial]'>");
  EXPECT_EQ(redact_text("Serial Number: 7CE1234XYZ"), "Serial Number: [serial]");
  EXPECT_EQ(redact_text("\"serial\": \"ABC-123\""), "\"serial\": \"[serial]\"");
  EXPECT_EQ(redact_text("S/N: 1234ABCD"), "S/N: [serial]");
}

TEST(RedactText, KeepsWordsThatOnlyStartLikeSerial) {
  EXPECT_EQ(redact_text("serialize the pins; serial console"), "serialize the pins; serial console");
}

TEST(RedactText, HidesTheHostNameAsAWholeWordAndWithItsDomain) {
  RedactionSecrets secrets;
  secrets.hostnames = {"alice-desktop.lan"};
  EXPECT_EQ(redact_text("measured on alice-desktop.lan", secrets), "measured on [host]");
  EXPECT_EQ(redact_text("host name 'ALICE-DESKTOP' vs 'bob'", secrets), "host name '[host]' vs 'bob'");
  EXPECT_EQ(redact_text("alice-desktop.example.com", secrets), "[host]");
  EXPECT_EQ(redact_text("alice-desktop2 is another machine", secrets), "alice-desktop2 is another machine");
}

// ---- Host names are whole tokens; vpt-tune's own words stay -----------------------

RedactionSecrets host_named(const char* name) {
  RedactionSecrets secrets;
  secrets.hostnames = {name};
  return secrets;
}

TEST(RedactText, ReplacesAHostNamedLikeAWordOnlyAsAWholeToken) {
  const RedactionSecrets vm = host_named("vm");
  EXPECT_EQ(redact_text("vm", vm), "[host]");
  EXPECT_EQ(redact_text("VM", vm), "[host]");
  EXPECT_EQ(redact_text("measured on vm.example.org.", vm), "measured on [host].");
  EXPECT_EQ(redact_text("'vm' (vm) vm: vm, vm@", vm), "'[host]' ([host]) [host]: [host], [host]@");
  // Other tokens that hold the word: a sysctl, its file, a domain name, a longer word.
  for (const char* text : {"vm.nr_hugepages", "/proc/sys/vm.nr_hugepages", "sysctl vm.nr_hugepages=512", "vm-win11",
                           "vm_2", "kvm", "vms", "qemu-vm"})
    EXPECT_EQ(redact_text(text, vm), text);
}

TEST(RedactText, KeepsDocumentationLinksWhole) {
  const RedactionSecrets pc = host_named("pc");
  // vpt-tune's own links: whole.
  for (const char* text : {"https://www.linux-kvm.org/page/Tuning_KVM", "see http://example.org/vm/pc/server.html.",
                           "https://libvirt.org/formatdomain.html#cpu-tuning", "ftp://ftp.example.org/pub/pc/x.txt"})
    EXPECT_EQ(redact_tool_text(text, pc), text);
  // In a value from the inputs a public host may be the person's own: its host goes, its path stays.
  EXPECT_EQ(redact_text("https://nas.smith-family.net/share", pc), "https://[host]/share");
  EXPECT_EQ(redact_text("see http://example.org/vm/pc/server.html.", pc), "see http://[host]/vm/pc/server.html.");
  // A host that is the person's: a private name, an IP, a user, a known host name.
  EXPECT_EQ(redact_text("https://pve.lan:8006/#v1", pc), "https://[host]/#v1");
  EXPECT_EQ(redact_text("http://nas/share", pc), "http://[host]/share");
  EXPECT_EQ(redact_text("https://pc.example.org/x", pc), "https://[host]/x");
  EXPECT_EQ(redact_tool_text("https://192.168.1.5:8006/", pc), "https://[ip]:8006/");
  EXPECT_EQ(redact_text("https://192.168.1.5:8006/", pc), "https://[host]/");  // an input's: the whole authority
  EXPECT_EQ(redact_text("https://alice@example.org/", pc), "https://[host]/");
}

TEST(RedactToolText, HidesOnlyTheQuotedValuesInVptTunesSentences) {
  const RedactionSecrets host = host_named("host");
  for (const char* text : {"Keep the host off the guest's CPUs: the host keeps CPUs 16-27.",
                           "reserve them on the host (vm.nr_hugepages)", "<cpu mode='host-passthrough'/>",
                           "<interface type='host'/>", "See https://host.example.org/docs."})
    EXPECT_EQ(redact_tool_text(text, host), text);
  EXPECT_EQ(redact_tool_text("guest 'host' shares L3 #0 with the host", host), "guest '[host]' shares L3 #0 with the host");
  EXPECT_EQ(redact_tool_text("the guest's \"host\" pins", host), "the guest's \"[host]\" pins");
  const RedactionSecrets vm = host_named("vm");
  EXPECT_EQ(redact_tool_text("Lets Windows reset the VM through an MSR", vm), "Lets Windows reset the VM through an MSR");
  // Every other form is hidden in vpt-tune's words as anywhere.
  EXPECT_EQ(redact_tool_text("disk vda (/home/alice/vms/win11.qcow2) on 52:54:00:a1:b2:c3", vm),
            "disk vda ([disk image]) on [mac]");
}

TEST(RedactText, HidesTheHostOfRemoteLibvirtUris) {
  EXPECT_EQ(redact_text("qemu+ssh://alice@10.0.0.7/system"), "qemu+ssh://[host]/system");
  EXPECT_EQ(redact_text("qemu:///system"), "qemu:///system");
}

TEST(RedactText, ShowsFilesNamedOnTheCommandLineByTheirBaseName) {
  RedactionSecrets secrets;
  secrets.paths = {"/home/alice/bench/after.json", "before.json"};
  EXPECT_EQ(redact_text("cannot compare 'before.json' with '/home/alice/bench/after.json'", secrets),
            "cannot compare 'before.json' with 'after.json'");
}

TEST(RedactText, IsIdempotent) {
  RedactionSecrets secrets;
  secrets.hostnames = {"box"};
  for (const char* text : {"box 52:54:00:a1:b2:c3 /home/alice/x.qcow2 serial=ABC 5f3c2a1e-9b7d-4c2e-8f1a-0b2c3d4e5f60",
                           "qemu+ssh://root@box/system"}) {
    std::string once = redact_text(text, secrets);
    EXPECT_EQ(redact_text(once, secrets), once) << text;
  }
}

// ---- Issue 28, point 9: what else identifies a person ----------------------------

TEST(RedactText, HidesIpAddresses) {
  EXPECT_EQ(redact_text("bridge vmbr0 192.168.1.23/24 gw 192.168.1.1."), "bridge vmbr0 [ip] gw [ip].");
  EXPECT_EQ(redact_text("listen fd00:1234:5678::42 and 2001:0db8:85a3:0000:0000:8a2e:0370:7334"),
            "listen [ip] and [ip]");
  EXPECT_EQ(redact_text("link fe80::be24:11ff:fe5a:2b01%vmbr0"), "link [ip]%vmbr0");
}

TEST(RedactText, HidesMacsWithoutSeparatorsOrDotted) {
  EXPECT_EQ(redact_text("net0: virtio=BC24115A2B01,bridge=vmbr0"), "net0: virtio=[mac],bridge=vmbr0");
  EXPECT_EQ(redact_text("mac bc24.115a.2b01 learned"), "mac [mac] learned");
}

TEST(RedactText, HidesUuidsWithoutDashes) {
  EXPECT_EQ(redact_text("vmgenid 5f3c2a1e9b7d4c2e8f1a0b2c3d4e5f60 set"), "vmgenid [uuid] set");
}

TEST(RedactText, HidesSerialNumbersGivenAfterASpace) {
  EXPECT_EQ(redact_text("serialnumber QX7781Z"), "serialnumber [serial]");
  EXPECT_EQ(redact_text("Serial Number 7CE1234XYZ found"), "Serial Number [serial] found");
  EXPECT_EQ(redact_text("serial console on ttyS0"), "serial console on ttyS0");
}

TEST(RedactText, HidesWindowsUserPaths) {
  EXPECT_EQ(redact_text("probe at C:\\Users\\alice.smith\\AppData\\Local\\Temp\\p.exe failed"),
            "probe at [path] failed");
}

TEST(RedactText, HidesEmailAddressesAndUserAtHost) {
  EXPECT_EQ(redact_text("report by alice.smith+vfio@example.org, thanks"), "report by [email], thanks");
  EXPECT_EQ(redact_text("ssh root@pve1 then"), "ssh [account] then");
}

TEST(RedactText, HidesTheHostsOwnDomainAlone) {
  RedactionSecrets secrets;
  secrets.hostnames = {"box.corp.example.com"};
  EXPECT_EQ(redact_text("search corp.example.com", secrets), "search [domain]");
  EXPECT_EQ(redact_text("box", secrets), "[host]");
}

TEST(RedactText, HidesDevicePathsThatCarryNames) {
  EXPECT_EQ(redact_text("root on /dev/mapper/vg_alice-root"), "root on [path]");
  EXPECT_EQ(redact_text("disk /dev/zvol/rpool/data/alice-vm-100-disk-0 busy"), "disk [path] busy");
  EXPECT_EQ(redact_text("LV /dev/vg_alice/win11"), "LV [path]");
  EXPECT_EQ(redact_text("socket /run/user/1000/pipewire-0"), "socket [path]");
  for (const char* text : {"/dev/sda", "/dev/vfio/12", "/dev/kvm", "/dev/hugepages", "/run/libvirt/qemu"})
    EXPECT_EQ(redact_text(text), text);
}

TEST(RedactText, KeepsNumbersTimesAndPciAddressesBesideTheNewForms) {
  for (const char* text : {"memory 137438953472 bytes", "GPU 0000:01:00.0", "at 12:34:56", "version 9.0.0",
                           "ratio 1.25", "std::map", "sha 3f786850e387550fdab836ed7e6dc881de23001b"})
    EXPECT_EQ(redact_text(text), text);
}

TEST(RedactText, TheNewFormsAreIdempotent) {
  RedactionSecrets secrets;
  secrets.hostnames = {"box.corp.example.com"};
  const std::string text =
      "10.0.0.7 fd00::1:2 BC24115A2B01 bc24.115a.2b01 5f3c2a1e9b7d4c2e8f1a0b2c3d4e5f60 serialnumber X1 "
      "C:\\Users\\a\\b a@b.org root@pve1 corp.example.com /dev/mapper/x-y /run/user/1000";
  const std::string once = redact_text(text, secrets);
  EXPECT_EQ(redact_text(once, secrets), once);
}

TEST(RedactPath, KeepsOnlyTheBaseName) {
  EXPECT_EQ(redact_path("/home/alice/bench/after.json"), "after.json");
  EXPECT_EQ(redact_path("tests/corpus/lscpu/intel-core-i7-14700f.txt"), "intel-core-i7-14700f.txt");
  EXPECT_EQ(redact_path("plan.json"), "plan.json");
  EXPECT_EQ(redact_path("-"), "-");
}

TEST(RedactPath, HidesDiskImagesCompletely) {
  EXPECT_EQ(redact_path("/var/lib/libvirt/images/alice-win11.qcow2"), "[disk image]");
}

}  // namespace
}  // namespace vpt
