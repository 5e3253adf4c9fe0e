// Replays fuzz/regressions/<target>/* through the fuzz targets (fuzz/targets.h):
// every input the fuzzers found, and their seeds. A broken property aborts the
// test program, which ctest reports as this test failing.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "../fuzz/targets.h"

namespace lrtune::fuzz {
namespace {
namespace fs = std::filesystem;

std::vector<fs::path> regression_files(const std::string& target) {
  std::vector<fs::path> files;
  const fs::path dir = fs::path(LRTUNE_FUZZ_REGRESSIONS) / target;
  if (fs::is_directory(dir))
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.is_regular_file()) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

class FuzzRegression : public ::testing::TestWithParam<NamedTarget> {};

TEST_P(FuzzRegression, EveryKeptInputPassesItsChecks) {
  const NamedTarget target = GetParam();
  const auto files = regression_files(target.name);
  ASSERT_FALSE(files.empty()) << "no inputs in fuzz/regressions/" << target.name;
  for (const auto& file : files) {
    SCOPED_TRACE(file.string());
    std::ifstream in(file, std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    std::fprintf(stderr, "fuzz regression %s: %s\n", target.name, file.filename().c_str());
    EXPECT_EQ(target.run(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzRegression, ::testing::ValuesIn(fuzz_targets()),
                         [](const auto& info) { return std::string(info.param.name); });

// The checks can fail: a target given bytes its property rejects aborts.
TEST(FuzzRegressionDeath, ABrokenPropertyAborts) {
  ::testing::FLAGS_gtest_death_test_style = "threadsafe";
  EXPECT_DEATH(fail("a deliberately broken property", __FILE__, __LINE__), "fuzz check failed");
}

}  // namespace
}  // namespace lrtune::fuzz
