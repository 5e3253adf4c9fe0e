#include "core/files.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "core/errors.h"
#include "support/test_support.h"

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

}  // namespace
}  // namespace lrtune
