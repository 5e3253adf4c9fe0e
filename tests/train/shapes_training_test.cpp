// The trainer on data sets of other shapes than CIFAR-10's: grey 28x28 digits
// of 10 classes, 3x32x32 images of 100 classes and 3x24x24 images of 5. The
// split, the normalisation, the batches and the network take the shape from
// the data, and the network learns each (generated images: each class lights
// its own block of pixels in a noisy background). The 3x24x24 images travel
// through an image folder of PNG files first, as a user's would.
#include <png.h>

#include <cstring>
#include <filesystem>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "data/dataset.h"
#include "data/image_folder.h"
#include "support/test_support.h"
#include "support/train_support.h"
#include "train/trainer.h"

namespace lrtune {
namespace {

// `per_class` images of each class for training, a quarter as many for test.
// Class c lights a 3x3 block at its own place of a grid over the image (and
// its own channel mix), over noise of up to a quarter of full brightness.
LabelledImages blocks(const DataShape& s, std::int64_t per_class, std::uint64_t seed) {
  const std::int64_t n = per_class * s.classes, grid = (s.height - 2) / 3;
  torch::manual_seed(seed);
  auto images = torch::randint(0, 64, {n, s.channels, s.height, s.width}, torch::kInt64).to(torch::kUInt8);
  auto labels = torch::arange(n, torch::kInt64).remainder(s.classes);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t c = i % s.classes, y = 1 + 3 * (c % grid), x = 1 + 3 * ((c / grid) % grid);
    for (std::int64_t ch = 0; ch < s.channels; ++ch)
      images[i][ch].narrow(0, y, 3).narrow(1, x, 3).fill_(ch == c % s.channels || s.channels == 1 ? 255 : 160);
  }
  return {images, labels};
}

ImageDataset generated(const DataShape& s, std::int64_t per_class) {
  ImageDataset d;
  d.kind = "generated";
  d.train = blocks(s, per_class, 1);
  d.test = blocks(s, per_class / 4, 2);
  for (std::int64_t c = 0; c < s.classes; ++c) d.class_names.push_back("class" + std::to_string(c));
  d.fingerprint = "0000000000000000";
  return d;
}

// Writes each image of `part` as ROOT/PART/classC/I.png (libpng) .
void write_pngs(const LabelledImages& part, const std::filesystem::path& dir) {
  for (std::int64_t i = 0; i < part.size(); ++i) {
    const auto folder = dir / ("class" + std::to_string(part.labels[i].item<std::int64_t>()));
    std::filesystem::create_directories(folder);
    const torch::Tensor hwc = part.images[i].permute({1, 2, 0}).contiguous();
    png_image img;
    std::memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = static_cast<png_uint_32>(hwc.size(1));
    img.height = static_cast<png_uint_32>(hwc.size(0));
    img.format = hwc.size(2) == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    char name[16];
    std::snprintf(name, sizeof name, "%05lld.png", static_cast<long long>(i));
    ASSERT_TRUE(png_image_write_to_file(&img, (folder / name).c_str(), 0, hwc.data_ptr<std::uint8_t>(), 0, nullptr))
        << img.message;
  }
}

// `d` written out as an image folder of PNG files and read back.
ImageDataset through_image_folder(const ImageDataset& d, const test::TempDir& dir) {
  write_pngs(d.train, dir.path() / "images" / "train");
  write_pngs(d.test, dir.path() / "images" / "test");
  ImageFolderOptions o;
  o.image_size = d.shape().height;
  o.cache_dir = (dir.path() / "cache").string();
  return load_image_folder((dir.path() / "images").string(), o);
}

struct Case {
  DataShape shape;
  std::int64_t per_class, val_size, epochs;
  double at_least;  // validation and test accuracy after training (chance: 1 / classes)
};

class ShapesTraining : public ::testing::TestWithParam<Case> {};

TEST_P(ShapesTraining, LearnsEveryShape) {
  const Case k = GetParam();
  test::TempDir dir;
  ImageDataset data = generated(k.shape, k.per_class);
  if (k.shape.height == 24) {
    const ImageDataset read = through_image_folder(data, dir);
    // Classes in folder-name order: class0..class4, as generated.
    ASSERT_TRUE(torch::equal(std::get<0>(read.train.labels.sort()), std::get<0>(data.train.labels.sort())));
    ASSERT_EQ(read.test.size(), data.test.size());
    // PNG is lossless and the size unchanged: the same pixels, in another order.
    ASSERT_EQ(read.train.images.sum().item<std::int64_t>(), data.train.images.sum().item<std::int64_t>());
    data = read;
  }
  ASSERT_EQ(data.shape(), k.shape);
  TrainConfig cfg = test::tiny_train_config();
  cfg.augment = "none";
  cfg.val_size = k.val_size;
  cfg.epochs = k.epochs;
  cfg.lr = 0.03;
  RunOutcome out;
  const auto rows = test::train_epochs(cfg, data, (dir.path() / "ck.pt").string(), nullptr, &out);
  ASSERT_EQ(out.status, RunStatus::done) << k.shape.text();
  EXPECT_GT(rows.back().val_acc, k.at_least) << k.shape.text();
  EXPECT_GT(rows.back().test_acc, k.at_least) << k.shape.text();
  EXPECT_LT(rows.back().train_loss, 0.5 * rows.front().train_loss) << k.shape.text();
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, ShapesTraining,
    ::testing::Values(Case{{1, 28, 28, 10}, 40, 55, 8, 0.9},    // grey digits; val 55: not a multiple of 10
                      Case{{3, 32, 32, 100}, 24, 300, 6, 0.5},  // CIFAR-100's shape
                      Case{{3, 24, 24, 5}, 120, 40, 8, 0.9}),   // an image folder of PNGs, 24x24
    [](const ::testing::TestParamInfo<Case>& info) {
      const DataShape& s = info.param.shape;
      return std::to_string(s.channels) + "x" + std::to_string(s.height) + "x" + std::to_string(s.width) +
             "_" + std::to_string(s.classes) + "classes";
    });

}  // namespace
}  // namespace lrtune
