// The two things the benchmark times: training and evaluation steps on
// pre-made tensors (the floor), and lrtune's real epoch (run_training).
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "data/cifar10.h"
#include "model/network.h"
#include "timing.h"

namespace lrtune::bench {

// Steps on pre-made, already normalised channels-last tensors: no data path,
// no metrics, nothing but forward, loss, backward and the SGD update.
class StepsBench {
 public:
  explicit StepsBench(const Work& work);
  Timing run();

 private:
  Work work_;
  torch::Device device_;
  std::shared_ptr<Network> model_;
  std::unique_ptr<torch::optim::SGD> opt_;
  std::vector<torch::Tensor> train_x_, train_y_, eval_x_;
};

// CIFAR-10-shaped random data: 50,000 training and 10,000 test images.
ImageDataset generated_cifar(std::uint64_t seed);

// lrtune's run_training for one epoch from scratch (no checkpoint to resume),
// on `data` trimmed to the work's size. Times come from the trainer itself.
class EpochBench {
 public:
  EpochBench(const ImageDataset& data, const Work& work, std::filesystem::path scratch);
  Timing run();

 private:
  ImageDataset data_;
  Work work_;
  std::filesystem::path checkpoint_;
  std::int64_t val_size_ = 5000;
};

// Sets LibTorch's threads and the same global switches the trainer sets.
void configure_torch(int threads, bool deterministic);

}  // namespace lrtune::bench
