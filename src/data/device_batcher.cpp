// DeviceBatcher: one advanced-indexing gather does crop, flip and selection.
#include "data/device_batcher.h"

#include <torch/torch.h>

namespace lrtune {

DeviceBatcher::DeviceBatcher(const LabelledImages& source, const std::vector<ChannelStats>& stats,
                             const torch::Device& device)
    : device_(device),
      channels_(source.images.size(1)),
      height_(source.images.size(2)),
      width_(source.images.size(3)) {
  namespace F = torch::nn::functional;
  padded_ = F::pad(source.images.contiguous(), F::PadFuncOptions({4, 4, 4, 4})).to(device);
  labels_ = source.labels.to(device);

  const auto K = static_cast<std::int64_t>(stats.size());
  const std::int64_t C = channels_;
  auto scale = torch::empty({K, C});
  auto shift = torch::empty({K, C});
  auto sa = scale.accessor<float, 2>();
  auto sh = shift.accessor<float, 2>();
  for (std::int64_t k = 0; k < K; ++k)
    for (std::int64_t c = 0; c < C; ++c) {
      // BatchMaker's (v / 255 - mean) / std as v * scale + shift.
      const auto& s = stats[static_cast<std::size_t>(k)];
      sa[k][c] = static_cast<float>(1.0 / (255.0 * s.std[c]));
      sh[k][c] = static_cast<float>(-static_cast<double>(s.mean[c]) / s.std[c]);
    }
  scale_ = scale.view({K, 1, C, 1, 1}).to(device);
  shift_ = shift.view({K, 1, C, 1, 1}).to(device);

  auto rows = torch::empty({kAugmentCodes, height_}, torch::kInt64);
  auto cols = torch::empty({kAugmentCodes, width_}, torch::kInt64);
  auto r = rows.accessor<std::int64_t, 2>();
  auto c = cols.accessor<std::int64_t, 2>();
  for (std::int64_t code = 0; code < kAugmentCodes; ++code) {
    const std::int64_t oy = code % 9 - 4, ox = code / 9 % 9 - 4;
    const bool flip = code / 81 != 0;
    // +4: coordinates in the padded image
    for (std::int64_t i = 0; i < height_; ++i) r[code][i] = i + oy + 4;
    for (std::int64_t i = 0; i < width_; ++i) c[code][i] = (flip ? width_ - 1 - i : i) + ox + 4;
  }
  rows_ = rows.to(device);
  channel_ = torch::arange(C, torch::TensorOptions().dtype(torch::kInt64).device(device))
                 .view({1, C, 1, 1});
  cols_ = cols.to(device);
}

Batch DeviceBatcher::make(const torch::Tensor& idx, const torch::Tensor& codes) const {
  const std::int64_t K = idx.size(0), B = idx.size(1), n = K * B;
  const std::int64_t C = channels_, H = height_, W = width_;
  const auto flat = idx.reshape({n});
  const auto code = codes.defined()
                        ? codes.reshape({n})
                        : torch::full({n}, kNoAugment, flat.options());
  // Broadcast indices: image [n,1,1,1], channel [1,C,1,1], row [n,1,H,1], column [n,1,1,W].
  const auto pixels = padded_.index({flat.view({n, 1, 1, 1}), channel_,
                                     rows_.index_select(0, code).view({n, 1, H, 1}),
                                     cols_.index_select(0, code).view({n, 1, 1, W})});
  auto images = torch::addcmul(shift_, pixels.view({K, B, C, H, W}).to(torch::kFloat32), scale_);
  return {images, labels_.index_select(0, flat).view({K, B})};
}

}  // namespace lrtune
