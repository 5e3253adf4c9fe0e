// What a run records about what produced it, and the check that a study's
// trials used one copy of the data.
#include "core/provenance.h"

#include <gmock/gmock.h>
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

// `lrtune study status` and `lrtune report` print this line for a study.
TEST(Provenance, TrialsOnDifferentCopiesOfTheDataGiveOneWarningLine) {
  using nlohmann::json;
  const json a = {{kDataFingerprintKey, "aaaaaaaaaaaaaaaa"}, {"host", "h1"}};
  const json b = {{kDataFingerprintKey, "bbbbbbbbbbbbbbbb"}, {"host", "h1"}};
  const json older = {{"host", "h2"}};  // recorded before fingerprints: no opinion
  EXPECT_EQ(mixed_data_warning({}), "");
  EXPECT_EQ(mixed_data_warning({a, a, older, json::object(), json()}), "");
  const std::string w = mixed_data_warning({a, b, a, older});
  EXPECT_THAT(w, ::testing::StartsWith("warning: "));
  EXPECT_THAT(w, ::testing::HasSubstr("2 different copies of the data"));
  EXPECT_THAT(w, ::testing::HasSubstr("aaaaaaaaaaaaaaaa: 2 trials; bbbbbbbbbbbbbbbb: 1 trial"));
  EXPECT_EQ(w.find('\n'), std::string::npos);
}

// A study over two data sets has one fingerprint per kind: no warning, and
// reports name both with their shapes.
TEST(Provenance, EachDataSetKindHasItsOwnFingerprintAndReportsNameThem) {
  using nlohmann::json;
  const json cifar = {{kDataFingerprintKey, "aaaaaaaaaaaaaaaa"}};  // before kinds were recorded
  const json fashion = {{kDataFingerprintKey, "ffffffffffffffff"},
                        {kDataSetKey, "fashion_mnist"},
                        {kDataShapeKey, "1x28x28, 10 classes"}};
  json other = fashion;
  other[kDataFingerprintKey] = "eeeeeeeeeeeeeeee";
  EXPECT_EQ(mixed_data_warning({cifar, fashion, fashion}), "");
  EXPECT_THAT(mixed_data_warning({cifar, fashion, other}),
              ::testing::HasSubstr("2 different copies of the data (fashion_mnist)"));
  EXPECT_EQ(data_sets_line({fashion, fashion, json()}), "fashion_mnist (1x28x28, 10 classes)");
  EXPECT_EQ(data_sets_line({cifar, fashion, other}),
            "cifar10 (3x32x32, 10 classes): 1 trial; fashion_mnist (1x28x28, 10 classes): 2 trials");
  EXPECT_EQ(data_sets_line({json::object()}), "");
}

}  // namespace
}  // namespace lrtune
