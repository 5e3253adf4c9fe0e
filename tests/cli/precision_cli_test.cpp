// `--precision bf16` where a trial would train on the CPU: refused in one line
// (exit 2, as for any bad flag) before anything runs, instead of silently
// training in fp32.
#include <algorithm>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/test_support.h"

namespace lrtune {
namespace {
using ::testing::HasSubstr;
namespace fs = std::filesystem;

std::string lrtune(const std::string& args) { return test::lrtune_binary() + " " + args; }

struct PrecisionFlag : ::testing::Test {
  test::TempDir tmp;
  fs::path data = tmp.path() / "cifar", out = tmp.path() / "out";
  void SetUp() override { test::write_tiny_cifar(data, 60, 100); }

  // A one-trial study; `device` = "" leaves the key out (the default, auto).
  fs::path study_file(const std::string& device) {
    const fs::path file = tmp.path() / "tiny.toml";
    std::ofstream f(file);
    f << "name = \"tiny\"\n[base]\nepochs = 1\nbatch_size = 25\nval_size = 50\n";
    if (!device.empty()) f << "device = \"" << device << "\"\n";
    f << "[[sweep]]\ngrid = { lr = [0.02] }\n";
    return file;
  }

  // The refusal: exit 2, one line naming the flag and the reason, nothing made.
  void expect_refused(const std::string& args, const std::string& what) {
    std::string text;
    EXPECT_EQ(test::run_command(lrtune(args), &text), 2) << text;
    EXPECT_THAT(text, HasSubstr("lrtune: error: --precision bf16: " + what)) << args;
    EXPECT_THAT(text, HasSubstr("bf16 autocast is implemented for CUDA packs only")) << args;
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
    EXPECT_FALSE(fs::exists(out)) << "something ran: " << args;
  }
};

TEST_F(PrecisionFlag, StudyRunRefusesBf16OnTheCpu) {
  const std::string common = " --data " + data.string() + " --out " + out.string();
  expect_refused("study run " + study_file("").string() + " --precision bf16 --device cpu" + common,
                 "the trials would train on the CPU (--device cpu)");
  // The study file's own device counts when --device is not given.
  expect_refused("study run " + study_file("cpu").string() + " --precision bf16" + common,
                 "trial 'lr=0.02' would train on the CPU (its device: cpu)");
  expect_refused("study run " + study_file("cpu").string() + " --precision bf16 --dry-run" + common,
                 "trial 'lr=0.02'");
  // fp32 on the CPU is what a CPU runs: accepted.
  std::string text;
  EXPECT_EQ(test::run_command(lrtune("study run " + study_file("cpu").string() + " --dry-run"), &text),
            0)
      << text;
}

// The hidden worker command refuses as well (it is what trains the trials).
TEST_F(PrecisionFlag, StudyWorkerRefusesBf16OnTheCpu) {
  expect_refused("study worker --dir " + out.string() + " --precision bf16 --device cpu",
                 "the trials would train on the CPU (--device cpu)");
}

// A flag CLI11 itself rejects exits with the same status.
TEST_F(PrecisionFlag, OtherBadFlagsExitWithTwoToo) {
  std::string text;
  EXPECT_EQ(test::run_command(lrtune("study run " + study_file("").string() + " --precision fp16"), &text),
            2)
      << text;
  EXPECT_THAT(text, HasSubstr("--precision"));
}

}  // namespace
}  // namespace lrtune
