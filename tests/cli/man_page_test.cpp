// The man page writer: roff escaping by hand-written expectations, and a page
// with awkward text rendered by groff itself (no warnings, the text survives).
#include "cli/man_page.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include "cli/command_doc.hpp"

namespace vpt::cli {
namespace {

TEST(RoffText, EscapesBackslashes) { EXPECT_EQ(roff_text(R"(C:\path)"), R"(C:\epath)"); }

TEST(RoffText, OptionDashesAreMinusSignsHyphensStayHyphens) {
  EXPECT_EQ(roff_text("re-run with --dry-run or -n"), R"(re-run with \-\-dry\-run or \-n)");
  EXPECT_EQ(roff_text("(--force)"), R"((\-\-force))");
}

TEST(RoffText, CodeSpansAreBoldLiterals) {
  EXPECT_EQ(roff_text("paste `lscpu -e` here"), R"(paste \fBlscpu \-e\fR here)");
  EXPECT_EQ(roff_text("an `unclosed span"), "an `unclosed span");
}

TEST(RoffText, NonAsciiBecomesNamedCodePoints) {
  EXPECT_EQ(roff_text("a \xE2\x89\xA5 b"), R"(a \[u2265] b)");        // U+2265 GREATER-THAN OR EQUAL TO
  EXPECT_EQ(roff_text("caf\xC3\xA9"), R"(caf\[u00E9])");              // U+00E9
  EXPECT_EQ(roff_text("bad \xFF byte"), R"(bad \[uFFFD] byte)");      // not UTF-8
}

TEST(ManPageName, JoinsThePathWithDashes) {
  CommandDoc root;
  root.path = {"vpt-tune"};
  CommandDoc sub;
  sub.path = {"vpt-tune", "probe"};
  EXPECT_EQ(man_page_name(root), "vpt-tune");
  EXPECT_EQ(man_page_name(sub), "vpt-tune-probe");
}

// Runs a shell command, returns its standard output and error.
std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return "popen failed";
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  pclose(pipe);
  return out;
}

class AwkwardPage : public ::testing::Test {
 protected:
  void SetUp() override {
    if (run("command -v groff").empty()) GTEST_SKIP() << "groff is not installed";
    app.add_flag("--verbose", verbose, "Say more");
    CLI::App* sub = app.add_subcommand("do", ".starts with a dot, has a \\backslash, 'quotes' and \xE2\x86\x92 arrows");
    sub->footer("'Leading quote line and a long word: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
                "Examples:\n"
                "  tool do --level 3 \\\n"
                "  .dotted   a term that starts with a dot\n"
                "Exit status:\n"
                "  0   fine");
    sub->add_option("--level", level, "Level \"quoted\" [0-9]")->check(CLI::Range(0, 9))->capture_default_str();
    sub->add_option("--mode", mode, "Mode")->check(CLI::IsMember({"a-b", "c\\d"}))->group("Odd \"group\"");
    root = describe_command(app, "tool");
  }

  // groff's text rendering of the page of `command`, and its warnings (-ww).
  std::string render(const CommandDoc& command, std::string* warnings) {
    std::ostringstream page;
    write_man_page(page, command, root, ManPageInfo{"tool 1.0", "2026-12-01", {"virsh(1)"}});
    const auto path = std::filesystem::temp_directory_path() / ("vpt-man-test-" + std::to_string(getpid()) + ".1");
    std::ofstream(path) << page.str();
    *warnings = run("groff -man -ww -z " + path.string());
    std::string text = run("LC_ALL=C.UTF-8 groff -man -Tutf8 -P-cbou -rLL=200n " + path.string());
    std::filesystem::remove(path);
    return text;
  }

  CLI::App app{"tool: toy"};
  bool verbose = false;
  int level = 2;
  std::string mode;
  CommandDoc root;
};

TEST_F(AwkwardPage, GroffHasNothingToWarnAbout) {
  std::string warnings;
  render(root, &warnings);
  EXPECT_EQ(warnings, "");
  render(root.subcommands.at(0), &warnings);
  EXPECT_EQ(warnings, "");
}

TEST_F(AwkwardPage, TextSurvivesRendering) {
  std::string warnings;
  const std::string text = render(root.subcommands.at(0), &warnings);
  EXPECT_NE(text.find("tool-do - .starts with a dot, has a \\backslash, 'quotes' and \xE2\x86\x92 arrows"), std::string::npos)
      << text;
  EXPECT_NE(text.find("'Leading quote line"), std::string::npos) << text;
  EXPECT_NE(text.find("tool do --level 3 \\"), std::string::npos) << text;
  EXPECT_NE(text.find(".dotted"), std::string::npos) << text;
  EXPECT_NE(text.find("Level \"quoted\" [0-9]."), std::string::npos) << text;
  EXPECT_NE(text.find("Default: 2."), std::string::npos) << text;
  EXPECT_NE(text.find("One of: a-b, c\\d."), std::string::npos) << text;
  EXPECT_NE(text.find("Odd group"), std::string::npos) << text;
  EXPECT_NE(text.find("EXIT STATUS"), std::string::npos) << text;
  EXPECT_NE(text.find("EXAMPLES"), std::string::npos) << text;
  EXPECT_NE(text.find("SYNOPSIS\n       tool do [OPTIONS]"), std::string::npos) << text;
  EXPECT_NE(text.find("tool(1), virsh(1)"), std::string::npos) << text;
}

TEST_F(AwkwardPage, RootPageListsCommandsAndGlobalOptions) {
  std::string warnings;
  const std::string text = render(root, &warnings);
  EXPECT_NE(text.find("tool - toy"), std::string::npos) << text;
  EXPECT_NE(text.find("COMMANDS"), std::string::npos) << text;
  EXPECT_NE(text.find("See tool-do(1)."), std::string::npos) << text;
  EXPECT_NE(text.find("--verbose"), std::string::npos) << text;
}

}  // namespace
}  // namespace vpt::cli
