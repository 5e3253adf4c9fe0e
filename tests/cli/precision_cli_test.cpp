// `precision` through the binary: a configuration key of `train` and of study
// files (and `study run --precision`), part of each trial's identity; bf16 on
// this CPU trains where it has AVX512-BF16 or AMX and is refused in one line,
// before anything is made, where it has neither.
#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/autocast.h"
#include "support/test_support.h"

namespace lrtune {
namespace {
using ::testing::HasSubstr;
namespace fs = std::filesystem;

std::string lrtune(const std::string& args) { return test::lrtune_binary() + " " + args; }

struct Precision : ::testing::Test {
  test::TempDir tmp;
  fs::path data = tmp.path() / "cifar", out = tmp.path() / "out";
  void SetUp() override { test::write_tiny_cifar(data, 60, 100); }

  // A one-trial study; `precision` = "" leaves the key out (the default, fp32).
  fs::path study_file(const std::string& precision) {
    const fs::path file = tmp.path() / "tiny.toml";
    std::ofstream f(file);
    f << "name = \"tiny\"\n[base]\nepochs = 1\nbatch_size = 25\nval_size = 50\ndevice = \"cpu\"\n";
    if (!precision.empty()) f << "precision = \"" << precision << "\"\n";
    f << "[[sweep]]\ngrid = { lr = [0.02] }\n";
    return file;
  }
  // The trial ids `study run --dry-run` lists.
  std::set<std::string> dry_run_ids(const std::string& args) {
    std::string text;
    EXPECT_EQ(test::run_command(lrtune("study run " + args + " --dry-run"), &text), 0) << text;
    std::set<std::string> ids;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
      if (line.size() > 17 && line[16] == ' ') ids.insert(line.substr(0, 16));
    return ids;
  }
};

TEST_F(Precision, TrainInBf16WhereThisCpuHasItAndRefusedWhereNot) {
  const fs::path run = tmp.path() / "run";
  std::string text;
  const int status = test::run_command(
      lrtune("train --data " + data.string() + " --val-size 50 --batch-size 25 --threads 1 "
             "--device cpu --epochs 1 --precision bf16 --out " + run.string()),
      &text);
  if (!this_cpu_bf16_support().native()) {
    EXPECT_EQ(status, 1) << text;
    EXPECT_THAT(text, HasSubstr("lrtune: error: precision bf16: this CPU has neither AVX512-BF16 nor AMX"));
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
    EXPECT_FALSE(fs::exists(run));
    return;
  }
  ASSERT_EQ(status, 0) << text;
  EXPECT_THAT(text, HasSubstr("precision        bf16"));
  const auto config = nlohmann::json::parse(test::read_file(run / "config.json"));
  EXPECT_EQ(config.at("config").at("precision"), "bf16");
  EXPECT_EQ(nlohmann::json::parse(config.at("id").get<std::string>()).at("precision"), "bf16");
}

TEST_F(Precision, IsPartOfATrialsIdentityAndFp32KeepsTheIds) {
  const std::string common = " --data " + data.string() + " --out " + out.string();
  const auto plain = dry_run_ids(study_file("").string() + common);
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_EQ(dry_run_ids(study_file("fp32").string() + common), plain);
  EXPECT_EQ(dry_run_ids(study_file("").string() + " --precision fp32" + common), plain);
  const auto bf16 = dry_run_ids(study_file("bf16").string() + common);
  ASSERT_EQ(bf16.size(), 1u);
  EXPECT_NE(bf16, plain);
  EXPECT_EQ(dry_run_ids(study_file("").string() + " --precision bf16" + common), bf16);
}

TEST_F(Precision, UnknownValuesAreRefused) {
  std::string text;
  EXPECT_EQ(test::run_command(lrtune("study run " + study_file("").string() + " --precision fp16"), &text),
            2)
      << text;
  EXPECT_THAT(text, HasSubstr("--precision"));
  EXPECT_EQ(test::run_command(lrtune("study run " + study_file("fp16").string() + " --dry-run"), &text), 1)
      << text;
  EXPECT_THAT(text, HasSubstr("precision"));
  EXPECT_THAT(text, HasSubstr("unknown precision 'fp16' (fp32, bf16)"));
  EXPECT_EQ(test::run_command(lrtune("train --precision fp16 --out " + out.string()), &text), 1) << text;
  EXPECT_THAT(text, HasSubstr("unknown precision 'fp16'"));
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace lrtune
