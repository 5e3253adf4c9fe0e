// Stratified, seed-determined split of the training files into train and
// validation sets, plus per-channel normalisation statistics.
#pragma once
#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "data/cifar10.h"

namespace lrtune {

struct Split {
  std::vector<std::int64_t> train;  // indices into Cifar10::train
  std::vector<std::int64_t> val;
};

// Each class gives val_size/10 images to validation and the rest to training.
// A training subset (subset > 0) keeps subset/10 images of each class (rounded
// so the total is exactly `subset`). The same seed always gives the same split.
// Throws DataError when a class has too few images.
Split stratified_split(const torch::Tensor& labels, std::int64_t val_size, std::int64_t subset,
                       std::uint64_t seed);

// Per-channel mean and std (on the 0..1 scale) of the given images.
struct ChannelStats {
  float mean[3];
  float std[3];
};
ChannelStats channel_stats(const torch::Tensor& images_u8, const std::vector<std::int64_t>& idx);

// A deterministic permutation of 0..n-1 (Fisher-Yates on mt19937_64, the same
// on every platform, unlike std::shuffle).
std::vector<std::int64_t> permutation(std::int64_t n, std::uint64_t seed);

// Mixes a seed with a stream number (epoch, purpose) into an independent seed.
std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t stream);

}  // namespace lrtune
