// Batch assembly: normalisation, memory format and the crop/flip augmentation.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "data/batcher.h"

namespace lrtune {
namespace {

struct Fixture {
  LabelledImages data;
  ChannelStats stats{{0.5f, 0.4f, 0.3f}, {0.25f, 0.2f, 0.1f}};
  Fixture() {
    torch::manual_seed(3);
    data.images = torch::randint(0, 256, {16, 3, 32, 32}, torch::kInt64).to(torch::kUInt8);
    data.labels = torch::arange(16, torch::kInt64).remainder(10);
  }
  torch::Tensor normalised(int64_t i) const {
    auto x = data.images[i].to(torch::kFloat32) / 255.0f;
    auto mean = torch::tensor({stats.mean[0], stats.mean[1], stats.mean[2]}).view({3, 1, 1});
    auto std = torch::tensor({stats.std[0], stats.std[1], stats.std[2]}).view({3, 1, 1});
    return (x - mean) / std;
  }
};

TEST(Batcher, PlainBatchIsNormalisedInOrder) {
  Fixture f;
  std::vector<int64_t> order = {5, 2, 11, 0};
  BatchMaker maker(f.data, f.stats, /*channels_last=*/false);
  Batch b = maker.make(order, 1, 4, nullptr);
  ASSERT_EQ(b.images.sizes(), (std::vector<int64_t>{3, 3, 32, 32}));
  for (int k = 0; k < 3; ++k) {
    EXPECT_TRUE(torch::allclose(b.images[k], f.normalised(order[1 + k]), 1e-5, 1e-5));
    EXPECT_EQ(b.labels[k].item<int64_t>(), order[1 + k] % 10);
  }
}

TEST(Batcher, ChannelsLastHoldsTheSameValues) {
  Fixture f;
  std::vector<int64_t> order = {1, 2, 3, 4, 5};
  Batch a = BatchMaker(f.data, f.stats, false).make(order, 0, 5, nullptr);
  Batch b = BatchMaker(f.data, f.stats, true).make(order, 0, 5, nullptr);
  EXPECT_TRUE(b.images.is_contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(torch::equal(a.images, b.images));
}

// Every augmented image must be the original shifted by (dy, dx) in [-4, 4],
// possibly mirrored, with zero-valued (black) padding: find that transform.
TEST(Batcher, AugmentedImagesAreShiftedOrFlippedCopies) {
  Fixture f;
  std::vector<int64_t> order(16);
  for (int i = 0; i < 16; ++i) order[i] = i;
  BatchMaker maker(f.data, f.stats, false);
  std::mt19937_64 rng(9);
  Batch b = maker.make(order, 0, 16, &rng);
  int flipped = 0, shifted = 0;
  for (int i = 0; i < 16; ++i) {
    auto orig = f.normalised(i);
    auto black = (torch::zeros({3, 1, 1}) - torch::tensor({0.5f, 0.4f, 0.3f}).view({3, 1, 1})) /
                 torch::tensor({0.25f, 0.2f, 0.1f}).view({3, 1, 1});
    auto padded = black.expand({3, 40, 40}).clone();
    padded.narrow(1, 4, 32).narrow(2, 4, 32).copy_(orig);
    bool found = false;
    for (int flip = 0; flip < 2 && !found; ++flip)
      for (int oy = 0; oy <= 8 && !found; ++oy)
        for (int ox = 0; ox <= 8 && !found; ++ox) {
          auto crop = padded.narrow(1, oy, 32).narrow(2, ox, 32);
          if (flip) crop = crop.flip({2});
          if (torch::allclose(crop, b.images[i], 1e-5, 1e-5)) {
            found = true;
            flipped += flip;
            shifted += (oy != 4 || ox != 4);
          }
        }
    EXPECT_TRUE(found) << "image " << i << " is not a crop/flip of its source";
  }
  EXPECT_GT(flipped, 0);
  EXPECT_LT(flipped, 16);
  EXPECT_GT(shifted, 8);
}

TEST(Batcher, SameGeneratorStateSameAugmentation) {
  Fixture f;
  std::vector<int64_t> order = {0, 1, 2, 3};
  BatchMaker maker(f.data, f.stats, true);
  std::mt19937_64 r1(4), r2(4);
  EXPECT_TRUE(torch::equal(maker.make(order, 0, 4, &r1).images, maker.make(order, 0, 4, &r2).images));
}

// Images are assembled in parallel: the result must not depend on the thread
// count, and must equal assembling them one at a time from the same generator.
TEST(Batcher, AugmentationDoesNotDependOnThreads) {
  LabelledImages data;
  torch::manual_seed(5);
  data.images = torch::randint(0, 256, {64, 3, 32, 32}, torch::kInt64).to(torch::kUInt8);
  data.labels = torch::arange(64, torch::kInt64).remainder(10);
  std::vector<int64_t> order(64);
  for (int i = 0; i < 64; ++i) order[i] = (i * 37) % 64;
  BatchMaker maker(data, ChannelStats{{0.5f, 0.4f, 0.3f}, {0.25f, 0.2f, 0.1f}}, true);
  const int threads = torch::get_num_threads();
  std::vector<torch::Tensor> batches;
  for (int n : {1, 2, 3}) {
    torch::set_num_threads(n);
    std::mt19937_64 rng(8);
    batches.push_back(maker.make(order, 0, 64, &rng).images);
  }
  torch::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(batches[0], batches[1]));
  EXPECT_TRUE(torch::equal(batches[0], batches[2]));
  std::mt19937_64 rng(8);
  for (int i = 0; i < 64; ++i)
    ASSERT_TRUE(torch::equal(maker.make(order, i, i + 1, &rng).images[0], batches[0][i])) << i;
}

// Images of any shape (grey digits, a non-square RGB crop): each augmented
// image is its source shifted by up to 4 pixels, and with `flip` false never
// mirrored (`crop`, for digits, whose mirror images are other symbols).
struct ShapeCase {
  int64_t c, h, w;
  bool flip;
};

// The (flip, oy, ox) that turns image `orig` (normalised, C x H x W) into `got`, or -1.
int find_transform(const torch::Tensor& orig, const torch::Tensor& got, const torch::Tensor& black,
                   bool* flipped, bool* shifted) {
  const int64_t c = orig.size(0), h = orig.size(1), w = orig.size(2);
  auto padded = black.expand({c, h + 8, w + 8}).clone();
  padded.narrow(1, 4, h).narrow(2, 4, w).copy_(orig);
  for (int flip = 0; flip < 2; ++flip)
    for (int oy = 0; oy <= 8; ++oy)
      for (int ox = 0; ox <= 8; ++ox) {
        auto crop = padded.narrow(1, oy, h).narrow(2, ox, w);
        if (flip) crop = crop.flip({2});
        if (torch::allclose(crop, got, 1e-5, 1e-5)) {
          *flipped = flip != 0;
          *shifted = oy != 4 || ox != 4;
          return 0;
        }
      }
  return -1;
}

TEST(Batcher, AnyShapeAndCropWithoutFlip) {
  for (const ShapeCase& k : {ShapeCase{1, 28, 28, false}, ShapeCase{3, 24, 20, true}}) {
    LabelledImages data;
    torch::manual_seed(11);
    data.images = torch::randint(0, 256, {12, k.c, k.h, k.w}, torch::kInt64).to(torch::kUInt8);
    data.labels = torch::arange(12, torch::kInt64).remainder(4);
    ChannelStats stats;
    for (int64_t c = 0; c < k.c; ++c) {
      stats.mean.push_back(0.5f - 0.1f * c);
      stats.std.push_back(0.25f);
    }
    auto mean = torch::tensor(stats.mean).view({k.c, 1, 1}), std = torch::tensor(stats.std).view({k.c, 1, 1});
    auto black = (torch::zeros({k.c, 1, 1}) - mean) / std;
    std::vector<int64_t> order = {3, 1, 4, 11, 5, 9, 2, 6, 0, 7, 8, 10};
    std::mt19937_64 rng(2);
    Batch b = BatchMaker(data, stats, true).make(order, 0, 12, &rng, k.flip);
    ASSERT_EQ(b.images.sizes(), (std::vector<int64_t>{12, k.c, k.h, k.w}));
    int flips = 0, shifts = 0;
    for (int i = 0; i < 12; ++i) {
      auto orig = (data.images[order[i]].to(torch::kFloat32) / 255.0f - mean) / std;
      bool flipped = false, shifted = false;
      ASSERT_EQ(find_transform(orig, b.images[i], black, &flipped, &shifted), 0)
          << k.c << "x" << k.h << "x" << k.w << " image " << i;
      flips += flipped;
      shifts += shifted;
      EXPECT_EQ(b.labels[i].item<int64_t>(), order[i] % 4);
    }
    EXPECT_GT(shifts, 6);
    if (k.flip) EXPECT_GT(flips, 0);
    else EXPECT_EQ(flips, 0);
  }
}

}  // namespace
}  // namespace lrtune
