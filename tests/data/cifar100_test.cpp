// The cifar100 kind reads generated files in the binary format (coarse label,
// fine label, 3,072 pixels per record), by fine or coarse label.
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/errors.h"
#include "data/cifar100.h"
#include "data/datasets.h"
#include "support/test_support.h"

namespace lrtune {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;

// Record i: coarse label i % 20, fine label i % 100, every pixel byte i % 251.
void write_records(const fs::path& file, int n, int first = 0) {
  std::ofstream out(file, std::ios::binary);
  for (int i = first; i < first + n; ++i) {
    out.put(static_cast<char>(i % 20)).put(static_cast<char>(i % 100));
    const std::string pixels(3 * 32 * 32, static_cast<char>(i % 251));
    out << pixels;
  }
}

void write_cifar100(const fs::path& dir, int train, int test) {
  fs::create_directories(dir);
  write_records(dir / "train.bin", train);
  write_records(dir / "test.bin", test, 1000);
  std::ofstream fine(dir / "fine_label_names.txt");
  for (int c = 0; c < 100; ++c) fine << "fine" << c << "\n";
  std::ofstream(dir / "coarse_label_names.txt") << "aquatic_mammals\nfish\n";  // 2 of 20
}

TEST(Cifar100, FineAndCoarseLabelsFromTheSameFiles) {
  test::TempDir dir;
  write_cifar100(dir.path(), 230, 40);
  TrainConfig cfg;
  cfg.dataset = "cifar100";
  const ImageDataset fine = load_dataset(cfg, dir.str());
  EXPECT_EQ(fine.kind, "cifar100");
  EXPECT_EQ(fine.shape(), (DataShape{3, 32, 32, 100}));
  EXPECT_EQ(fine.train.size(), 230);
  EXPECT_EQ(fine.test.size(), 40);
  EXPECT_EQ(fine.train.labels[123].item<std::int64_t>(), 23);
  EXPECT_EQ(fine.train.images[123][2][31][31].item<std::uint8_t>(), 123);
  EXPECT_EQ(fine.test.labels[5].item<std::int64_t>(), 5);  // record 1005
  EXPECT_EQ(fine.class_names[7], "fine7");
  EXPECT_TRUE(fine.warnings.empty());

  cfg.options["label"] = "coarse";
  const ImageDataset coarse = load_dataset(cfg, dir.str());
  EXPECT_EQ(coarse.shape().classes, 20);
  EXPECT_EQ(coarse.train.labels[123].item<std::int64_t>(), 3);
  EXPECT_TRUE(torch::equal(coarse.train.images, fine.train.images));
  EXPECT_EQ(coarse.fingerprint, fine.fingerprint);  // the same files
  // The coarse names file holds 2 of 20 names: numbered classes and a warning.
  EXPECT_EQ(coarse.class_names[19], "19");
  ASSERT_EQ(coarse.warnings.size(), 1u);
  EXPECT_THAT(coarse.warnings[0], HasSubstr("coarse_label_names.txt: holds 2 names, not 20"));
  EXPECT_NE(dataset_key(cfg), "cifar100|label=\"fine\"");
}

TEST(Cifar100, EachBadFileIsNamedInOneLine) {
  test::TempDir dir;
  write_cifar100(dir.path(), 10, 10);
  std::ofstream(dir.path() / "test.bin", std::ios::app) << "xyz";  // not whole records
  try {
    load_cifar100(dir.str(), "fine");
    FAIL() << "a file of the wrong record size was read";
  } catch (const DataError& e) {
    EXPECT_THAT(e.what(), HasSubstr("test.bin: size 30743 bytes is not a whole number of 3074-byte records"));
  }
  write_records(dir.path() / "test.bin", 3);
  std::fstream f(dir.path() / "train.bin", std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(3074 * 4 + 1).put(static_cast<char>(100));  // fine label 100 in record 4
  f.close();
  try {
    load_cifar100(dir.str(), "fine");
    FAIL() << "a label above the class count was read";
  } catch (const DataError& e) {
    EXPECT_THAT(e.what(), HasSubstr("train.bin: record 4 has fine label 100 (labels are 0..99)"));
  }
  EXPECT_EQ(load_cifar100(dir.str(), "coarse").train.size(), 10);  // its coarse label is fine
  EXPECT_THROW(load_cifar100((dir.path() / "none").string(), "fine"), DataError);
}

TEST(Cifar100, TheLabelKeyIsCheckedAndPartOfIdentity) {
  TrainConfig cfg;
  cfg.dataset = "cifar100";
  EXPECT_EQ(dataset_key(cfg), "cifar100|label=\"fine\"");
  cfg.options["label"] = "coarse";
  EXPECT_EQ(dataset_key(cfg), "cifar100|label=\"coarse\"");
  cfg.options["label"] = "medium";
  try {
    cfg.validate();
    FAIL() << "label = medium was accepted";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("label: must be fine or coarse"));
  }
}

}  // namespace
}  // namespace lrtune
