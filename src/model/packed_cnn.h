// K copies of the reference CNN trained as one module: grouped convolutions
// (groups = K) and batched matrix products, so K trials cost one set of kernels.
#pragma once
#include <cstdint>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "data/dataset.h"

namespace lrtune {

class ReferenceCnn;

// Parameters are named as in ReferenceCnn ("conv1.weight", "fc1.bias", ...) and
// hold the K copies stacked along dimension 0: conv weights [K*out, in, 3, 3]
// (the layout a grouped convolution wants), conv biases [K*out], linear
// weights [K, out, in], linear biases [K, out]. copy_view() turns any of them
// into [K, <ReferenceCnn's shape>], the form per-copy arithmetic uses.
class PackedCnnImpl : public torch::nn::Module {
 public:
  // K copies of ReferenceCnn(shape): the same layers for any image size,
  // channel count and class count (ConfigError where ReferenceCnn refuses).
  PackedCnnImpl(std::int64_t copies, const DataShape& shape = {}, double dropout = 0.3);
  // CIFAR-10's shape with this dropout probability.
  PackedCnnImpl(std::int64_t copies, double dropout) : PackedCnnImpl(copies, DataShape{}, dropout) {}

  // float [K, B, C, H, W] -> logits [K, B, classes]. Copy k sees only x[k] and
  // its own weights; dropout masks are drawn independently for every element.
  torch::Tensor forward(const torch::Tensor& x);

  std::int64_t copies() const { return copies_; }
  const DataShape& shape() const { return shape_; }
  // Channels-last convolution weights and inputs (faster on the CPU).
  void set_channels_last(bool on);
  bool channels_last() const { return channels_last_; }

  // Copy k's weights <-> a separate ReferenceCnn (same parameter names).
  void load_copy(std::int64_t k, ReferenceCnn& source);
  void store_copy(std::int64_t k, ReferenceCnn& target) const;

 private:
  std::int64_t copies_;
  DataShape shape_;
  std::int64_t flat_;  // fc1's inputs, as ReferenceCnn computes them
  double dropout_;
  bool channels_last_ = false;
  torch::Tensor conv1_w_, conv1_b_, conv2_w_, conv2_b_, conv3_w_, conv3_b_;
  torch::Tensor fc1_w_, fc1_b_, fc2_w_, fc2_b_;
};
TORCH_MODULE(PackedCnn);

// `p` (a packed parameter, its gradient or optimiser state) as [K, ...]: a
// view that splits dimension 0, valid in any memory format.
torch::Tensor copy_view(const torch::Tensor& p, std::int64_t copies);

}  // namespace lrtune
