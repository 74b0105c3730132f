// describe_command reads what a CLI11 definition says, for the man pages and
// completions. The expected values are the toy definitions below.
#include "cli/command_doc.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

namespace vpt::cli {
namespace {

struct Toy {
  CLI::App app{"tool: does toy things"};
  bool fast = false;
  std::string file, topology, mode, domain, hidden, uri;
  int count = 3;
  std::vector<std::string> items, positionals;

  Toy() {
    CLI::App* run = app.add_subcommand("run", "Run things");
    run->footer("Examples:\n  tool run --fast   quickly");
    run->add_flag("--fast", fast, "Go fast");
    run->add_option("--file", file, "An existing file")->check(CLI::ExistingFile);
    run->add_option("--topology", topology, "hwloc XML")->option_text("FILE.xml");
    run->add_option("--backups", file, "Backup directory")->option_text("DIR");
    run->add_option("--mode", mode, "Mode")->check(CLI::IsMember({"fast", "slow"}))->capture_default_str();
    auto* d = run->add_option("-d,--domain", domain, "A libvirt domain")->option_text("NAME");
    auto* c = run->add_option("-c,--connect", uri, "URI")->option_text("URI")->required();
    d->needs(c);
    run->add_option("--count", count, "How many")->check(CLI::Range(0, 64))->capture_default_str();
    auto* item = run->add_option("--item", items, "Repeatable");
    item->excludes(d);
    run->add_option("--secret", hidden, "Not for users")->group("");
    run->add_option("inputs", positionals, "Input files")->check(CLI::ExistingFile);
    app.add_subcommand("internal", "Hidden")->group("");
  }
};

const OptionDoc& option_named(const CommandDoc& command, const std::string& name) {
  for (const auto& o : command.options)
    if (o.display_name() == name) return o;
  throw std::runtime_error("no option " + name);
}

TEST(DescribeCommand, ListsVisibleSubcommandsOnly) {
  Toy toy;
  const CommandDoc root = describe_command(toy.app, "tool");
  ASSERT_EQ(root.subcommands.size(), 1U);
  EXPECT_EQ(root.subcommands[0].path, (std::vector<std::string>{"tool", "run"}));
  EXPECT_EQ(root.subcommands[0].invocation(), "tool run");
  EXPECT_EQ(root.subcommands[0].description, "Run things");
  EXPECT_EQ(root.subcommands[0].footer, "Examples:\n  tool run --fast   quickly");
  EXPECT_EQ(root.description, "tool: does toy things");
}

TEST(DescribeCommand, LeavesOutHiddenOptions) {
  Toy toy;
  const CommandDoc run = describe_command(toy.app, "tool").subcommands.at(0);
  for (const auto& o : run.options) EXPECT_NE(o.display_name(), "--secret");
  // --help, then the nine visible options in definition order.
  ASSERT_EQ(run.options.size(), 10U);
  EXPECT_EQ(run.options[0].display_name(), "--help");
  EXPECT_EQ(run.options[1].display_name(), "--fast");
  EXPECT_EQ(run.options[9].display_name(), "--item");
}

TEST(DescribeCommand, TellsFlagsFromOptionsWithValues) {
  Toy toy;
  const CommandDoc run = describe_command(toy.app, "tool").subcommands.at(0);
  EXPECT_EQ(option_named(run, "--fast").kind, ValueKind::none);
  EXPECT_TRUE(option_named(run, "--fast").metavar.empty());
  EXPECT_EQ(option_named(run, "--help").kind, ValueKind::none);
  EXPECT_EQ(option_named(run, "--count").kind, ValueKind::text);
}

TEST(DescribeCommand, FindsFilesFromChecksAndMetavars) {
  Toy toy;
  const CommandDoc run = describe_command(toy.app, "tool").subcommands.at(0);
  EXPECT_EQ(option_named(run, "--file").kind, ValueKind::file);
  EXPECT_TRUE(option_named(run, "--file").constraints.empty());  // the FILE check is the kind, not a constraint
  EXPECT_EQ(option_named(run, "--topology").kind, ValueKind::file);
  EXPECT_EQ(option_named(run, "--topology").file_extension, "xml");
  EXPECT_EQ(option_named(run, "--topology").metavar, "FILE.xml");
  EXPECT_EQ(option_named(run, "--backups").kind, ValueKind::directory);
}

TEST(DescribeCommand, ReadsChoicesAndDefaults) {
  Toy toy;
  const CommandDoc run = describe_command(toy.app, "tool").subcommands.at(0);
  const OptionDoc& mode = option_named(run, "--mode");
  EXPECT_EQ(mode.kind, ValueKind::choice);
  EXPECT_EQ(mode.choices, (std::vector<std::string>{"fast", "slow"}));
  EXPECT_EQ(option_named(run, "--count").default_value, "3");
  EXPECT_EQ(option_named(run, "--count").constraints.size(), 1U);  // the range
}

TEST(DescribeCommand, DomainOptionsCompleteDomains) {
  Toy toy;
  const CommandDoc run = describe_command(toy.app, "tool").subcommands.at(0);
  const OptionDoc& domain = option_named(run, "--domain");
  EXPECT_EQ(domain.kind, ValueKind::domain);
  EXPECT_EQ(domain.short_names, (std::vector<std::string>{"d"}));
  EXPECT_EQ(domain.long_names, (std::vector<std::string>{"domain"}));
  EXPECT_EQ(option_named(run, "--connect").kind, ValueKind::text);
}

TEST(DescribeCommand, ReadsRequiredNeedsExcludesRepeatable) {
  Toy toy;
  const CommandDoc run = describe_command(toy.app, "tool").subcommands.at(0);
  EXPECT_TRUE(option_named(run, "--connect").required);
  EXPECT_FALSE(option_named(run, "--domain").required);
  EXPECT_EQ(option_named(run, "--domain").needs, (std::vector<std::string>{"--connect"}));
  // CLI11 records an exclusion on both options.
  EXPECT_EQ(option_named(run, "--item").excludes, (std::vector<std::string>{"--domain"}));
  EXPECT_EQ(option_named(run, "--domain").excludes, (std::vector<std::string>{"--item"}));
  EXPECT_TRUE(option_named(run, "--item").repeatable);
  EXPECT_FALSE(option_named(run, "--file").repeatable);
}

TEST(DescribeCommand, SeparatesPositionals) {
  Toy toy;
  const CommandDoc run = describe_command(toy.app, "tool").subcommands.at(0);
  ASSERT_EQ(run.positionals.size(), 1U);
  EXPECT_EQ(run.positionals[0].positional_name, "inputs");
  EXPECT_EQ(run.positionals[0].metavar, "inputs");
  EXPECT_EQ(run.positionals[0].kind, ValueKind::file);
  EXPECT_TRUE(run.positionals[0].repeatable);
}

}  // namespace
}  // namespace vpt::cli
