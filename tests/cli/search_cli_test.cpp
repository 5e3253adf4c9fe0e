// A search study through the `lrtune` binary on tiny generated data: two
// workers draw the budget's trials, pruned ones keep their epochs in status
// and export, a raised budget extends the search, and another space in the
// same folder is refused with nothing started.
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/store.h"
#include "support/test_support.h"

namespace lrtune {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;

class SearchCli : public ::testing::Test {
 protected:
  test::TempDir tmp;
  fs::path data = tmp.path() / "data";
  fs::path file = tmp.path() / "s.toml";
  fs::path out = tmp.path() / "out";

  void SetUp() override { test::write_tiny_cifar(data, /*per_file=*/100, /*n_test=*/100); }

  void write(int trials, const std::string& lr_range) {
    std::ofstream(file) << "name = \"s\"\n[base]\nepochs = 3\nbatch_size = 50\nval_size = 100\n"
                           "eval_batch_size = 100\ndevice = \"cpu\"\n"
                           "[search]\nsampler = \"tpe\"\npruner = \"asha\"\nstartup_trials = 3\n"
                           "trials = " << trials << "\nseed = 5\n[search.space]\n"
                           "lr = { log_uniform = " << lr_range << " }\n"
                           "momentum = { uniform = [0.0, 0.9] }\n"
                           "nesterov = { choice = [false, true], when = \"momentum > 0.5\" }\n";
  }
  int lrtune(const std::string& args, std::string* output) {
    return test::run_command("'" + test::lrtune_binary() + "' " + args + " 2>&1", output);
  }
  int run(std::string* output) {
    return lrtune("study run '" + file.string() + "' --jobs 2 --threads-per-job 1 --data '" +
                      data.string() + "' --out '" + out.string() + "'",
                  output);
  }
  // trial id -> (status, epochs exported), from `study export --format csv`.
  std::map<std::string, std::pair<std::string, int>> exported() {
    std::string csv;
    EXPECT_EQ(lrtune("study export '" + out.string() + "' --format csv", &csv), 0) << csv;
    std::istringstream in(csv);
    std::string line, header;
    std::getline(in, header);
    EXPECT_THAT(header, HasSubstr("trial_id,label,config_lr,momentum,nesterov,status,epoch"));
    std::map<std::string, std::pair<std::string, int>> rows;
    while (std::getline(in, line)) {
      std::vector<std::string> cells;
      std::stringstream ss(line);
      for (std::string c; std::getline(ss, c, ',');) cells.push_back(c);
      auto& r = rows[cells.at(0)];
      r.first = cells.at(5);
      ++r.second;
    }
    return rows;
  }
};

TEST_F(SearchCli, WorkersDrawTheBudgetAndARaisedBudgetExtendsIt) {
  write(6, "[1e-3, 0.5]");
  std::string output;
  ASSERT_EQ(run(&output), 0) << output;
  EXPECT_THAT(output, HasSubstr("search: tpe sampler, asha pruner; 6 trials (0 so far)"));
  EXPECT_THAT(output, HasSubstr("6/6 trials drawn; best val_acc"));
  const auto first = exported();
  ASSERT_EQ(first.size(), 6u);
  for (const auto& [id, r] : first) {
    if (r.first == "pruned") EXPECT_LT(r.second, 3) << id;
    else EXPECT_EQ(r, std::make_pair(std::string("done"), 3)) << id;
  }
  std::string status;
  ASSERT_EQ(lrtune("study status '" + out.string() + "'", &status), 0);
  EXPECT_THAT(status, HasSubstr("#6 lr="));

  write(8, "[1e-3, 0.5]");
  ASSERT_EQ(run(&output), 0) << output;
  EXPECT_THAT(output, HasSubstr("8 trials (6 so far)"));
  const auto second = exported();
  ASSERT_EQ(second.size(), 8u);
  for (const auto& [id, r] : first) EXPECT_EQ(second.at(id), r) << id;  // kept as they were
}

TEST_F(SearchCli, AnotherSpaceInTheSameFolderIsRefusedWithNothingStarted) {
  write(4, "[1e-3, 0.5]");
  std::string output;
  ASSERT_EQ(run(&output), 0) << output;
  write(4, "[1e-2, 0.5]");
  EXPECT_EQ(run(&output), 1);
  EXPECT_THAT(output, HasSubstr("lrtune: error: "));
  EXPECT_THAT(output, HasSubstr("its [search] table (sampler, objective, seed or space) changed"));
  EXPECT_EQ(exported().size(), 4u);
}

TEST_F(SearchCli, ASweptKeyAlsoSearchedIsRefusedInOneLine) {
  write(4, "[1e-3, 0.5]");
  std::ofstream(file, std::ios::app) << "[[sweep]]\ngrid = { lr = [0.1] }\n";
  std::string output;
  EXPECT_EQ(run(&output), 1);
  EXPECT_THAT(output, HasSubstr("sweep[1].lr: is also searched in [search.space]"));
  EXPECT_FALSE(fs::exists(out / "results.sqlite"));
}

// A search registered (or stopped) with most of its budget undrawn is not
// finished: `study status` counts the budget, as `study run` does.
TEST_F(SearchCli, StatusOfASearchWithItsBudgetUndrawnSaysSo) {
  write(1000000000, "[1e-3, 0.5]");
  std::string output;
  ASSERT_EQ(lrtune("study create '" + file.string() + "' --out '" + out.string() + "'", &output), 0)
      << output;
  ASSERT_EQ(lrtune("study status '" + out.string() + "'", &output), 0) << output;
  EXPECT_THAT(output, HasSubstr("0/1000000000 trials finished"));
  EXPECT_THAT(output, HasSubstr("1000000000 not drawn yet"));
}

}  // namespace
}  // namespace lrtune
