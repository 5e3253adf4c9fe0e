// Layers and forward pass of the reference network.
#include "model/reference_cnn.h"

#include <torch/torch.h>

namespace lrtune {
namespace nn = torch::nn;

ReferenceCnn::ReferenceCnn(double p) {
  auto conv = [](int in, int out) { return nn::Conv2dOptions(in, out, /*kernel_size=*/3).padding(1); };
  conv1 = register_module("conv1", nn::Conv2d(conv(3, 16)));
  conv2 = register_module("conv2", nn::Conv2d(conv(16, 32)));
  conv3 = register_module("conv3", nn::Conv2d(conv(32, 64)));
  fc1 = register_module("fc1", nn::Linear(4 * 4 * 64, 500));
  fc2 = register_module("fc2", nn::Linear(500, 10));
  dropout = register_module("dropout", nn::Dropout(p));
}

torch::Tensor ReferenceCnn::forward(torch::Tensor x) {
  namespace F = torch::nn::functional;
  x = torch::max_pool2d(torch::relu(conv1->forward(x)), /*kernel_size=*/2);
  x = torch::max_pool2d(torch::relu(conv2->forward(x)), 2);
  x = torch::max_pool2d(torch::relu(conv3->forward(x)), 2);
  // reshape, not view: the input may be channels-last.
  x = dropout->forward(x.reshape({x.size(0), 64 * 4 * 4}));
  x = dropout->forward(torch::relu(fc1->forward(x)));
  return fc2->forward(x);
}

}  // namespace lrtune
