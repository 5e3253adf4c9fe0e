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

// FNV-1a over little-endian 8-byte words, the tail zero-padded; the values
// come from an independent implementation (Python int.from_bytes).
TEST(Cifar10Fingerprint, HashesEightByteWords) {
  const auto hash = [](const std::string& s) {
    return fnv1a_words(14695981039346656037ULL, reinterpret_cast<const unsigned char*>(s.data()),
                       s.size());
  };
  EXPECT_EQ(hash(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(hash("abcdefgh"), 0x3919eeb00ee1e68cULL);
  EXPECT_EQ(hash("abcdefghij"), 0xe89d7a294942691fULL);
}

// The same files under another folder are the same data (a trial run on
// another machine stays comparable); one changed pixel is another copy.
TEST(Cifar10Fingerprint, FollowsTheBytesNotThePath) {
  test::TempDir a, b;
  test::write_tiny_cifar(a.path(), 30, 40);
  test::write_tiny_cifar(b.path() / "elsewhere", 30, 40);
  const std::string print = load_cifar10(a.str()).fingerprint;
  EXPECT_EQ(print.size(), 16u);
  EXPECT_EQ(print.find_first_not_of("0123456789abcdef"), std::string::npos) << print;
  EXPECT_EQ(load_cifar10((b.path() / "elsewhere").string()).fingerprint, print);

  std::fstream f(a.path() / "data_batch_4.bin", std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(7 * kRecordBytes + 500);
  f.put(static_cast<char>(201));
  f.close();
  EXPECT_NE(load_cifar10(a.str()).fingerprint, print);

  // Two files swapped: the same images in another order, so other splits and
  // batches and other results: another copy.
  test::TempDir c;
  test::write_tiny_cifar(c.path(), 30, 40);
  fs::rename(c.path() / "data_batch_1.bin", c.path() / "tmp.bin");
  fs::rename(c.path() / "data_batch_2.bin", c.path() / "data_batch_1.bin");
  fs::rename(c.path() / "tmp.bin", c.path() / "data_batch_2.bin");
  EXPECT_NE(load_cifar10(c.str()).fingerprint, print);
}

}  // namespace
}  // namespace lrtune
