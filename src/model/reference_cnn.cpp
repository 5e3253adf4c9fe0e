// Layers and forward pass of the reference network.
#include "model/reference_cnn.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <mutex>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "core/errors.h"
#include "model/autocast.h"

namespace lrtune {
namespace nn = torch::nn;

namespace {

// Fills m[begin..end) with 0 or `scale`: element i is dropped when a 32-bit
// hash of (seed, i) falls below `threshold`. The hash (two rounds of
// multiply-xorshift, "lowbias32") uses 32-bit lanes so the loop vectorises;
// target_clones adds an AVX2 copy, chosen at load time where the CPU has it.
__attribute__((target_clones("avx2", "default"))) void fill_dropout_mask(
    float* m, std::int64_t begin, std::int64_t end, std::uint64_t seed, std::uint32_t threshold,
    float scale) {
  const auto lo = static_cast<std::uint32_t>(seed), hi = static_cast<std::uint32_t>(seed >> 32);
  for (std::int64_t i = begin; i < end; ++i) {
    std::uint32_t x = static_cast<std::uint32_t>(i) * 0x9E3779B9u + lo;
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    x ^= hi;
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    m[i] = x >= threshold ? scale : 0.0f;
  }
}

// Mask values 0 or 1/(1-p); element i depends only on (seed, i).
torch::Tensor dropout_mask(const torch::Tensor& like, double p, std::uint64_t seed) {
  auto mask = torch::empty(like.sizes(), like.options().dtype(torch::kFloat32).requires_grad(false));
  float* m = mask.data_ptr<float>();
  const auto scale = static_cast<float>(1.0 / (1.0 - p));
  const auto threshold = static_cast<std::uint32_t>(
      std::min(std::llround(p * 4294967296.0), static_cast<long long>(UINT32_MAX)));
  at::parallel_for(0, mask.numel(), /*grain_size=*/16384, [&](std::int64_t begin, std::int64_t end) {
    fill_dropout_mask(m, begin, end, seed, threshold, scale);
  });
  return mask;
}

}  // namespace

torch::Tensor hashed_dropout(const torch::Tensor& x, double p, bool train) {
  if (!train || p <= 0) return x;
  const bool bf16 = x.scalar_type() == torch::kBFloat16;  // under autocast
  if (!x.device().is_cpu() || (x.scalar_type() != torch::kFloat32 && !bf16) || p >= 1)
    return torch::dropout(x, p, train);
  std::uint64_t seed = 0;
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    seed = gen.get<at::CPUGeneratorImpl>()->random64();
  }
  // Autograd sees a product with a constant: the gradient is grad * mask.
  // The same mask in bf16: its values (0 and 1 / (1 - p)) are rounded once.
  return x * (bf16 ? dropout_mask(x, p, seed).to(torch::kBFloat16) : dropout_mask(x, p, seed));
}

std::int64_t ReferenceCnn::flat_features(const DataShape& shape) {
  if (shape.height < 8 || shape.width < 8 || shape.channels < 1 || shape.classes < 2)
    throw ConfigError("model reference_cnn: needs images of at least 8x8 pixels and 2 classes "
                      "(three 2x2 poolings); the data set has " + shape.text());
  return 64 * (shape.height / 2 / 2 / 2) * (shape.width / 2 / 2 / 2);
}

ReferenceCnn::ReferenceCnn(const DataShape& shape, double p) {
  flat_ = flat_features(shape);
  auto conv = [](std::int64_t in, std::int64_t out) {
    return nn::Conv2dOptions(in, out, /*kernel_size=*/3).padding(1);
  };
  conv1 = register_module("conv1", nn::Conv2d(conv(shape.channels, 16)));
  conv2 = register_module("conv2", nn::Conv2d(conv(16, 32)));
  conv3 = register_module("conv3", nn::Conv2d(conv(32, 64)));
  fc1 = register_module("fc1", nn::Linear(flat_, 500));
  fc2 = register_module("fc2", nn::Linear(500, shape.classes));
  dropout = register_module("dropout", nn::Dropout(p));
}

torch::Tensor ReferenceCnn::forward(torch::Tensor x) {
  if (!is_training() && !torch::GradMode::is_enabled() && x.device().is_cpu() &&
      x.scalar_type() == torch::kFloat32 && at::hasMKLDNN() && !cpu_autocast_enabled())
    return forward_mkldnn_eval(x);
  // relu(max_pool(c)) equals max_pool(relu(c)) bit for bit, gradients included
  // (ReLU is monotone and passes no gradient at or below 0), but runs ReLU and
  // its backward on a quarter of the values: 27% less time per training step on
  // the CPU (docs/performance.md). In place: max-pool's backward needs only its
  // input and indices, not its output.
  x = torch::max_pool2d(conv1->forward(x), /*kernel_size=*/2).relu_();
  x = torch::max_pool2d(conv2->forward(x), 2).relu_();
  x = torch::max_pool2d(conv3->forward(x), 2).relu_();
  // reshape, not view: the input may be channels-last. hashed_dropout, not
  // torch::dropout: 9% less time per training step on the CPU.
  const double p = dropout->options.p();
  x = hashed_dropout(x.reshape({x.size(0), flat_}), p, is_training());
  x = hashed_dropout(torch::relu(fc1->forward(x)), p, is_training());
  return fc2->forward(x);
}

torch::Tensor ReferenceCnn::forward_mkldnn_eval(const torch::Tensor& input) {
  auto stage = [](const torch::Tensor& x, nn::Conv2d& conv) {
    // Weights are reordered on every call (a few kB): they change between evaluations.
    auto w = conv->weight.contiguous().to_mkldnn();
    auto y = at::mkldnn_convolution(x, w, conv->bias, /*padding=*/{1, 1}, /*stride=*/{1, 1},
                                    /*dilation=*/{1, 1}, /*groups=*/1);
    return at::mkldnn_max_pool2d(y, /*kernel_size=*/{2, 2}, /*stride=*/{2, 2}).relu_();
  };
  auto x = stage(stage(stage(input.contiguous().to_mkldnn(), conv1), conv2), conv3).to_dense();
  x = torch::relu(fc1->forward(x.reshape({x.size(0), flat_})));
  return fc2->forward(x);
}

}  // namespace lrtune
