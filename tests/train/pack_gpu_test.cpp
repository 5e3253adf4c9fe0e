// Packs on a CUDA device (skipped without one): the device data path, a step
// against the CPU, learning in fp32 and bf16, and a diverged copy on the GPU.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "data/cifar10.h"
#include "model/packed_cnn.h"
#include "model/reference_cnn.h"
#include "support/test_support.h"
#include "train/pack_batches.h"
#include "train/pack_trainer.h"

namespace lrtune {
namespace {

#define SKIP_WITHOUT_CUDA() \
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device"

TrainConfig gpu_config(double lr, std::int64_t seed) {
  TrainConfig c;
  c.val_size = 100;
  c.batch_size = 32;
  c.eval_batch_size = 100;
  c.lr = lr;
  c.set("momentum", 0.9);
  c.epochs = 5;
  c.device = "cuda";
  c.seed = seed;
  return c;
}

TEST(PackGpu, DeviceBatchesMatchTheCpuOnes) {
  SKIP_WITHOUT_CUDA();
  test::TempDir dir;
  test::write_tiny_cifar(dir.path(), 30, 20);
  const ImageDataset data = load_cifar10(dir.str());
  std::vector<TrainConfig> configs = {gpu_config(0.1, 1), gpu_config(0.1, 2)};
  configs[0].val_size = configs[1].val_size = 50;
  PackBatches cpu(configs, data, torch::kCPU, false), gpu(configs, data, torch::kCUDA, true);
  cpu.start_epoch(2);
  gpu.start_epoch(2);
  const Batch a = cpu.train(0, 32), b = gpu.train(0, 32);
  EXPECT_TRUE(torch::allclose(a.images, b.images.cpu(), 0, 1e-5));
  EXPECT_TRUE(torch::equal(a.labels, b.labels.cpu()));
}

TEST(PackGpu, ForwardMatchesTheCpu) {
  SKIP_WITHOUT_CUDA();
  constexpr std::int64_t K = 3;
  PackedCnn cpu(K, 0.0), gpu(K, 0.0);
  for (std::int64_t k = 0; k < K; ++k) {
    torch::manual_seed(k);
    ReferenceCnn single(0.0);
    cpu->load_copy(k, single);
    gpu->load_copy(k, single);
  }
  gpu->to(torch::kCUDA);
  const auto x = torch::randn({K, 16, 3, 32, 32});
  const auto a = cpu->forward(x), b = gpu->forward(x.cuda()).cpu();
  // cuDNN may use TF32 for convolutions: float32 agreement to ~1e-3.
  EXPECT_TRUE(torch::allclose(a, b, 1e-2, 1e-3)) << (a - b).abs().max().item<float>();
}

struct Learned {
  std::vector<RunOutcome> outcomes;
  std::vector<double> final_val_acc;
};

Learned learn(std::vector<TrainConfig> configs, const std::string& precision) {
  for (auto& c : configs) c.precision = precision;
  test::TempDir dir;
  test::write_tiny_cifar(dir.path(), 100, 200);
  const ImageDataset data = load_cifar10(dir.str());
  std::vector<std::string> paths;
  for (std::size_t k = 0; k < configs.size(); ++k)
    paths.push_back((dir.path() / ("c" + std::to_string(k))).string());
  Learned out;
  out.final_val_acc.assign(configs.size(), 0.0);
  PackHooks hooks;
  hooks.on_epoch = [&](std::size_t k, const EpochMetrics& m) { out.final_val_acc[k] = m.val_acc; };
  out.outcomes = run_pack(configs, data, paths, hooks);
  return out;
}

TEST(PackGpu, LearnsAndIsolatesADivergedCopy) {
  SKIP_WITHOUT_CUDA();
  const auto r = learn({gpu_config(0.02, 1), gpu_config(1e6, 2), gpu_config(0.05, 3),
                        gpu_config(0.01, 4)},
                       "fp32");
  EXPECT_EQ(r.outcomes[1].status, RunStatus::diverged);
  for (std::size_t k : {0u, 2u, 3u}) {
    EXPECT_EQ(r.outcomes[k].status, RunStatus::done);
    EXPECT_GT(r.final_val_acc[k], 0.9) << "copy " << k;
  }
}

TEST(PackGpu, LearnsInBf16) {
  SKIP_WITHOUT_CUDA();
  const auto r = learn({gpu_config(0.02, 1), gpu_config(0.05, 3)}, "bf16");
  for (std::size_t k = 0; k < 2; ++k) {
    EXPECT_EQ(r.outcomes[k].status, RunStatus::done);
    EXPECT_GT(r.final_val_acc[k], 0.9) << "copy " << k;
  }
}

}  // namespace
}  // namespace lrtune
