#include "cli/compare_command.hpp"

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench.hpp"

namespace vpt::cli {

namespace {

struct CompareCommandOptions {
  std::vector<std::string> files;   // BEFORE AFTER
  std::vector<std::string> before;  // --before, repeatable
  std::vector<std::string> after;   // --after, repeatable
  bool allow_different_hosts = false;
  double min_change_percent = 5.0;
  bool detail = false;  // --detail: p99s, p-values and each verdict's reason
};

void run_compare(const CompareCommandOptions& o) {
  std::vector<std::string> before_names = o.before, after_names = o.after;
  if (!o.files.empty()) {
    before_names = {o.files[0]};
    after_names = {o.files[1]};
  }
  if (before_names.empty() || after_names.empty())
    throw BenchInputError("cannot compare results: give BEFORE.json AFTER.json, or --before and --after");
  std::vector<Results> before, after;
  for (const auto& name : before_names) before.push_back(load_results_file(name));
  for (const auto& name : after_names) after.push_back(load_results_file(name));
  CompareOptions options;
  options.allow_different_hosts = o.allow_different_hosts;
  options.min_change = o.min_change_percent / 100;
  write_comparison_text(std::cout, compare_results(before, after, before_names, after_names, options), o.detail);
}

}  // namespace

void setup_compare(CLI::App& app) {
  auto options = std::make_shared<CompareCommandOptions>();
  CLI::App* compare =
      app.add_subcommand("compare", "Compare two `vpt-tune bench --out` files: median, p99, change and a verdict "
                                    "(better / worse / within noise) per metric");
  compare->footer(
      "Examples:\n"
      "  vpt-tune compare before.json after.json\n"
      "  vpt-tune compare --before b1.json --before b2.json ... --after a1.json --after a2.json ...\n"
      "A change counts as better or worse only when a Mann-Whitney test gives p < 0.01 and the median moved by\n"
      "at least --min-change. With one file a side the test (plus a 95% bootstrap interval) sees only the noise\n"
      "within each run; with several (5 a side can reach p < 0.01) it compares the runs' medians, so that the\n"
      "variation between runs counts as noise.");
  auto* files = compare->add_option("files", options->files, "BEFORE.json AFTER.json")
                    ->expected(2);
  auto* before = compare->add_option("--before", options->before, "A results file of the configuration before (repeat for several runs)")
                     ->option_text("FILE");
  auto* after = compare->add_option("--after", options->after, "A results file of the configuration after (repeat for several runs)")
                    ->option_text("FILE");
  files->excludes(before)->excludes(after);
  before->needs(after);
  after->needs(before);
  compare->add_flag("--allow-different-hosts", options->allow_different_hosts,
                    "Compare results from different hosts (the host name or CPU differs)");
  compare->add_flag("--force", options->allow_different_hosts, "The old name of --allow-different-hosts")
      ->group("");  // hidden: kept so that scripts written for 0.x go on working
  compare->add_option("--min-change", options->min_change_percent,
                      "Smallest change of a median, in percent, that counts as better or worse")
      ->check(CLI::Range(0.0, 1000.0))
      ->capture_default_str();
  compare->add_flag("--detail", options->detail,
                    "Also show each metric's p99 before and after, the test's p-values and why each verdict");
  compare->callback([options] { run_compare(*options); });
}

}  // namespace vpt::cli
