#include "check/fixes.hpp"

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>

#include <fmt/format.h>

#include "check/check_table.hpp"

namespace vpt {

DomainFixes collect_fixes(const CheckReport& report, const GuestPlan* plan) {
  DomainFixes fixes;
  for (const Finding& f : report.findings) {
    switch (f.auto_fix) {
      case AutoFix::Plan:
        if (!plan) break;
        fixes.plan = *plan;
        fixes.applied.push_back(f.id);
        continue;
      case AutoFix::Tuning:
        fixes.tuning.merge(f.tuning);
        fixes.applied.push_back(f.id);
        continue;
      case AutoFix::IothreadAttach:
        for (const std::string& device : f.iothread_devices)
          if (std::find(fixes.iothread_devices.begin(), fixes.iothread_devices.end(), device) ==
              fixes.iothread_devices.end())
            fixes.iothread_devices.push_back(device);
        fixes.applied.push_back(f.id);
        continue;
      case AutoFix::No:
        break;
    }
    if (f.fix_kind == FixKind::DomainXml || (f.fix_kind == FixKind::None && !f.manual_reason.empty()))
      fixes.left.push_back(fmt::format("{}: {}", f.id, f.manual_reason.empty() ? "left to you" : f.manual_reason));
  }
  return fixes;
}

PatchResult apply_fixes(std::string_view xml, const DomainFixes& fixes) {
  PatchResult result;
  result.xml = std::string(xml);
  auto step = [&](PatchResult part) {
    result.xml = std::move(part.xml);
    result.notes.insert(result.notes.end(), part.notes.begin(), part.notes.end());
  };
  if (fixes.plan) step(patch_domain(result.xml, *fixes.plan));
  if (!fixes.tuning.empty()) step(patch_domain(result.xml, fixes.tuning));
  if (!fixes.iothread_devices.empty()) {
    // The plan may have set the count already; attaching keeps what devices name.
    const Domain now = parse_domain_xml(result.xml, "the definition with the fixes");
    step(attach_iothreads(result.xml, std::max(1u, now.iothreads)));
  }
  return result;
}

namespace {

// Words in a fix snippet that a libvirt message about it would name: element
// names of leaf elements and name='...' values ("stimer", "hint-dedicated",
// "topology", "hypervclock"), without the containers every snippet has.
std::set<std::string> snippet_words(const std::string& snippet) {
  static const std::set<std::string> kContainers = {
      "domain", "features", "devices", "disk", "controller", "driver", "clock", "cpu", "kvm", "hyperv", "cputune",
      "vcpu", "numatune", "memory", "iothreads", "memoryBacking", "timer", "feature"};
  static const std::regex element(R"(<([A-Za-z][\w-]*))"), name_value(R"(name='([^']+)')");
  std::set<std::string> words;
  for (auto it = std::sregex_iterator(snippet.begin(), snippet.end(), element); it != std::sregex_iterator(); ++it)
    if (!kContainers.count((*it)[1])) words.insert((*it)[1]);
  for (auto it = std::sregex_iterator(snippet.begin(), snippet.end(), name_value); it != std::sregex_iterator(); ++it)
    words.insert((*it)[1]);
  return words;
}


}  // namespace

std::vector<std::string> fixes_named_in(std::string_view message, const CheckReport& report,
                                        const DomainFixes& fixes) {
  const std::string text = lowercase(message);
  std::vector<std::string> named;
  for (const Finding& f : report.findings) {
    if (!f.fix || std::find(fixes.applied.begin(), fixes.applied.end(), f.id) == fixes.applied.end()) continue;
    for (const std::string& word : snippet_words(*f.fix))
      if (text.find(lowercase(word)) != std::string::npos) {
        named.push_back(f.id);
        break;
      }
  }
  return named;
}

}  // namespace vpt
