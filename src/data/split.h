// Stratified, seed-determined split of the training files into train and
// validation sets, plus per-channel normalisation statistics.
#pragma once
#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "data/dataset.h"

namespace lrtune {

struct Split {
  std::vector<std::int64_t> train;  // indices into ImageDataset::train
  std::vector<std::int64_t> val;
};

// Each of the `classes` classes gives val_size/classes images to validation
// (the first val_size % classes classes one more) and the rest to training.
// A training subset (subset > 0) keeps about subset/classes images of each
// class (rounded so the total is exactly `subset`). The same seed always gives
// the same split; for CIFAR-10 with val_size a multiple of 10 the split of
// every earlier lrtune. Throws DataError when a class has too few images or a
// label is outside [0, classes).
Split stratified_split(const torch::Tensor& labels, std::int64_t classes, std::int64_t val_size,
                       std::int64_t subset, std::uint64_t seed);

// Per-channel mean and std (on the 0..1 scale) of the given images, one per channel.
struct ChannelStats {
  std::vector<float> mean;
  std::vector<float> std;
};
ChannelStats channel_stats(const torch::Tensor& images_u8, const std::vector<std::int64_t>& idx);

// A deterministic permutation of 0..n-1 (Fisher-Yates on mt19937_64, the same
// on every platform, unlike std::shuffle).
std::vector<std::int64_t> permutation(std::int64_t n, std::uint64_t seed);

// Mixes a seed with a stream number (epoch, purpose) into an independent seed.
std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t stream);

}  // namespace lrtune
