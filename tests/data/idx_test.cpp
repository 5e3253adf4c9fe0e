// The mnist and fashion_mnist kinds: IDX files gzipped or not, read into grey
// images with their labels; each bad file named in one line; and the real
// Fashion-MNIST of Debian's dataset-fashion-mnist (installed by
// scripts/setup.sh), read from the kind's default folder.
#include <zlib.h>

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/errors.h"
#include "data/datasets.h"
#include "data/idx.h"
#include "support/test_support.h"

namespace lrtune {
namespace {
using ::testing::HasSubstr;
namespace fs = std::filesystem;

std::vector<unsigned char> idx_bytes(const std::vector<std::int64_t>& dims, const std::vector<unsigned char>& data) {
  std::vector<unsigned char> out = {0, 0, 0x08, static_cast<unsigned char>(dims.size())};
  for (auto d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<unsigned char>(d >> shift));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

void write(const fs::path& file, const std::vector<unsigned char>& bytes, bool gz) {
  if (gz) {
    gzFile f = gzopen((file.string() + ".gz").c_str(), "wb");
    ASSERT_TRUE(f);
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
  } else {
    std::ofstream(file, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                static_cast<std::streamsize>(bytes.size()));
  }
}

// A folder of the four files: n_train and n_test images of 28x28, pixel
// (i, y, x) = (i + y * 28 + x) mod 256, labels i mod 10.
struct IdxFolder {
  test::TempDir dir;
  void write_part(const std::string& part, std::int64_t n, bool gz) {
    std::vector<unsigned char> pixels, labels;
    for (std::int64_t i = 0; i < n; ++i) {
      labels.push_back(static_cast<unsigned char>(i % 10));
      for (int k = 0; k < 28 * 28; ++k) pixels.push_back(static_cast<unsigned char>((i + k) % 256));
    }
    write(dir.path() / (part + "-images-idx3-ubyte"), idx_bytes({n, 28, 28}, pixels), gz);
    write(dir.path() / (part + "-labels-idx1-ubyte"), idx_bytes({n}, labels), gz);
  }
  IdxFolder(std::int64_t n_train, std::int64_t n_test, bool gz) {
    write_part("train", n_train, gz);
    write_part("t10k", n_test, gz);
  }
};

ImageDataset load(const std::string& kind, const fs::path& folder) {
  TrainConfig cfg;
  cfg.dataset = kind;
  return load_dataset(cfg, folder.string());
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  return "(no DataError)";
}

TEST(Idx, GzippedOrNotTheSameImagesLabelsAndFingerprint) {
  IdxFolder plain(30, 12, false), gz(30, 12, true);
  const ImageDataset a = load("mnist", plain.dir.path()), b = load("mnist", gz.dir.path());
  EXPECT_EQ(a.kind, "mnist");
  EXPECT_EQ(a.shape(), (DataShape{1, 28, 28, 10}));
  EXPECT_EQ(a.train.size(), 30);
  EXPECT_EQ(a.test.size(), 12);
  EXPECT_EQ(a.train.images[7][0][1][2].item<int>(), (7 + 28 + 2) % 256);
  EXPECT_EQ(a.train.labels[13].item<std::int64_t>(), 3);
  EXPECT_TRUE(torch::equal(a.train.images, b.train.images));
  EXPECT_TRUE(torch::equal(a.test.labels, b.test.labels));
  EXPECT_EQ(a.fingerprint, b.fingerprint);
  EXPECT_EQ(a.fingerprint.size(), 16u);
  EXPECT_EQ(load("fashion_mnist", plain.dir.path()).class_names.at(9), "Ankle boot");
}

TEST(Idx, EachBadFileIsNamedInOneLine) {
  {
    IdxFolder f(20, 10, false);
    auto bytes = idx_bytes({20, 28, 28}, std::vector<unsigned char>(20 * 28 * 28 - 5, 1));
    write(f.dir.path() / "train-images-idx3-ubyte", bytes, false);
    EXPECT_THAT(error_of([&] { load("mnist", f.dir.path()); }),
                HasSubstr("train-images-idx3-ubyte: its header promises 20 x 28 x 28 = 15,680 bytes of "
                          "data, the file holds 15,675 (cut short?)"));
  }
  {
    IdxFolder f(20, 10, true);
    auto bytes = idx_bytes({20}, std::vector<unsigned char>(20, 1));
    bytes[2] = 0x0D;  // floats
    write(f.dir.path() / "t10k-labels-idx1-ubyte", bytes, true);
    fs::remove(f.dir.path() / "t10k-labels-idx1-ubyte");
    EXPECT_THAT(error_of([&] { load("mnist", f.dir.path()); }),
                HasSubstr("t10k-labels-idx1-ubyte.gz: not an IDX file of unsigned bytes with 1 "
                          "dimension(s) (magic number 0x00000d01, expected 0x00000801)"));
  }
  {
    IdxFolder f(20, 10, false);
    write(f.dir.path() / "train-labels-idx1-ubyte", idx_bytes({19}, std::vector<unsigned char>(19, 1)), false);
    EXPECT_THAT(error_of([&] { load("mnist", f.dir.path()); }),
                HasSubstr("train-images-idx3-ubyte holds 20 images, but"));
  }
  {
    IdxFolder f(20, 10, false);
    std::vector<unsigned char> labels(20, 1);
    labels[6] = 10;
    write(f.dir.path() / "train-labels-idx1-ubyte", idx_bytes({20}, labels), false);
    EXPECT_THAT(error_of([&] { load("mnist", f.dir.path()); }),
                HasSubstr("train-labels-idx1-ubyte: label 10 of image 6 is not below the 10 classes"));
  }
  {
    IdxFolder f(20, 10, false);
    fs::remove(f.dir.path() / "t10k-images-idx3-ubyte");
    EXPECT_THAT(error_of([&] { load("mnist", f.dir.path()); }),
                HasSubstr("t10k-images-idx3-ubyte (or t10k-images-idx3-ubyte.gz): not found"));
  }
  EXPECT_THAT(error_of([] { load("mnist", "no/such/folder"); }), HasSubstr("no/such/folder: no such folder"));
}

// Debian's dataset-fashion-mnist, which scripts/setup.sh installs: the
// fashion_mnist kind reads it with no --data at all.
TEST(Idx, TheRealFashionMnistIsTheKindsDefault) {
  TrainConfig cfg;
  cfg.dataset = "fashion_mnist";
  const std::string folder = data_folder(cfg);
  EXPECT_EQ(folder, "/usr/share/datasets/fashion-mnist");
  const ImageDataset d = load_dataset(cfg, folder);
  EXPECT_EQ(d.shape(), (DataShape{1, 28, 28, 10}));
  EXPECT_EQ(d.train.size(), 60000);
  EXPECT_EQ(d.test.size(), 10000);
  const auto counts = torch::bincount(d.test.labels, {}, 10);
  for (int c = 0; c < 10; ++c) EXPECT_EQ(counts[c].item<std::int64_t>(), 1000) << "class " << c;
}

}  // namespace
}  // namespace lrtune
