// write_file_atomically: the new file whole or the old one untouched, nothing
// left beside it, one clear error — on a full disk, in a read-only directory,
// with writers racing.
#include "common/atomic_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "tests/common/scratch_tmpfs.hpp"

namespace vpt {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename().string());
  return names;
}

// The FileWriteError a write throws (fails the test when none).
FileWriteError error_of(const std::string& path, std::string_view contents, std::string_view what,
                        ExistingFile existing = ExistingFile::Replace) {
  try {
    write_file_atomically(path, contents, what, 0644, existing);
  } catch (const FileWriteError& e) {
    return e;
  }
  ADD_FAILURE() << "writing " << path << " did not fail";
  return FileWriteError(what, path, 0);
}

class AtomicWrite : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(testing::TempDir()) / ("vpt-atomic-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    fs::permissions(dir_, fs::perms::owner_all);
    fs::remove_all(dir_);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

TEST_F(AtomicWrite, WritesTheContentsWithTheModeLessTheUmask) {
  mode_t old_umask = ::umask(027);
  write_file_atomically(path("a.txt"), std::string("hello\0world", 11), "test file", 0666);
  write_file_atomically(path("b.sh"), "#!/bin/sh\n", "hook", 0755);
  write_file_atomically(path("c.xml"), "<domain/>", "backup", 0600);
  ::umask(old_umask);
  EXPECT_EQ(read_text(path("a.txt")), std::string("hello\0world", 11));
  struct stat st {};
  ASSERT_EQ(::stat(path("a.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  ASSERT_EQ(::stat(path("b.sh").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0750u);
  ASSERT_EQ(::stat(path("c.xml").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(names_in(dir_), (std::set<std::string>{"a.txt", "b.sh", "c.xml"})) << "no temporary file is left";
}

TEST_F(AtomicWrite, ReplacesAnExistingFileAndWritesEmptyFiles) {
  std::ofstream(path("r.json")) << "old contents, longer than the new";
  write_file_atomically(path("r.json"), "new", "results");
  EXPECT_EQ(read_text(path("r.json")), "new");
  write_file_atomically(path("r.json"), "", "results");
  EXPECT_EQ(read_text(path("r.json")), "");
  EXPECT_EQ(names_in(dir_), std::set<std::string>{"r.json"});
}

TEST_F(AtomicWrite, KeepLeavesAnExistingFileAndSaysItExists) {
  std::ofstream(path("r.html")) << "mine";
  FileWriteError e = error_of(path("r.html"), "theirs", "report", ExistingFile::Keep);
  EXPECT_EQ(e.error_number(), EEXIST);
  EXPECT_STREQ(e.what(), ("cannot write report '" + path("r.html") + "': the file exists").c_str());
  EXPECT_EQ(read_text(path("r.html")), "mine");
  EXPECT_EQ(names_in(dir_), std::set<std::string>{"r.html"});
  write_file_atomically(path("new.html"), "x", "report", 0644, ExistingFile::Keep);
  EXPECT_EQ(read_text(path("new.html")), "x");
}

TEST_F(AtomicWrite, RelativePathsWriteInTheCurrentDirectory) {
  fs::path old_cwd = fs::current_path();
  fs::current_path(dir_);
  write_file_atomically("plain.txt", "x", "file");
  fs::current_path(old_cwd);
  EXPECT_EQ(read_text(path("plain.txt")), "x");
  EXPECT_EQ(names_in(dir_), std::set<std::string>{"plain.txt"});
}

TEST_F(AtomicWrite, AMissingDirectoryIsOneClearError) {
  FileWriteError e = error_of(path("no/such/dir/r.json"), "x", "results");
  EXPECT_EQ(e.error_number(), ENOENT);
  EXPECT_STREQ(e.what(), ("cannot write results '" + path("no/such/dir/r.json") + "': No such file or directory").c_str());
}

TEST_F(AtomicWrite, ADirectoryInTheWayStaysADirectory) {
  fs::create_directories(path("taken/inner"));
  FileWriteError e = error_of(path("taken"), "x", "report");
  EXPECT_EQ(e.error_number(), EISDIR);
  EXPECT_TRUE(fs::is_directory(path("taken/inner")));
  EXPECT_EQ(names_in(dir_), std::set<std::string>{"taken"});
  EXPECT_EQ(error_of(path("taken") + "/", "x", "report").error_number(), EISDIR);
}

// Eight writers race on one file while a reader keeps opening it: every read
// is one writer's whole contents. (A shared temporary name, as results.cpp
// once used, interleaves them.)
TEST_F(AtomicWrite, RacingWritersNeverMixTheirContents) {
  constexpr int kWriters = 8, kRounds = 10;
  std::vector<std::string> contents;
  for (int w = 0; w < kWriters; ++w) contents.push_back(std::string(256 * 1024 + w, static_cast<char>('a' + w)));
  write_file_atomically(path("shared.json"), contents[0], "results");
  std::atomic<bool> done{false};
  std::atomic<int> torn{0}, reads{0};
  std::thread reader([&] {
    while (!done) {
      std::string text = read_text(path("shared.json"));
      ++reads;
      if (std::find(contents.begin(), contents.end(), text) == contents.end()) ++torn;
    }
  });
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int w = 0; w < kWriters; ++w)
    writers.emplace_back([&, w] {
      for (int i = 0; i < kRounds; ++i) try {
          write_file_atomically(path("shared.json"), contents[w], "results");
        } catch (const FileWriteError&) {
          ++failures;
        }
    });
  for (auto& t : writers) t.join();
  done = true;
  reader.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(torn, 0) << "of " << reads << " reads";
  EXPECT_NE(std::find(contents.begin(), contents.end(), read_text(path("shared.json"))), contents.end());
  EXPECT_EQ(names_in(dir_), std::set<std::string>{"shared.json"});
}

TEST(AtomicWriteOnAFullDisk, KeepsTheOldFileAndLeavesNoTemporaryFile) {
  if (auto why = test::ScratchTmpfs::unavailable()) GTEST_SKIP() << *why;
  test::ScratchTmpfs disk(64 * 1024);
  const std::string target = (disk.path() / "results.json").string();
  write_file_atomically(target, "old", "results");
  FileWriteError e = error_of(target, std::string(1024 * 1024, 'x'), "results");
  EXPECT_EQ(e.error_number(), ENOSPC);
  EXPECT_STREQ(e.what(), ("cannot write results '" + target + "': No space left on device").c_str());
  EXPECT_EQ(read_text(target), "old");
  EXPECT_EQ(names_in(disk.path()), std::set<std::string>{"results.json"});
  // The failed attempt gave its space back: a file of most of the disk fits.
  write_file_atomically(target, std::string(40 * 1024, 'y'), "results");
  EXPECT_EQ(read_text(target), std::string(40 * 1024, 'y'));
}

TEST(AtomicWriteInAReadOnlyDirectory, KeepsTheOldFile) {
  if (auto why = test::ScratchTmpfs::unavailable()) GTEST_SKIP() << *why;
  test::ScratchTmpfs disk(64 * 1024);
  const std::string target = (disk.path() / "win11.xml").string();
  write_file_atomically(target, "<domain/>", "patched definition");
  disk.remount_read_only();
  FileWriteError e = error_of(target, "<domain>new</domain>", "patched definition");
  EXPECT_EQ(e.error_number(), EROFS);
  EXPECT_STREQ(e.what(), ("cannot write patched definition '" + target + "': Read-only file system").c_str());
  EXPECT_EQ(read_text(target), "<domain/>");
  EXPECT_EQ(names_in(disk.path()), std::set<std::string>{"win11.xml"});
}

// Without root a directory without write permission is read-only (root
// ignores permissions, hence the read-only mount above).
TEST_F(AtomicWrite, ADirectoryWithoutWritePermissionIsOneClearError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes into any directory; see AtomicWriteInAReadOnlyDirectory";
  std::ofstream(path("r.html")) << "mine";
  fs::permissions(dir_, fs::perms::owner_read | fs::perms::owner_exec);
  FileWriteError e = error_of(path("r.html"), "theirs", "report");
  EXPECT_EQ(e.error_number(), EACCES);
  EXPECT_STREQ(e.what(), ("cannot write report '" + path("r.html") + "': Permission denied").c_str());
  EXPECT_EQ(read_text(path("r.html")), "mine");
}

}  // namespace
}  // namespace vpt
