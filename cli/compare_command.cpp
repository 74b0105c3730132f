#include "cli/compare_command.hpp"

#include <iostream>
#include <memory>

#include "bench/bench.hpp"

namespace vpt::cli {

namespace {

struct CompareCommandOptions {
  std::string before;
  std::string after;
  bool force = false;
  double min_change_percent = 5.0;
};

void run_compare(const CompareCommandOptions& o) {
  Results before = load_results_file(o.before);
  Results after = load_results_file(o.after);
  CompareOptions options;
  options.force = o.force;
  options.min_change = o.min_change_percent / 100;
  write_comparison_text(std::cout, compare_results(before, after, o.before, o.after, options));
}

}  // namespace

void setup_compare(CLI::App& app) {
  auto options = std::make_shared<CompareCommandOptions>();
  CLI::App* compare =
      app.add_subcommand("compare", "Compare two `vpt-tune bench --save` files: median, p99, change and a verdict "
                                    "(better / worse / within noise) per metric");
  compare->footer(
      "Example:\n"
      "  vpt-tune compare before.json after.json\n"
      "A change counts as better or worse only when a Mann-Whitney test (p < 0.01) and a 95% bootstrap\n"
      "interval of the median difference both say it is real and it is at least --min-change.");
  compare->add_option("before", options->before, "Results before the change")->required()->check(CLI::ExistingFile);
  compare->add_option("after", options->after, "Results after the change")->required()->check(CLI::ExistingFile);
  compare->add_flag("--force", options->force, "Compare results from different hosts");
  compare->add_option("--min-change", options->min_change_percent,
                      "Smallest change of a median, in percent, that counts as better or worse")
      ->check(CLI::Range(0.0, 1000.0))
      ->capture_default_str();
  compare->callback([options] { run_compare(*options); });
}

}  // namespace vpt::cli
