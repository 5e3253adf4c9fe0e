// Batches for K copies at once, assembled with tensor operations on the
// device that holds the images (uploaded once): gather, crop, flip, normalise.
// The same crops and flips as BatchMaker, from the same random draws.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include <torch/types.h>

#include "data/batcher.h"
#include "data/cifar10.h"
#include "data/split.h"

namespace lrtune {

// One augmentation draw as a code in [0, 162): the offsets and flip BatchMaker
// derives from the same 64-bit draw (r % 9, r / 9 % 9, r / 81 & 1 are the
// mixed-radix digits of r % 162). kNoAugment is offset 0, no flip. Without
// flips (augment = "crop") the code keeps the offsets alone: r % 81.
constexpr std::int64_t kAugmentCodes = 162;
constexpr std::int64_t kNoAugment = 4 + 9 * 4;
inline std::int64_t augment_code(std::uint64_t draw, bool flip = true) {
  return static_cast<std::int64_t>(draw % (flip ? kAugmentCodes : kAugmentCodes / 2));
}

class DeviceBatcher {
 public:
  // `stats` has one entry per copy: every copy normalises with the statistics
  // of its own training split.
  DeviceBatcher(const LabelledImages& source, const std::vector<ChannelStats>& stats,
                const torch::Device& device);

  // idx: int64 [K, B] image indices; codes: int64 [K, B] augmentation codes
  // (undefined = none); both on the device. Returns images float [K, B, C, H, W]
  // and labels int64 [K, B].
  Batch make(const torch::Tensor& idx, const torch::Tensor& codes) const;

  std::int64_t copies() const { return scale_.size(0); }
  const torch::Device& device() const { return device_; }

 private:
  torch::Device device_;
  std::int64_t channels_, height_, width_;
  torch::Tensor padded_;   // uint8 [N, C, H+8, W+8]: 4 black pixels around each image
  torch::Tensor labels_;   // int64 [N]
  torch::Tensor scale_, shift_;  // float [K, 1, C, 1, 1]: x * scale + shift normalises
  torch::Tensor rows_, cols_;    // int64 [162, H] and [162, W]: source row/column per code
  torch::Tensor channel_;        // int64 [1, C, 1, 1]: 0, 1, ...
};

}  // namespace lrtune
