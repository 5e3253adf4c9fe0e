// Turns uint8 images of any shape into normalised float batches, optionally
// with the standard CIFAR augmentation (a 4-pixel padded random crop, with or
// without a horizontal flip), in one pass per batch (no per-image tensors).
#pragma once
#include <array>
#include <cstdint>
#include <random>
#include <vector>

#include <torch/types.h>

#include "data/dataset.h"
#include "data/split.h"

namespace lrtune {

struct Batch {
  torch::Tensor images;  // float [B, C, H, W], normalised
  torch::Tensor labels;  // int64 [B]
};

class BatchMaker {
 public:
  BatchMaker(const LabelledImages& source, const ChannelStats& stats, bool channels_last);

  // The images order[begin..end). With `augment` set, each image is shifted by
  // a random offset in [-4, 4] on both axes (zero padding, like a 4-pixel padded
  // random crop) and, with `flip`, flipped horizontally with probability 1/2,
  // all drawn from it (one draw per image, flipped or not).
  Batch make(const std::vector<std::int64_t>& order, std::int64_t begin, std::int64_t end,
             std::mt19937_64* augment, bool flip = true) const;

 private:
  LabelledImages source_;
  bool channels_last_;
  std::int64_t channels_, height_, width_;
  std::vector<std::array<float, 256>> lut_;  // byte -> normalised value, per channel
};

}  // namespace lrtune
