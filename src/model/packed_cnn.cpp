// Stacked parameters, the grouped forward pass, and copying single copies in and out.
#include "model/packed_cnn.h"

#include <torch/torch.h>

#include "model/reference_cnn.h"

namespace lrtune {
namespace {

// The reference network's layers: (name, in, out) for the three 3x3 convolutions.
struct ConvShape {
  const char* name;
  std::int64_t in, out;
};
constexpr ConvShape kConvs[] = {{"conv1", 0, 16}, {"conv2", 16, 32}, {"conv3", 32, 64}};
constexpr std::int64_t kHidden = 500;

torch::Tensor conv(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b,
                   std::int64_t groups) {
  return torch::conv2d(x, w, b, /*stride=*/1, /*padding=*/1, /*dilation=*/1, groups);
}

}  // namespace

torch::Tensor copy_view(const torch::Tensor& p, std::int64_t copies) {
  std::vector<std::int64_t> shape = {copies, p.size(0) / copies};
  for (std::int64_t d = 1; d < p.dim(); ++d) shape.push_back(p.size(d));
  return p.view(shape);
}

PackedCnnImpl::PackedCnnImpl(std::int64_t copies, const DataShape& shape, double dropout)
    : copies_(copies), shape_(shape), flat_(ReferenceCnn::flat_features(shape)), dropout_(dropout) {
  TORCH_CHECK(copies > 0, "a pack needs at least one copy");
  const std::int64_t K = copies;
  // Placeholders: every copy's weights come from a ReferenceCnn (load_copy),
  // which keeps initialisation in one place. One child module per layer gives
  // ReferenceCnn's parameter names ("conv1.weight", ...).
  auto layer = [this](const char* name, std::vector<std::int64_t> weight,
                      std::vector<std::int64_t> bias, torch::Tensor& w, torch::Tensor& b) {
    auto m = register_module(name, std::make_shared<torch::nn::Module>());
    w = m->register_parameter("weight", torch::zeros(weight));
    b = m->register_parameter("bias", torch::zeros(bias));
  };
  torch::Tensor* w[] = {&conv1_w_, &conv2_w_, &conv3_w_};
  torch::Tensor* b[] = {&conv1_b_, &conv2_b_, &conv3_b_};
  for (int i = 0; i < 3; ++i) {
    const auto& c = kConvs[i];
    const std::int64_t in = i == 0 ? shape.channels : c.in;
    layer(c.name, {K * c.out, in, 3, 3}, {K * c.out}, *w[i], *b[i]);
  }
  layer("fc1", {K, kHidden, flat_}, {K, kHidden}, fc1_w_, fc1_b_);
  layer("fc2", {K, shape.classes, kHidden}, {K, shape.classes}, fc2_w_, fc2_b_);
}

void PackedCnnImpl::set_channels_last(bool on) {
  channels_last_ = on;
  torch::NoGradGuard no_grad;
  const auto format = on ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  for (auto* w : {&conv1_w_, &conv2_w_, &conv3_w_}) w->set_data(w->data().contiguous(format));
}

torch::Tensor PackedCnnImpl::forward(const torch::Tensor& x) {
  const auto& s = shape_;
  TORCH_CHECK(x.dim() == 5 && x.size(0) == copies_ && x.size(2) == s.channels &&
                  x.size(3) == s.height && x.size(4) == s.width,
              "PackedCnn expects [", copies_, ", B, ", s.channels, ", ", s.height, ", ", s.width,
              "] input, got ", x.sizes());
  const std::int64_t K = copies_, B = x.size(1);
  // [K, B, C, H, W] -> [B, K*C, H, W]: copy k's channels are group k.
  auto h = x.transpose(0, 1).reshape({B, K * s.channels, s.height, s.width});
  if (channels_last_) h = h.contiguous(torch::MemoryFormat::ChannelsLast);
  // relu(max_pool(c)) = max_pool(relu(c)) with a quarter of the ReLU work, as in ReferenceCnn.
  h = torch::max_pool2d(conv(h, conv1_w_, conv1_b_, K), /*kernel_size=*/2).relu_();
  h = torch::max_pool2d(conv(h, conv2_w_, conv2_b_, K), 2).relu_();
  h = torch::max_pool2d(conv(h, conv3_w_, conv3_b_, K), 2).relu_();
  // [B, K*64, H/8, W/8] -> [K, B, flat] in ReferenceCnn's flattening order (c, y, x).
  h = h.reshape({B, K, flat_}).transpose(0, 1);
  // ReferenceCnn's dropout: a pack of one draws the masks a lone run draws.
  h = hashed_dropout(h, dropout_, is_training());
  h = torch::relu(torch::baddbmm(fc1_b_.unsqueeze(1), h, fc1_w_.transpose(1, 2)));
  h = hashed_dropout(h, dropout_, is_training());
  return torch::baddbmm(fc2_b_.unsqueeze(1), h, fc2_w_.transpose(1, 2));
}

void PackedCnnImpl::load_copy(std::int64_t k, ReferenceCnn& source) {
  torch::NoGradGuard no_grad;
  auto mine = named_parameters();
  for (const auto& item : source.named_parameters()) {
    auto slot = copy_view(mine[item.key()], copies_)[k];
    slot.copy_(item.value().reshape(slot.sizes()));
  }
}

void PackedCnnImpl::store_copy(std::int64_t k, ReferenceCnn& target) const {
  torch::NoGradGuard no_grad;
  const auto mine = named_parameters();
  for (auto& item : target.named_parameters()) {
    auto slot = copy_view(mine[item.key()], copies_)[k];
    item.value().copy_(slot.reshape(item.value().sizes()));
  }
}

}  // namespace lrtune
