// Batch assembly: crop/flip/normalise fused into one loop over the pixels.
#include "data/batcher.h"

#include <torch/torch.h>

namespace lrtune {

BatchMaker::BatchMaker(const LabelledImages& source, const ChannelStats& stats,
                       bool channels_last)
    : source_{source.images.contiguous(), source.labels.contiguous()},
      channels_last_(channels_last) {
  for (int c = 0; c < 3; ++c)
    for (int v = 0; v < 256; ++v)
      lut_[c][v] = (static_cast<float>(v) / 255.0f - stats.mean[c]) / stats.std[c];
}

Batch BatchMaker::make(const std::vector<std::int64_t>& order, std::int64_t begin,
                       std::int64_t end, std::mt19937_64* augment) const {
  const std::int64_t n = end - begin;
  auto opts = torch::TensorOptions().dtype(torch::kFloat32);
  auto images = channels_last_
                    ? torch::empty({n, 3, 32, 32}, opts.memory_format(torch::MemoryFormat::ChannelsLast))
                    : torch::empty({n, 3, 32, 32}, opts);
  auto index = torch::from_blob(const_cast<std::int64_t*>(order.data()) + begin, {n}, torch::kInt64);
  Batch batch{images, source_.labels.index_select(0, index)};

  const auto* src = source_.images.data_ptr<std::uint8_t>();
  float* out = images.data_ptr<float>();
  const std::int64_t sN = images.stride(0), sC = images.stride(1), sH = images.stride(2),
                     sW = images.stride(3);
  for (std::int64_t b = 0; b < n; ++b) {
    int oy = 0, ox = 0;
    bool flip = false;
    if (augment) {
      const std::uint64_t r = (*augment)();
      oy = static_cast<int>(r % 9) - 4;  // 81 offsets x 2 flips, from one draw
      ox = static_cast<int>((r / 9) % 9) - 4;
      flip = ((r / 81) & 1) != 0;
    }
    const std::uint8_t* img = src + order[begin + b] * 3 * 32 * 32;
    float* dst = out + b * sN;
    for (int c = 0; c < 3; ++c) {
      const float zero = lut_[c][0];  // padding is black before normalisation
      for (int y = 0; y < 32; ++y) {
        const int sy = y + oy;
        float* row = dst + c * sC + y * sH;
        if (sy < 0 || sy >= 32) {
          for (int x = 0; x < 32; ++x) row[x * sW] = zero;
          continue;
        }
        const std::uint8_t* srow = img + (c * 32 + sy) * 32;
        for (int x = 0; x < 32; ++x) {
          const int sx = (flip ? 31 - x : x) + ox;
          row[x * sW] = (sx < 0 || sx >= 32) ? zero : lut_[c][srow[sx]];
        }
      }
    }
  }
  return batch;
}

}  // namespace lrtune
