// Linked with vpt_check, vpt_pve and vpt_virt only, by link_guard_test.sh,
// which expects the link to succeed without libvirt and the executable not to
// need libvirt's shared libraries: reviewing a definition, patching one and
// Proxmox's configs must not pull in the libvirt client (only vpt_libvirt,
// the one connection to libvirt, links it).
#include "check/findings.hpp"
#include "pve/pve_config.hpp"
#include "virt/domain_xml.hpp"

int main(int argc, char**) {
  if (argc > 1) {  // never run: the calls make the linker pull each module's code in
    vpt::Domain domain;
    vpt::CheckInput input;
    input.domain = &domain;
    (void)vpt::run_checks(input);
    (void)vpt::parse_pve_config("cores: 2\n", "guard");
    (void)vpt::patch_domain("<domain/>", vpt::DomainTuning{});
  }
  return 0;
}
