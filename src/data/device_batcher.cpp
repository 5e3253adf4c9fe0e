// DeviceBatcher: one advanced-indexing gather does crop, flip and selection.
#include "data/device_batcher.h"

#include <torch/torch.h>

namespace lrtune {

DeviceBatcher::DeviceBatcher(const LabelledImages& source, const std::vector<ChannelStats>& stats,
                             const torch::Device& device)
    : device_(device) {
  namespace F = torch::nn::functional;
  padded_ = F::pad(source.images.contiguous(), F::PadFuncOptions({4, 4, 4, 4})).to(device);
  labels_ = source.labels.to(device);

  const auto K = static_cast<std::int64_t>(stats.size());
  auto scale = torch::empty({K, 3});
  auto shift = torch::empty({K, 3});
  auto sa = scale.accessor<float, 2>();
  auto sh = shift.accessor<float, 2>();
  for (std::int64_t k = 0; k < K; ++k)
    for (int c = 0; c < 3; ++c) {
      // BatchMaker's (v / 255 - mean) / std as v * scale + shift.
      const auto& s = stats[static_cast<std::size_t>(k)];
      sa[k][c] = static_cast<float>(1.0 / (255.0 * s.std[c]));
      sh[k][c] = static_cast<float>(-static_cast<double>(s.mean[c]) / s.std[c]);
    }
  scale_ = scale.view({K, 1, 3, 1, 1}).to(device);
  shift_ = shift.view({K, 1, 3, 1, 1}).to(device);

  auto rows = torch::empty({kAugmentCodes, 32}, torch::kInt64);
  auto cols = torch::empty({kAugmentCodes, 32}, torch::kInt64);
  auto r = rows.accessor<std::int64_t, 2>();
  auto c = cols.accessor<std::int64_t, 2>();
  for (std::int64_t code = 0; code < kAugmentCodes; ++code) {
    const std::int64_t oy = code % 9 - 4, ox = code / 9 % 9 - 4;
    const bool flip = code / 81 != 0;
    for (std::int64_t i = 0; i < 32; ++i) {
      r[code][i] = i + oy + 4;  // +4: coordinates in the padded image
      c[code][i] = (flip ? 31 - i : i) + ox + 4;
    }
  }
  rows_ = rows.to(device);
  channel_ = torch::arange(3, torch::TensorOptions().dtype(torch::kInt64).device(device))
                 .view({1, 3, 1, 1});
  cols_ = cols.to(device);
}

Batch DeviceBatcher::make(const torch::Tensor& idx, const torch::Tensor& codes) const {
  const std::int64_t K = idx.size(0), B = idx.size(1), n = K * B;
  const auto flat = idx.reshape({n});
  const auto code = codes.defined()
                        ? codes.reshape({n})
                        : torch::full({n}, kNoAugment, flat.options());
  // Broadcast indices: image [n,1,1,1], channel [1,3,1,1], row [n,1,32,1], column [n,1,1,32].
  const auto pixels = padded_.index({flat.view({n, 1, 1, 1}), channel_,
                                     rows_.index_select(0, code).view({n, 1, 32, 1}),
                                     cols_.index_select(0, code).view({n, 1, 1, 32})});
  auto images = torch::addcmul(shift_, pixels.view({K, B, 3, 32, 32}).to(torch::kFloat32), scale_);
  return {images, labels_.index_select(0, flat).view({K, B})};
}

}  // namespace lrtune
