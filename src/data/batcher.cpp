// Batch assembly: crop/flip/normalise fused into one loop over the pixels.
#include "data/batcher.h"

#include <algorithm>

#include <ATen/Parallel.h>
#include <torch/torch.h>

namespace lrtune {

BatchMaker::BatchMaker(const LabelledImages& source, const ChannelStats& stats,
                       bool channels_last)
    : source_{source.images.contiguous(), source.labels.contiguous()},
      channels_last_(channels_last),
      channels_(source_.images.size(1)),
      height_(source_.images.size(2)),
      width_(source_.images.size(3)),
      lut_(static_cast<std::size_t>(channels_)) {
  for (std::size_t c = 0; c < lut_.size(); ++c)
    for (int v = 0; v < 256; ++v)
      lut_[c][v] = (static_cast<float>(v) / 255.0f - stats.mean[c]) / stats.std[c];
}

namespace {

// An image's geometry: channels, rows, columns.
struct Geometry {
  int c, h, w;
};

// One image into `dst` (strides sC, sH, sW), shifted by (oy, ox) with zero
// padding and mirrored when `flip`. The x range that reads the source is
// worked out once per image, so the pixel loops have no bounds tests.
void fill_image(const std::uint8_t* img, float* dst, std::int64_t sC, std::int64_t sH,
                std::int64_t sW, int oy, int ox, bool flip, const Geometry& g,
                const std::vector<std::array<float, 256>>& lut) {
  const int W = g.w;
  const int x_lo = flip ? std::max(0, ox) : std::max(0, -ox);
  const int x_hi = flip ? std::min(W, W + ox) : std::min(W, W - ox);
  for (int c = 0; c < g.c; ++c) {
    const float* L = lut[static_cast<std::size_t>(c)].data();
    const float zero = L[0];  // padding is black before normalisation
    for (int y = 0; y < g.h; ++y) {
      const int sy = y + oy;
      float* row = dst + c * sC + y * sH;
      if (sy < 0 || sy >= g.h) {
        for (int x = 0; x < W; ++x) row[x * sW] = zero;
        continue;
      }
      const std::uint8_t* srow = img + (static_cast<std::int64_t>(c) * g.h + sy) * W;
      int x = 0;
      for (; x < x_lo; ++x) row[x * sW] = zero;
      if (flip)
        for (; x < x_hi; ++x) row[x * sW] = L[srow[W - 1 - x + ox]];
      else
        for (; x < x_hi; ++x) row[x * sW] = L[srow[x + ox]];
      for (; x < W; ++x) row[x * sW] = zero;
    }
  }
}

}  // namespace

Batch BatchMaker::make(const std::vector<std::int64_t>& order, std::int64_t begin,
                       std::int64_t end, std::mt19937_64* augment, bool flip_too) const {
  const std::int64_t n = end - begin;
  const std::vector<std::int64_t> sizes = {n, channels_, height_, width_};
  auto opts = torch::TensorOptions().dtype(torch::kFloat32);
  auto images = channels_last_
                    ? torch::empty(sizes, opts.memory_format(torch::MemoryFormat::ChannelsLast))
                    : torch::empty(sizes, opts);
  auto index = torch::from_blob(const_cast<std::int64_t*>(order.data()) + begin, {n}, torch::kInt64);
  Batch batch{images, source_.labels.index_select(0, index)};

  // Draws first, one per image in order: the same augmentation for any thread count.
  std::vector<std::uint64_t> draws(augment ? static_cast<std::size_t>(n) : 0);
  for (auto& r : draws) r = (*augment)();

  const auto* src = source_.images.data_ptr<std::uint8_t>();
  float* out = images.data_ptr<float>();
  const std::int64_t sN = images.stride(0), sC = images.stride(1), sH = images.stride(2),
                     sW = images.stride(3);
  const Geometry g{static_cast<int>(channels_), static_cast<int>(height_), static_cast<int>(width_)};
  const std::int64_t image_bytes = channels_ * height_ * width_;
  // The images are independent: assembled in parallel, so that the other cores
  // do not wait while one builds the batch.
  at::parallel_for(0, n, /*grain_size=*/16, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t b = lo; b < hi; ++b) {
      int oy = 0, ox = 0;
      bool flip = false;
      if (augment) {
        const std::uint64_t r = draws[static_cast<std::size_t>(b)];
        oy = static_cast<int>(r % 9) - 4;  // 81 offsets x 2 flips, from one draw
        ox = static_cast<int>((r / 9) % 9) - 4;
        flip = flip_too && ((r / 81) & 1) != 0;
      }
      fill_image(src + order[static_cast<std::size_t>(begin + b)] * image_bytes, out + b * sN, sC,
                 sH, sW, oy, ox, flip, g, lut_);
    }
  });
  return batch;
}

}  // namespace lrtune
