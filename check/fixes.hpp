// What `check --fix` changes in a domain: gathered from the findings once,
// then applied to any copy of the definition (the file for --out, the
// definition read with its secrets for --apply) through virt/domain_xml.hpp's
// patch code, which keeps everything else byte for byte.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "check/findings.hpp"
#include "optimizer/plan.hpp"
#include "virt/domain_xml.hpp"

namespace vpt {

struct DomainFixes {
  std::optional<GuestPlan> plan;            // suggest's plan, when a finding's fix is the plan
  DomainTuning tuning;                      // every AutoFix::Tuning finding's settings, merged
  std::vector<std::string> iothread_devices;  // devices that need an I/O thread ("disk vda")
  std::vector<std::string> applied;         // ids of the findings these changes fix
  std::vector<std::string> left;            // "id: why --fix leaves it" for domain changes it does not make

  bool empty() const { return !plan && tuning.empty() && iothread_devices.empty(); }
};

// The domain changes of the report's findings. `plan` is the plan the checks
// were given (the one their snippets show).
DomainFixes collect_fixes(const CheckReport& report, const GuestPlan* plan);

// Applies the fixes to a definition: the plan, then the other settings, then
// the I/O threads: virt/domain_xml.hpp's attach_iothreads() with the
// domain's own iothreads (one when it has none), which gives every virtio
// disk and virtio-scsi controller one. Throws DomainInputError when the XML
// cannot be read or a change cannot be merged.
PatchResult apply_fixes(std::string_view xml, const DomainFixes& fixes);

// Which applied fixes an error message from libvirt names: the findings
// whose fix snippet has an element or attribute the message mentions.
// Empty when it names none.
std::vector<std::string> fixes_named_in(std::string_view message, const CheckReport& report,
                                        const DomainFixes& fixes);

}  // namespace vpt
