// The reference study's network: three conv/ReLU/max-pool stages, dropout 0.3,
// 1024->500->10. 541,094 parameters.
#pragma once
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include "model/network.h"

namespace lrtune {

class ReferenceCnn : public Network {
 public:
  explicit ReferenceCnn(double dropout = 0.3);
  torch::Tensor forward(torch::Tensor x) override;

 private:
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::nn::Dropout dropout{nullptr};
};

}  // namespace lrtune
