// A CIFAR-10 run gives the metrics it gave before the data set became a type
// whose shape flows into the split, the batches and the network: the same
// split, augmentation, initial weights and training. The golden rows were
// written by lrtune 0.2.0 before that change, on the same tiny files (made by
// tests/tools/tiny_cifar.py, the same bytes on every machine); what may differ
// between CPUs is float rounding, far below the tolerance.
#include <cmath>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace lrtune {
namespace {
namespace fs = std::filesystem;

std::vector<std::vector<double>> read_rows(const fs::path& file, std::size_t columns) {
  std::ifstream in(file);
  std::vector<std::vector<double>> rows;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::vector<double> row;
    for (std::string cell; row.size() < columns && std::getline(ss, cell, ',');)
      row.push_back(std::stod(cell));
    rows.push_back(row);
  }
  return rows;
}

TEST(Cifar10Unchanged, ATinyRunGivesTheMetricsOfBefore) {
  test::TempDir tmp;
  const fs::path data = tmp.path() / "data", run = tmp.path() / "run";
  std::string out;
  ASSERT_EQ(test::run_command("/usr/bin/python3 '" LRTUNE_SOURCE_DIR "/tests/tools/tiny_cifar.py' '" +
                                  data.string() + "'",
                              &out),
            0)
      << out;
  ASSERT_EQ(test::run_command(test::lrtune_binary() + " train --data '" + data.string() +
                                  "' --val-size 20 --batch-size 16 --eval-batch-size 50 --epochs 3 "
                                  "--threads 1 --device cpu --seed 3 --momentum 0.9 --lr 0.05 --out '" +
                                  run.string() + "'",
                              &out),
            0)
      << out;
  // epoch, lr, train loss and acc, val loss and acc, test loss and acc
  const auto want = read_rows(LRTUNE_SOURCE_DIR "/tests/train/golden/cifar10-tiny-metrics.csv", 8);
  const auto got = read_rows(run / "metrics.csv", 8);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t r = 0; r < want.size(); ++r)
    for (std::size_t c = 0; c < 8; ++c) {
      const bool loss = c == 2 || c == 4 || c == 6;
      const double tolerance = loss ? 1e-4 * std::abs(want[r][c]) : 1e-9;
      EXPECT_NEAR(got[r][c], want[r][c], tolerance) << "epoch " << r + 1 << ", column " << c;
    }
}

}  // namespace
}  // namespace lrtune
