// ResNet-18 in the form usually quoted on CIFAR-10 (He et al. 2016, with the
// CIFAR stem): a 3x3 convolution of 64 channels, no max-pool, four stages of
// two basic blocks (64, 128, 256, 512 channels, the last three halving the
// image), global average pooling and one linear layer. Batch norm after every
// convolution: its running statistics are buffers, checkpointed with the
// weights, and used by eval(). 11,173,962 parameters for 10 classes; any
// image of at least 8x8 pixels (the pooling is global) and any channel count.
#pragma once
#include <vector>

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include "model/network.h"

namespace lrtune {

class BasicBlockImpl : public torch::nn::Module {
 public:
  BasicBlockImpl(std::int64_t in, std::int64_t out, std::int64_t stride);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  torch::nn::Sequential downsample{nullptr};  // 1x1 convolution + batch norm when the shape changes
};
TORCH_MODULE(BasicBlock);

class ResNet18 : public Network {
 public:
  // ConfigError for images under 8x8 pixels or fewer than 2 classes.
  explicit ResNet18(const DataShape& shape = {});
  torch::Tensor forward(torch::Tensor x) override;

 private:
  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
  torch::nn::Linear fc{nullptr};
};

}  // namespace lrtune
