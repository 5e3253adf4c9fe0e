// Atomic file writes: whole or nothing, temporaries removed, errors that say why.
#include "core/files.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "core/errors.h"
#include "support/test_support.h"
#include "support/tmpfs_mount.h"

namespace lrtune {
namespace {
namespace fs = std::filesystem;

TEST(Files, WritesAndReplacesWholeFileWithoutLeavingTemporaries) {
  test::TempDir tmp;
  const fs::path& dir = tmp.path();
  write_text_atomically(dir / "a.json", "first, longer text\n");
  write_text_atomically(dir / "a.json", "second\n");
  EXPECT_EQ(test::read_file(dir / "a.json"), "second\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
}

TEST(Files, MissingFolderIsAStoreErrorNamingTheFile) {
  test::TempDir tmp;
  const fs::path& dir = tmp.path();
  try {
    write_text_atomically(dir / "no" / "such" / "a.json", "x");
    FAIL() << "expected StoreError";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("a.json"), std::string::npos) << e.what();
  }
}

// An immutable file (chattr +i) cannot be replaced: the message says why in
// errno's words and what to do, and the temporary file is gone.
TEST(Files, ReplacingAnImmutableFileSaysWhyAndHow) {
  test::TempDir tmp;
  const fs::path file = tmp.path() / "metrics.csv";
  write_text_atomically(file, "epoch\n1\n");
  std::string out;
  if (test::run_command("chattr +i '" + file.string() + "'", &out) != 0)
    GTEST_SKIP() << "chattr +i not allowed here: " << out;
  std::string message;
  try {
    write_text_atomically(file, "epoch\n1\n2\n");
  } catch (const StoreError& e) {
    message = e.what();
  }
  test::run_command("chattr -i '" + file.string() + "'", &out);
  EXPECT_EQ(message, file.string() + ": cannot replace: Operation not permitted (the file or its "
                     "folder is read-only, on a read-only disk, or immutable: `lsattr` shows an "
                     "'i'; make it writable and run the command again)");
  EXPECT_EQ(test::read_file(file), "epoch\n1\n");
  EXPECT_FALSE(fs::exists(file.string() + ".tmp"));
}

// A full disk: the error says so (errno's words), and the temporary file that
// filled it is gone, so the disk is not left full.
TEST(FullDiskFiles, WriteOnAFullDiskSaysNoSpaceAndLeavesNoTemporaryFile) {
  test::TempDir tmp;
  const fs::path disk = tmp.path() / "disk";
  test::TmpfsMount mount(disk, "64k");
  if (!mount.mounted()) GTEST_SKIP() << mount.skip_reason();
  write_text_atomically(disk / "small.json", "kept\n");
  try {
    write_text_atomically(disk / "big.csv", std::string(256 * 1024, 'x'));
    FAIL() << "expected StoreError";
  } catch (const StoreError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("big.csv"), std::string::npos) << what;
    EXPECT_NE(what.find("No space left on device"), std::string::npos) << what;
  }
  EXPECT_FALSE(fs::exists(disk / "big.csv.tmp"));
  EXPECT_FALSE(fs::exists(disk / "big.csv"));
  EXPECT_EQ(test::read_file(disk / "small.json"), "kept\n");
}

}  // namespace
}  // namespace lrtune

namespace lrtune {
namespace {

TEST(Files, BoundedFileNamesKeepShortNamesAndMakeLongOnesShortAndDistinct) {
  EXPECT_EQ(bounded_file_name("lr=0.1 seed=2"), "lr=0.1 seed=2");
  const std::string a = bounded_file_name(std::string(300, 'x') + "a");
  const std::string b = bounded_file_name(std::string(300, 'x') + "b");
  EXPECT_EQ(a.size(), 120u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.substr(0, 111), std::string(111, 'x'));
  // Never cut inside a UTF-8 character ("é" is two bytes).
  std::string accents;
  for (int i = 0; i < 100; ++i) accents += "\xC3\xA9";
  const std::string cut = bounded_file_name(accents, 50);
  EXPECT_LE(cut.size(), 50u);
  EXPECT_EQ(cut.substr(0, cut.size() - 9).size() % 2, 0u);
}

}  // namespace
}  // namespace lrtune
