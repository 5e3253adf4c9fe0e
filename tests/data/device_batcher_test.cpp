// The tensor-op batch path (used on GPUs) against BatchMaker: the same crops,
// flips and normalisation from the same draws, and PackBatches' two paths agree.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "data/batcher.h"
#include "data/device_batcher.h"
#include "support/test_support.h"
#include "train/pack_batches.h"

namespace lrtune {
namespace {

LabelledImages random_images(std::int64_t n) {
  torch::manual_seed(1);
  return {torch::randint(0, 256, {n, 3, 32, 32}, torch::kUInt8), torch::randint(0, 10, {n})};
}

TEST(PackedData, DeviceBatcherMatchesBatchMaker) {
  const auto images = random_images(40);
  const ChannelStats a{{0.5f, 0.4f, 0.3f}, {0.25f, 0.2f, 0.3f}};
  const ChannelStats b{{0.1f, 0.2f, 0.6f}, {0.3f, 0.35f, 0.15f}};
  const DeviceBatcher gpu_style(images, {a, b}, torch::kCPU);
  const std::vector<std::vector<std::int64_t>> order = {{3, 17, 0, 39, 22, 5}, {9, 9, 31, 2, 14, 27}};
  std::vector<std::vector<std::int64_t>> codes(2);
  std::vector<torch::Tensor> expected_images, expected_labels;
  for (int k = 0; k < 2; ++k) {
    // BatchMaker takes one draw per image; the codes come from a twin generator.
    std::mt19937_64 rng(100 + k), twin(100 + k);
    for (std::size_t i = 0; i < order[k].size(); ++i) codes[k].push_back(augment_code(twin()));
    const Batch expected = BatchMaker(images, k == 0 ? a : b, false).make(order[k], 0, 6, &rng);
    expected_images.push_back(expected.images);
    expected_labels.push_back(expected.labels);
  }
  auto as_tensor = [](const std::vector<std::vector<std::int64_t>>& v) {
    return torch::stack({torch::tensor(v[0]), torch::tensor(v[1])});
  };
  const Batch got = gpu_style.make(as_tensor(order), as_tensor(codes));
  ASSERT_EQ(got.images.sizes(), (std::vector<std::int64_t>{2, 6, 3, 32, 32}));
  EXPECT_TRUE(torch::allclose(got.images, torch::stack(expected_images), 0, 1e-5))
      << (got.images - torch::stack(expected_images)).abs().max().item<float>();
  EXPECT_TRUE(torch::equal(got.labels, torch::stack(expected_labels)));

  // Without codes: no shift, no flip.
  const Batch plain = gpu_style.make(as_tensor(order), {});
  const Batch plain_expected = BatchMaker(images, a, false).make(order[0], 0, 6, nullptr);
  EXPECT_TRUE(torch::allclose(plain.images[0], plain_expected.images, 0, 1e-5));
}

// Grey 28x28 images, cropped without flips (augment "crop"): the same pixels as
// BatchMaker with flip_too = false from the same draws.
TEST(PackedData, DeviceBatcherCropsGreyImagesAsBatchMakerDoes) {
  torch::manual_seed(2);
  const LabelledImages images{torch::randint(0, 256, {30, 1, 28, 28}, torch::kUInt8),
                              torch::randint(0, 10, {30})};
  const ChannelStats st{{0.4f}, {0.3f}};
  const DeviceBatcher gpu_style(images, {st}, torch::kCPU);
  const std::vector<std::int64_t> order = {4, 29, 0, 13, 13, 8, 21};
  std::mt19937_64 rng(5), twin(5);
  std::vector<std::int64_t> codes;
  for (std::size_t i = 0; i < order.size(); ++i) codes.push_back(augment_code(twin(), /*flip=*/false));
  const Batch expected = BatchMaker(images, st, false).make(order, 0, 7, &rng, /*flip_too=*/false);
  const Batch got = gpu_style.make(torch::tensor(order).view({1, 7}), torch::tensor(codes).view({1, 7}));
  ASSERT_EQ(got.images.sizes(), (std::vector<std::int64_t>{1, 7, 1, 28, 28}));
  EXPECT_TRUE(torch::allclose(got.images[0], expected.images, 0, 1e-5))
      << (got.images[0] - expected.images).abs().max().item<float>();
  EXPECT_TRUE(torch::equal(got.labels[0], expected.labels));
  // The draws do shift the images: not the unaugmented batch.
  const Batch plain = BatchMaker(images, st, false).make(order, 0, 7, nullptr);
  EXPECT_FALSE(torch::allclose(plain.images, expected.images, 0, 1e-5));
}

TEST(PackedData, BothPackPathsServeTheSameBatches) {
  test::TempDir dir;
  test::write_tiny_cifar(dir.path(), 30, 20);
  const ImageDataset data = load_cifar10(dir.str());
  std::vector<TrainConfig> configs(2);
  for (auto& c : configs) c.val_size = 50;
  configs[1].seed = 9;
  configs[1].augment = "none";
  configs.push_back(configs[0]);
  configs[2].seed = 4;
  configs[2].augment = "crop";
  PackBatches cpu(configs, data, torch::kCPU, /*on_device=*/false);
  PackBatches dev(configs, data, torch::kCPU, /*on_device=*/true);
  ASSERT_EQ(cpu.train_size(), 100);
  for (std::int64_t epoch : {0, 3}) {
    cpu.start_epoch(epoch);
    dev.start_epoch(epoch);
    for (std::int64_t begin : {0, 32, 64, 96}) {
      const auto end = std::min<std::int64_t>(100, begin + 32);
      const Batch x = cpu.train(begin, end), y = dev.train(begin, end);
      EXPECT_TRUE(torch::allclose(x.images, y.images, 0, 1e-5)) << epoch << " " << begin;
      EXPECT_TRUE(torch::equal(x.labels, y.labels));
    }
  }
  EXPECT_TRUE(torch::allclose(cpu.val(0, 50).images, dev.val(0, 50).images, 0, 1e-5));
  EXPECT_TRUE(torch::allclose(cpu.test(5, 20).images, dev.test(5, 20).images, 0, 1e-5));
  // Copies differ: their own seeds give their own splits and orders.
  EXPECT_FALSE(torch::equal(cpu.val(0, 50).labels[0], cpu.val(0, 50).labels[1]) &&
               torch::equal(cpu.val(0, 50).images[0], cpu.val(0, 50).images[1]));
}

}  // namespace
}  // namespace lrtune
