#include "cli/generate_docs_command.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "cli/command_doc.hpp"
#include "cli/completion.hpp"
#include "cli/man_page.hpp"
#include "common/atomic_file.hpp"

namespace vpt::cli {

namespace {

struct GenerateDocsOptions {
  std::string man_dir;
  std::string bash_file;
  std::string zsh_file;
  std::string date;
};

void write_file(const std::filesystem::path& path, const std::string& text) {
  write_file_atomically(path.string(), text, "documentation", 0644);
}

void write_pages(const CommandDoc& command, const CommandDoc& root, const ManPageInfo& info,
                 const std::filesystem::path& dir) {
  std::ostringstream page;
  write_man_page(page, command, root, info);
  write_file(dir / (man_page_name(command) + ".1"), page.str());
  for (const auto& sub : command.subcommands) write_pages(sub, root, info, dir);
}

void run_generate_docs(const GenerateDocsOptions& options, CLI::App& app) {
  const CommandDoc root = describe_command(app, "vpt-tune");
  if (!options.man_dir.empty()) {
    // Pages name the programs whose output vpt-tune reads or whose input it writes.
    const ManPageInfo info{std::string("vpt-tune ") + VPT_VERSION, options.date, {"virsh(1)", "lstopo(1)", "lscpu(1)"}};
    std::filesystem::create_directories(options.man_dir);
    write_pages(root, root, info, options.man_dir);
  }
  if (!options.bash_file.empty()) {
    std::ostringstream script;
    write_bash_completion(script, root);
    write_file(options.bash_file, script.str());
  }
  if (!options.zsh_file.empty()) {
    std::ostringstream script;
    write_zsh_completion(script, root);
    write_file(options.zsh_file, script.str());
  }
}

}  // namespace

void setup_generate_docs(CLI::App& app) {
  auto options = std::make_shared<GenerateDocsOptions>();
  CLI::App* generate = app.add_subcommand("generate-docs", "Write man pages and shell completions (used by the build)");
  generate->group("");  // hidden from --help, the pages and the completions
  generate->add_option("--man-dir", options->man_dir, "Write vpt-tune.1 and vpt-tune-SUBCOMMAND.1 here")->option_text("DIR");
  generate->add_option("--bash", options->bash_file, "Write the bash completion script here")->option_text("FILE");
  generate->add_option("--zsh", options->zsh_file, "Write the zsh completion script here")->option_text("FILE");
  generate->add_option("--date", options->date, "Date in the pages' footer (the release's)")->option_text("YYYY-MM-DD")->required();
  generate->callback([options, &app] { run_generate_docs(*options, app); });
}

}  // namespace vpt::cli
