// Turns uint8 images into normalised float batches, optionally with the
// standard CIFAR augmentation, in one pass per batch (no per-image tensors).
#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include <torch/types.h>

#include "data/cifar10.h"
#include "data/split.h"

namespace lrtune {

struct Batch {
  torch::Tensor images;  // float [B, 3, 32, 32], normalised
  torch::Tensor labels;  // int64 [B]
};

class BatchMaker {
 public:
  BatchMaker(const LabelledImages& source, const ChannelStats& stats, bool channels_last);

  // The images order[begin..end). With `augment` set, each image is shifted by
  // a random offset in [-4, 4] on both axes (zero padding, like a 4-pixel padded
  // random crop) and flipped horizontally with probability 1/2, drawn from it.
  Batch make(const std::vector<std::int64_t>& order, std::int64_t begin, std::int64_t end,
             std::mt19937_64* augment) const;

 private:
  LabelledImages source_;
  bool channels_last_;
  float lut_[3][256];  // byte -> normalised value, per channel
};

}  // namespace lrtune
