#include "core/provenance.h"

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace lrtune {
namespace {

// Runs record git_commit(): it must name the commit the binary was built from,
// not the one CMake happened to configure at (the build regenerates it).
TEST(Provenance, GitCommitIsTheCheckoutsCommit) {
  std::string head;
  if (test::run_command("git -C '" LRTUNE_SOURCE_DIR "' rev-parse --short HEAD", &head) != 0)
    GTEST_SKIP() << "not a git checkout";
  while (!head.empty() && (head.back() == '\n' || head.back() == ' ')) head.pop_back();
  const std::string built = git_commit();
  EXPECT_EQ(built.substr(0, built.find("-dirty")), head)
      << "lrtune was built from another commit: build again before testing";
}

TEST(Provenance, VersionLineNamesAllThree) {
  const std::string line = version_line();
  EXPECT_NE(line.find(lrtune_version()), std::string::npos) << line;
  EXPECT_NE(line.find(git_commit()), std::string::npos) << line;
  EXPECT_NE(line.find(torch_version()), std::string::npos) << line;
}

}  // namespace
}  // namespace lrtune
