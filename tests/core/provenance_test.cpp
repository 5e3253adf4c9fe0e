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

// Every run (lrtune train, and each study trial) keeps this in config.json.
TEST(Provenance, RunProvenanceRecordsWhatProducedTheRun) {
  const auto info = run_provenance("cpu", 3, 42);
  EXPECT_EQ(info.at("lrtune"), lrtune_version());
  EXPECT_EQ(info.at("git_commit"), git_commit());
  EXPECT_EQ(info.at("libtorch"), torch_version());
  EXPECT_EQ(info.at("device"), "cpu");
  EXPECT_EQ(info.at("threads"), 3);
  EXPECT_EQ(info.at("seed"), 42);
  EXPECT_FALSE(info.at("host").get<std::string>().empty());
}

}  // namespace
}  // namespace lrtune
