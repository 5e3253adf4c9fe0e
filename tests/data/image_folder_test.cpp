// The image_folder kind reads PNG and JPEG files written by PIL, of any size
// and channel count, into one shape; caches what it decoded; and names the
// folder or file of each kind of bad input.
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/errors.h"
#include "data/datasets.h"
#include "data/image_folder.h"
#include "support/test_support.h"

namespace lrtune {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;

void make(const fs::path& root, const std::string& layout) {
  std::string out;
  ASSERT_EQ(test::run_command("/usr/bin/python3 '" LRTUNE_SOURCE_DIR "/tests/tools/make_image_folder.py' '" +
                                  root.string() + "' " + layout,
                              &out),
            0)
      << out;
}

std::string load_error(const fs::path& root, const ImageFolderOptions& o) {
  try {
    load_image_folder(root.string(), o);
  } catch (const DataError& e) {
    return e.what();
  }
  return "(read without an error)";
}

ImageFolderOptions options(std::int64_t size, int channels, const test::TempDir& cache) {
  ImageFolderOptions o;
  o.image_size = size;
  o.channels = channels;
  o.cache_dir = (cache.path() / "cache").string();
  return o;
}

// The mean of each channel of image i, rounded.
std::vector<int> colour(const LabelledImages& part, std::int64_t i) {
  std::vector<int> out;
  for (std::int64_t c = 0; c < part.images.size(1); ++c)
    out.push_back(static_cast<int>(std::lround(part.images[i][c].to(torch::kFloat32).mean().item<float>())));
  return out;
}

TEST(ImageFolder, PngAndJpegOfAnySizeAndChannelsIntoOneShape) {
  test::TempDir dir;
  make(dir.path() / "pets", "standard");
  TrainConfig cfg;
  cfg.dataset = "image_folder";
  cfg.options["image_size"] = 24;
  cfg.options["channels"] = 3;
  const ImageDataset d = load_dataset(cfg, (dir.path() / "pets").string());
  EXPECT_EQ(d.kind, "image_folder");
  EXPECT_EQ(d.shape(), (DataShape{3, 24, 24, 2}));
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"cat", "dog"}));
  ASSERT_EQ(d.train.size(), 8);  // README.txt is not an image
  ASSERT_EQ(d.test.size(), 2);
  EXPECT_EQ(d.train.labels.sum().item<std::int64_t>(), 4);
  // File-name order within a class: red0..2.png, small.JPG; blue.png, grey0..2.png.
  EXPECT_EQ(colour(d.train, 0), (std::vector<int>{200, 10, 10}));  // 40x30 resized, exact colour
  const auto jpeg = colour(d.train, 3);
  EXPECT_NEAR(jpeg[0], 200, 4);
  EXPECT_NEAR(jpeg[2], 10, 4);
  EXPECT_EQ(colour(d.train, 4), (std::vector<int>{10, 10, 200}));   // RGBA, opaque
  EXPECT_EQ(colour(d.train, 5), (std::vector<int>{100, 100, 100}));  // grey made colour
  EXPECT_NEAR(colour(d.test, 1)[1], 100, 2);                         // a grey JPEG
  EXPECT_TRUE(d.warnings.empty());
  EXPECT_EQ(d.fingerprint.size(), 16u);
}

TEST(ImageFolder, MixedChannelsAreRefusedUnlessConverted) {
  test::TempDir dir;
  make(dir.path() / "pets", "standard");
  EXPECT_THAT(load_error(dir.path() / "pets", options(16, 0, dir)),
              HasSubstr("images of mixed channel counts: "));
  EXPECT_THAT(load_error(dir.path() / "pets", options(16, 0, dir)), HasSubstr("set channels = 1 or 3"));
  const ImageDataset grey = load_image_folder((dir.path() / "pets").string(), options(16, 1, dir));
  EXPECT_EQ(grey.shape(), (DataShape{1, 16, 16, 2}));
  EXPECT_EQ(colour(grey.train, 5), (std::vector<int>{100}));
}

TEST(ImageFolder, TheSecondLoadReadsTheCacheUntilAFileChanges) {
  test::TempDir dir;
  const fs::path root = dir.path() / "pets";
  make(root, "standard");
  const auto o = options(24, 3, dir);
  const ImageDataset first = load_image_folder(root.string(), o);
  const fs::path cache = image_folder_cache_path(root.string(), o);
  ASSERT_TRUE(fs::exists(cache));
  EXPECT_EQ(cache.parent_path(), fs::path(o.cache_dir));
  // Damage an image but keep its size and time: only a load that decodes sees it.
  const fs::path image = root / "train" / "cat" / "red1.png";
  const auto size = fs::file_size(image);
  const auto when = fs::last_write_time(image);
  std::ofstream(image, std::ios::binary) << std::string(size, 'x');
  fs::last_write_time(image, when);
  const ImageDataset second = load_image_folder(root.string(), o);
  EXPECT_TRUE(torch::equal(second.train.images, first.train.images));
  EXPECT_TRUE(torch::equal(second.test.labels, first.test.labels));
  EXPECT_EQ(second.class_names, first.class_names);
  EXPECT_EQ(second.fingerprint, first.fingerprint);
  // A changed time is a new listing: decoded again, and the damage named.
  fs::last_write_time(image, when + std::chrono::seconds(5));
  EXPECT_THAT(load_error(root, o), HasSubstr("red1.png: neither a PNG nor a JPEG file"));
  // Another image size is another cache beside it.
  EXPECT_NE(image_folder_cache_path(root.string(), options(16, 3, dir)), cache.string());
}

TEST(ImageFolder, WithoutATestFolderEveryFifthImageIsTheTestPart) {
  test::TempDir dir;
  make(dir.path() / "ab", "nosplit");
  const ImageDataset d = load_image_folder((dir.path() / "ab").string(), options(8, 0, dir));
  EXPECT_EQ(d.train.size(), 16);
  EXPECT_EQ(d.test.size(), 4);
  EXPECT_EQ(d.test.labels.sum().item<std::int64_t>(), 2);
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_THAT(d.warnings[0], HasSubstr("no test folder; every fifth image of each class (4 in all)"));
}

TEST(ImageFolder, EachBadFolderOrFileIsNamedAndTheLoadStops) {
  test::TempDir dir;
  const fs::path root = dir.path() / "pets";
  const auto o = options(16, 3, dir);
  EXPECT_THAT(load_error(root, o), HasSubstr("pets: no such folder"));
  fs::create_directories(root);
  EXPECT_THAT(load_error(root, o), HasSubstr("pets: has no train folder"));
  fs::create_directories(root / "train");
  EXPECT_THAT(load_error(root, o), HasSubstr("train: no class folders"));
  make(root, "standard");
  fs::create_directories(root / "train" / "empty");
  EXPECT_THAT(load_error(root, o), HasSubstr("train/empty: no .png, .jpg or .jpeg images in this class"));
  fs::remove(root / "train" / "empty");
  fs::create_directories(root / "test" / "bird");
  std::ofstream(root / "test" / "bird" / "b.png") << "x";
  EXPECT_THAT(load_error(root, o), HasSubstr("test/bird: a test class that"));
  fs::remove_all(root / "test" / "bird");
  // A cut-short JPEG and a damaged PNG header: named, and nothing is cached.
  const fs::path jpeg = root / "train" / "cat" / "small.JPG";
  fs::resize_file(jpeg, fs::file_size(jpeg) / 2);
  EXPECT_THAT(load_error(root, o), HasSubstr("small.JPG: a damaged JPEG file"));
  fs::remove(jpeg);
  const fs::path png = root / "train" / "dog" / "grey1.png";
  std::fstream f(png, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(12).write("XXXX", 4);  // the IHDR chunk's name
  f.close();
  EXPECT_THAT(load_error(root, o), HasSubstr("grey1.png: a damaged PNG file"));
  EXPECT_FALSE(fs::exists(o.cache_dir) && !fs::is_empty(o.cache_dir));
}

}  // namespace
}  // namespace lrtune
