// The trainer on data sets of other shapes than CIFAR-10's: grey 28x28 digits
// of 10 classes, 3x32x32 images of 100 classes and 3x24x24 images of 5. The
// split, the normalisation, the batches and the network take the shape from
// the data, and the network learns each (generated images: each class lights
// its own block of pixels in a noisy background). The 3x24x24 images travel
// through an image folder of PNG files first, as a user's would. Packs train
// other shapes too, each copy as run_training trains it alone.
#include <png.h>

#include <cstring>
#include <filesystem>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "data/dataset.h"
#include "data/image_folder.h"
#include "support/test_support.h"
#include "support/train_support.h"
#include "train/pack_trainer.h"
#include "train/trainer.h"

namespace lrtune {
namespace {

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
  ImageDataset data = test::generated_blocks(k.shape, k.per_class);
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

// Grey 28x28 digits in a pack: a pack of one follows run_training for both
// crop (the digits' default) and no augmentation, and a pack of two learns
// (without augmentation: these generated classes are told apart by where
// their block lies, which a crop moves).
TEST(ShapesPack, PacksTrainGreyDigitsAsRunTrainingDoes) {
  test::TempDir dir;
  const ImageDataset data = test::generated_blocks({1, 28, 28, 10}, 40);
  TrainConfig crop = test::tiny_train_config();
  crop.dataset = "mnist";  // augment "auto": crop for digits
  crop.val_size = 55;
  crop.lr = 0.03;
  ASSERT_EQ(crop.augmentation(), "crop");
  TrainConfig none = crop;
  none.augment = "none";
  none.seed = 12;
  apply_threads(1);
  PackHooks hooks;
  std::vector<std::vector<EpochMetrics>> rows(2);
  hooks.on_epoch = [&](std::size_t k, const EpochMetrics& m) { rows[k].push_back(m); };
  for (const TrainConfig* cfg : {&crop, &none}) {
    TrainConfig one = *cfg;
    one.epochs = 1;
    const auto alone = test::train_epochs(one, data, (dir.path() / "alone.pt").string());
    rows[0].clear();
    run_pack({one}, data, {(dir.path() / "pack1.pt").string()}, hooks);
    std::filesystem::remove(dir.path() / "alone.pt");
    std::filesystem::remove(dir.path() / "pack1.pt");
    // Same init, split, order, crops and dropout: only the kernels' rounding differs.
    ASSERT_EQ(rows[0].size(), 1u);
    EXPECT_NEAR(rows[0][0].train_loss, alone[0].train_loss, 1e-3) << cfg->augmentation();
    EXPECT_NEAR(rows[0][0].val_loss, alone[0].val_loss, 1e-3) << cfg->augmentation();
  }
  rows.assign(2, {});
  TrainConfig other = none;
  other.seed = 13;
  other.lr = 0.05;
  none.epochs = other.epochs = 8;
  const auto out = run_pack({none, other}, data,
                            {(dir.path() / "a.pt").string(), (dir.path() / "b.pt").string()}, hooks);
  for (std::size_t k = 0; k < 2; ++k) {
    ASSERT_EQ(out[k].status, RunStatus::done);
    ASSERT_EQ(rows[k].size(), 8u);
    EXPECT_GT(rows[k].back().val_acc, 0.9) << k;
    EXPECT_LT(rows[k].back().train_loss, 0.5 * rows[k].front().train_loss) << k;
  }
}

}  // namespace
}  // namespace lrtune
