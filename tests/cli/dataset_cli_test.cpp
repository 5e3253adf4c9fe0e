// The data set as a kind through the binary: `lrtune kinds` lists the
// dataset family, an unknown kind is refused in one line naming the known
// ones, `dataset = "cifar10"` written out is the default (the same trial ids),
// and a run names its data set and shape.
#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "report/assets.h"
#include "support/test_support.h"

namespace lrtune {
namespace {
using ::testing::HasSubstr;
namespace fs = std::filesystem;

std::string lrtune(const std::string& args) { return test::lrtune_binary() + " " + args; }

struct DatasetCli : ::testing::Test {
  test::TempDir tmp;
  fs::path data = tmp.path() / "cifar";
  void SetUp() override { test::write_tiny_cifar(data, 60, 100); }
};

TEST_F(DatasetCli, KindsListsTheDatasetFamily) {
  std::string text;
  ASSERT_EQ(test::run_command(lrtune("kinds"), &text), 0) << text;
  EXPECT_THAT(text, HasSubstr("dataset:\n  cifar10  CIFAR-10, binary version"));
  EXPECT_LT(text.find("dataset:"), text.find("model:"));
}

TEST_F(DatasetCli, AnUnknownKindIsRefusedNamingTheKnownOnes) {
  const fs::path out = tmp.path() / "run";
  std::string text;
  EXPECT_EQ(test::run_command(lrtune("train --dataset imagenet --data " + data.string() + " --out " +
                                     out.string()),
                              &text),
            1)
      << text;
  EXPECT_THAT(text, HasSubstr("dataset: unknown dataset 'imagenet'"));
  EXPECT_THAT(text, HasSubstr("cifar10"));
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(DatasetCli, TheDefaultWrittenOutKeepsTheIdsAndARunNamesItsData) {
  const fs::path file = tmp.path() / "s.toml";
  std::string plain, named;
  for (const bool with_key : {false, true}) {
    std::ofstream(file) << "name = \"s\"\n[base]\nepochs = 1\nval_size = 50\n"
                        << (with_key ? "dataset = \"cifar10\"\n" : "")
                        << "[[sweep]]\ngrid = { lr = [0.01, 0.02] }\n";
    ASSERT_EQ(test::run_command(lrtune("study run " + file.string() + " --dry-run"), with_key ? &named : &plain),
              0);
  }
  EXPECT_EQ(named, plain);

  std::string text;
  ASSERT_EQ(test::run_command(lrtune("train --data " + data.string() + " --val-size 50 --batch-size 25 "
                                     "--threads 1 --device cpu --epochs 1 --out " +
                                     (tmp.path() / "run").string()),
                              &text),
            0)
      << text;
  EXPECT_THAT(text, HasSubstr("cifar10: 300 training + 100 test images (3x32x32, 10 classes) from " +
                              data.string()));
  EXPECT_THAT(text, HasSubstr("dataset          cifar10"));
}

// One epoch of the real Fashion-MNIST (Debian's package, the kind's default
// folder: no --data) on a subset learns well above chance (0.1).
TEST_F(DatasetCli, OneEpochOfTheRealFashionMnistLearns) {
  const fs::path run = tmp.path() / "fm";
  std::string text;
  ASSERT_EQ(test::run_command(lrtune("train --dataset fashion_mnist --train-subset 3000 --val-size 1000 "
                                     "--epochs 1 --augment crop --lr 0.05 --momentum 0.9 --threads 1 "
                                     "--device cpu --out " + run.string()),
                              &text),
            0)
      << text;
  EXPECT_THAT(text, HasSubstr("fashion_mnist: 60000 training + 10000 test images (1x28x28, 10 classes) "
                              "from /usr/share/datasets/fashion-mnist"));
  std::ifstream csv(run / "metrics.csv");
  std::string header, row;
  std::getline(csv, header);
  std::getline(csv, row);
  ASSERT_EQ(header.rfind("epoch,lr,train_loss,train_acc,val_loss,val_acc,test_loss,test_acc", 0), 0u);
  std::stringstream cells(row);
  std::vector<double> v;
  for (std::string cell; std::getline(cells, cell, ',');) v.push_back(std::stod(cell));
  ASSERT_GE(v.size(), 8u);
  EXPECT_GT(v[5], 0.4) << row;  // val acc (0.55 here)
  EXPECT_GT(v[7], 0.4) << row;  // test acc
}

// A study that sweeps the data set trains each (cifar10 from $LRTUNE_DATA,
// fashion_mnist from Debian's package) as its own trial, without a warning
// about mixed copies, and its report names both with their shapes.
TEST_F(DatasetCli, AStudyOverTwoDataSetsRunsBothAndTheReportNamesThem) {
  const fs::path file = tmp.path() / "two.toml", out = tmp.path() / "two";
  std::ofstream(file) << "name = \"two\"\n[base]\nepochs = 1\ntrain_subset = 200\nval_size = 100\n"
                         "batch_size = 50\nlr = 0.05\n[[sweep]]\ngrid = { dataset = [\"cifar10\", \"fashion_mnist\"] }\n";
  std::string text;
  ASSERT_EQ(test::run_command("LRTUNE_DATA='" + data.string() + "' " +
                                  lrtune("study run " + file.string() + " --jobs 2 --threads-per-job 1 --out " +
                                         out.string()),
                              &text),
            0)
      << text;
  EXPECT_THAT(text, HasSubstr("dataset=cifar10"));
  EXPECT_THAT(text, HasSubstr("dataset=fashion_mnist"));
  EXPECT_THAT(text, HasSubstr("2/2 trials finished"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("different copies of the data")));
  const fs::path report = tmp.path() / "report";
  ASSERT_EQ(test::run_command(lrtune("report " + out.string() + " --no-figures --out " + report.string()), &text),
            0)
      << text;
  const std::string md = test::read_file(report / "report.md");
  // (Markdown escapes the underscore.)
  EXPECT_THAT(md, HasSubstr("Data: cifar10 (3x32x32, 10 classes): 1 trial; "
                            "fashion\\_mnist (1x28x28, 10 classes): 1 trial."));
  EXPECT_THAT(md, HasSubstr("| dataset=fashion\\_mnist | done |"));
  if (report::page_assets().uplot_js.empty()) return;  // built without node_modules: no page
  const std::string html = test::read_file(report / "index.html");
  EXPECT_THAT(html, HasSubstr(" · data: cifar10 (3x32x32, 10 classes): 1 trial; fashion_mnist (1x28x28, 10 classes): 1 trial</p>"));
}

TEST_F(DatasetCli, DataCheckCountsEachClassOfEachPartOfAnyKind) {
  std::string text;
  ASSERT_EQ(test::run_command(lrtune("data check --dataset fashion_mnist"), &text), 0) << text;
  EXPECT_THAT(text, HasSubstr("fashion_mnist in /usr/share/datasets/fashion-mnist: 60,000 training images, "
                              "10,000 test images, 1x28x28, 10 classes; fingerprint "));
  EXPECT_THAT(text, HasSubstr("Ankle boot   6000   1000\n"));
  EXPECT_THAT(text, HasSubstr("no warnings"));
  ASSERT_EQ(test::run_command(lrtune("data check --data " + data.string()), &text), 0) << text;
  EXPECT_THAT(text, HasSubstr("truck     30     10\n"));
  EXPECT_THAT(text, HasSubstr("warning: "));  // 60 images per file, not 10,000
  EXPECT_EQ(test::run_command(lrtune("data download --dataset image_folder"), &text), 1) << text;
  EXPECT_THAT(text, HasSubstr("--dataset image_folder: has nothing to download (the data sets with official "
                              "files are cifar10, cifar100, mnist, fashion_mnist)"));
  EXPECT_EQ(test::run_command(lrtune("data check --dataset cifar100 --label medium"), &text), 1) << text;
  EXPECT_THAT(text, HasSubstr("label: must be fine or coarse"));
}

}  // namespace
}  // namespace lrtune
