// The CIFAR-10 reader: layout, labels and every kind of bad file.
#include <cstdlib>
#include <fstream>
#include <functional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/errors.h"
#include "data/cifar10.h"
#include "support/test_support.h"

namespace lrtune {
namespace {
using ::testing::HasSubstr;
namespace fs = std::filesystem;

std::string data_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Cifar10Reader, ReadsLabelsAndPlanesInOrder) {
  test::TempDir dir;
  const auto file = dir.path() / "one.bin";
  std::vector<unsigned char> bytes(2 * kRecordBytes);
  bytes[0] = 3;
  bytes[1] = 11;                      // red (0, 0)
  bytes[1 + 1024 + 32 * 2 + 5] = 22;  // green (2, 5)
  bytes[1 + 2048 + 1023] = 33;        // blue (31, 31)
  bytes[kRecordBytes] = 9;
  std::ofstream(file, std::ios::binary).write(reinterpret_cast<char*>(bytes.data()), bytes.size());
  auto d = read_cifar10_file(file.string());
  ASSERT_EQ(d.size(), 2);
  EXPECT_EQ(d.labels[0].item<int64_t>(), 3);
  EXPECT_EQ(d.labels[1].item<int64_t>(), 9);
  EXPECT_EQ(d.images.sizes(), (std::vector<int64_t>{2, 3, 32, 32}));
  EXPECT_EQ(d.images[0][0][0][0].item<int>(), 11);
  EXPECT_EQ(d.images[0][1][2][5].item<int>(), 22);
  EXPECT_EQ(d.images[0][2][31][31].item<int>(), 33);
}

TEST(Cifar10Reader, MissingFileNamesIt) {
  EXPECT_THAT(data_error([] { read_cifar10_file("/no/such/data_batch_1.bin"); }),
              HasSubstr("/no/such/data_batch_1.bin: file not found"));
}

TEST(Cifar10Reader, TruncatedFileIsAnErrorNotShorterData) {
  test::TempDir dir;
  test::write_tiny_cifar(dir.path(), 20, 20);
  const auto file = dir.path() / "data_batch_3.bin";
  fs::resize_file(file, 20 * kRecordBytes - 100);
  EXPECT_THAT(data_error([&] { load_cifar10(dir.str()); }),
              HasSubstr("data_batch_3.bin: size " + std::to_string(20 * kRecordBytes - 100)));
}

TEST(Cifar10Reader, LabelAboveNineNamesFileAndRecord) {
  test::TempDir dir;
  test::write_tiny_cifar(dir.path(), 20, 20);
  const auto file = dir.path() / "test_batch.bin";
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(5 * kRecordBytes);
  f.put(static_cast<char>(12));
  f.close();
  EXPECT_THAT(data_error([&] { load_cifar10(dir.str()); }),
              HasSubstr("test_batch.bin: record 5 has label 12"));
}

TEST(Cifar10Reader, MissingFolderSaysWhatToDo) {
  EXPECT_THAT(data_error([] { load_cifar10("/no/such/folder"); }), HasSubstr("lrtune data download"));
}

TEST(Cifar10Reader, LoadsAllSixFiles) {
  test::TempDir dir;
  test::write_tiny_cifar(dir.path(), 30, 40);
  auto d = load_cifar10(dir.str());
  EXPECT_EQ(d.train.size(), 150);
  EXPECT_EQ(d.test.size(), 40);
  EXPECT_EQ(torch::bincount(d.train.labels).min().item<int64_t>(), 15);
}

TEST(Cifar10Reader, DataFolderPrecedence) {
  ::setenv("LRTUNE_DATA", "/from/env", 1);
  EXPECT_EQ(resolve_data_dir("/from/flag"), "/from/flag");
  EXPECT_EQ(resolve_data_dir(""), "/from/env");
  ::unsetenv("LRTUNE_DATA");
  EXPECT_EQ(resolve_data_dir(""), "data/cifar-10-batches-bin");
}

}  // namespace
}  // namespace lrtune
