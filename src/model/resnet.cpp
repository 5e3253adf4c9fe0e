// ResNet-18, CIFAR variant: basic blocks with batch norm, global average pooling.
#include "model/resnet.h"

#include <string>

#include <torch/torch.h>

#include "core/errors.h"

namespace lrtune {
namespace nn = torch::nn;
namespace {

nn::Conv2d conv(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, kernel)
                        .stride(stride)
                        .padding(kernel / 2)
                        .bias(false));  // batch norm follows: a bias would be undone
}

// Two basic blocks of `out` channels; the first takes `in` channels at `stride`.
nn::Sequential stage(std::int64_t in, std::int64_t out, std::int64_t stride) {
  return nn::Sequential(BasicBlock(in, out, stride), BasicBlock(out, out, 1));
}

}  // namespace

BasicBlockImpl::BasicBlockImpl(std::int64_t in, std::int64_t out, std::int64_t stride) {
  conv1 = register_module("conv1", conv(in, out, 3, stride));
  bn1 = register_module("bn1", nn::BatchNorm2d(out));
  conv2 = register_module("conv2", conv(out, out, 3, 1));
  bn2 = register_module("bn2", nn::BatchNorm2d(out));
  if (stride != 1 || in != out)
    downsample = register_module("downsample", nn::Sequential(conv(in, out, 1, stride), nn::BatchNorm2d(out)));
}

torch::Tensor BasicBlockImpl::forward(const torch::Tensor& x) {
  auto y = torch::relu(bn1->forward(conv1->forward(x)));
  y = bn2->forward(conv2->forward(y));
  y += downsample ? downsample->forward(x) : x;
  return torch::relu(y);
}

ResNet18::ResNet18(const DataShape& shape) {
  if (shape.height < 8 || shape.width < 8 || shape.channels < 1 || shape.classes < 2)
    throw ConfigError("model resnet18: needs images of at least 8x8 pixels and 2 classes; the "
                      "data set has " + shape.text());
  conv1 = register_module("conv1", conv(shape.channels, 64, 3, 1));
  bn1 = register_module("bn1", nn::BatchNorm2d(64));
  layer1 = register_module("layer1", stage(64, 64, 1));
  layer2 = register_module("layer2", stage(64, 128, 2));
  layer3 = register_module("layer3", stage(128, 256, 2));
  layer4 = register_module("layer4", stage(256, 512, 2));
  fc = register_module("fc", nn::Linear(512, shape.classes));
}

torch::Tensor ResNet18::forward(torch::Tensor x) {
  x = torch::relu(bn1->forward(conv1->forward(x)));
  x = layer4->forward(layer3->forward(layer2->forward(layer1->forward(x))));
  // Global average pooling: [B, 512, h, w] -> [B, 512] for any image size.
  x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
  return fc->forward(x);
}

}  // namespace lrtune
