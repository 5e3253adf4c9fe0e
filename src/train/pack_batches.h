// The data side of a pack: every copy's own split, normalisation, epoch order
// and augmentation, served as [K, B, ...] batches. On a GPU the images live on
// the device (DeviceBatcher); on the CPU each copy uses a BatchMaker.
#pragma once
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include <torch/types.h>

#include "core/config.h"
#include "data/batcher.h"
#include "data/cifar10.h"
#include "data/device_batcher.h"
#include "data/split.h"

namespace lrtune {

class PackBatches {
 public:
  // All configs must give training splits of one size (same train_subset and
  // val_size); each copy's split, order and augmentation follow its own seed.
  PackBatches(const std::vector<TrainConfig>& configs, const ImageDataset& data,
              const torch::Device& device, bool on_device);

  std::int64_t train_size() const { return n_train_; }
  std::int64_t val_size() const { return n_val_; }
  std::int64_t test_size() const { return n_test_; }

  // Draws every copy's order and augmentation for `epoch` (0-based), exactly
  // as run_training does for that copy's seed.
  void start_epoch(std::int64_t epoch);
  // Positions [begin, end) of the current epoch, of the validation split and
  // of the test set: images float [K, n, C, H, W], labels int64 [K, n].
  Batch train(std::int64_t begin, std::int64_t end);
  Batch val(std::int64_t begin, std::int64_t end) const;
  Batch test(std::int64_t begin, std::int64_t end) const;

 private:
  Batch from_makers(const std::vector<BatchMaker>& makers,
                    const std::vector<std::vector<std::int64_t>>& order, std::int64_t begin,
                    std::int64_t end, std::vector<std::mt19937_64>* rngs) const;

  std::vector<TrainConfig> configs_;
  torch::Device device_;
  bool on_device_;
  std::int64_t n_train_ = 0, n_val_ = 0, n_test_ = 0;
  std::vector<Split> splits_;
  std::vector<std::vector<std::int64_t>> order_, val_order_, test_order_;  // per copy
  // CPU: per-copy batch makers and augmentation generators.
  std::vector<BatchMaker> train_makers_, test_makers_;
  std::vector<std::mt19937_64> rngs_;
  // Device: the data sets uploaded once, and this epoch's order and codes [K, n].
  std::unique_ptr<DeviceBatcher> train_dev_, test_dev_;
  torch::Tensor order_dev_, codes_dev_, val_dev_, test_dev_idx_;
};

}  // namespace lrtune
