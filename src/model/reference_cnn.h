// The reference study's network: three conv/ReLU/max-pool stages (16, 32, 64
// channels), dropout 0.3, fully connected 64*(H/8)*(W/8)->500->classes. For
// CIFAR-10 (3x32x32, 10 classes): 1024->500->10, 541,094 parameters.
#pragma once
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include "model/network.h"

namespace lrtune {

// Inverted dropout, as torch::dropout (zero with probability p, scale the rest
// by 1/(1-p)), with the mask drawn from a counter-based hash of one 64-bit draw
// from LibTorch's default generator: torch::manual_seed fixes it, the thread
// count does not change it, and on the CPU it costs a fraction of
// torch::dropout's one-element-at-a-time generator. Other devices use
// torch::dropout. Identity when !train or p == 0.
torch::Tensor hashed_dropout(const torch::Tensor& x, double p, bool train);

class ReferenceCnn : public Network {
 public:
  // For data of `shape`; ConfigError for images under 8x8 pixels (three 2x2 poolings).
  explicit ReferenceCnn(const DataShape& shape = {}, double dropout = 0.3);
  // CIFAR-10's shape with this dropout probability.
  explicit ReferenceCnn(double dropout) : ReferenceCnn(DataShape{}, dropout) {}
  torch::Tensor forward(torch::Tensor x) override;

  // fc1's inputs for data of `shape`, 64 * (H/8) * (W/8); the ConfigError of
  // the constructor for a shape it cannot take.
  static std::int64_t flat_features(const DataShape& shape);

 private:
  // Evaluation on the CPU without gradients: the convolution stages in
  // oneDNN's own blocked layout (no max-pool indices, no layout changes
  // between layers); the same logits as forward() within float32 rounding.
  torch::Tensor forward_mkldnn_eval(const torch::Tensor& x);

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::nn::Dropout dropout{nullptr};
  std::int64_t flat_ = 0;  // fc1's inputs: 64 * (H/8) * (W/8)
};

}  // namespace lrtune
