// Runs the real vpt-tune binary as a user would, for the command-line tests
// of every module (the binary's path comes from VPT_TUNE_BINARY).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace vpt::test {

struct CommandResult {
  int exit_code = -1;  // -1: did not exit normally
  std::string out, err;
};

inline std::string read_file_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// `vpt-tune ARGS` with stdin from /dev/null; stdout and stderr go through files in `dir`,
// named by this process's ID: tests that share a directory (testing::TempDir()) run in
// parallel under `ctest -j` (scripts/run-sanitizers.sh) without reading each other's output.
inline CommandResult run_vpt_tune(const std::string& args, const std::filesystem::path& dir) {
  const std::string pid = std::to_string(::getpid());
  const std::filesystem::path out = dir / ("vpt-tune-stdout-" + pid), err = dir / ("vpt-tune-stderr-" + pid);
  std::string command = std::string("'") + VPT_TUNE_BINARY + "' " + args + " >'" + out.string() + "' 2>'" +
                        err.string() + "' </dev/null";
  int status = std::system(command.c_str());
  CommandResult result;
  if (status != -1 && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  result.out = read_file_text(out);
  result.err = read_file_text(err);
  std::error_code ignored;
  std::filesystem::remove(out, ignored);
  std::filesystem::remove(err, ignored);
  return result;
}

}  // namespace vpt::test
