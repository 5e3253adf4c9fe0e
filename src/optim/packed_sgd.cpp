// PackedSgd: per-copy coefficient vectors broadcast over each parameter's copies.
#include "optim/packed_sgd.h"

#include <torch/torch.h>

#include "model/packed_cnn.h"

namespace lrtune {
namespace {

// coef [K] -> [K, 1, ..., 1] with `dims` dimensions, to broadcast over copy_view(p).
torch::Tensor shaped(const torch::Tensor& coef, std::int64_t dims) {
  std::vector<std::int64_t> shape(static_cast<std::size_t>(dims), 1);
  shape[0] = coef.size(0);
  return coef.view(shape);
}

}  // namespace

PackedSgd::PackedSgd(std::vector<torch::Tensor> params, std::vector<SgdSettings> settings)
    : params_(std::move(params)), settings_(std::move(settings)) {
  TORCH_CHECK(!params_.empty() && !settings_.empty(), "PackedSgd needs parameters and copies");
  std::vector<double> mu, damp, wd, nest;
  for (const auto& s : settings_) {
    mu.push_back(s.momentum);
    // Without momentum PyTorch steps by d itself: dampening does not apply.
    damp.push_back(s.momentum != 0 ? 1.0 - s.dampening : 1.0);
    wd.push_back(s.weight_decay);
    nest.push_back(s.nesterov ? 1.0 : 0.0);
    any_momentum_ = any_momentum_ || s.momentum != 0;
    any_weight_decay_ = any_weight_decay_ || s.weight_decay != 0;
    any_nesterov_ = any_nesterov_ || s.nesterov;
  }
  momentum_ = per_copy(mu);
  one_minus_damp_ = per_copy(damp);
  weight_decay_ = per_copy(wd);
  nesterov_ = per_copy(nest).to(torch::kBool);
  started_ = torch::zeros({copies()}, torch::TensorOptions().dtype(torch::kBool)
                                          .device(params_.front().device()));
  zero_ = torch::zeros({}, params_.front().options());
  if (any_momentum_)
    for (const auto& p : params_) buffers_.push_back(torch::zeros_like(p));
}

torch::Tensor PackedSgd::per_copy(const std::vector<double>& v) const {
  return torch::tensor(v, torch::kFloat64)
      .to(params_.front().device(), params_.front().scalar_type());
}

void PackedSgd::zero_grad() {
  for (auto& p : params_) p.mutable_grad() = torch::Tensor();
}

void PackedSgd::step(const torch::Tensor& lr, const torch::Tensor& active) {
  torch::NoGradGuard no_grad;
  const auto K = copies();
  const auto dtype = params_.front().scalar_type();
  const auto act = active.to(dtype);
  const auto neg_lr = -(lr.to(dtype) * act);
  // Inactive copies keep their buffer: b*1 + d*0 (d is finite, its gradient zeroed).
  torch::Tensor keep, take;
  if (any_momentum_) {
    keep = torch::where(active, momentum_ * started_.to(dtype), torch::ones_like(act));
    take = torch::where(active, torch::where(started_, one_minus_damp_, torch::ones_like(act)),
                        torch::zeros_like(act));
  }
  for (std::size_t i = 0; i < params_.size(); ++i) {
    auto p = copy_view(params_[i].data(), K);
    const auto D = p.dim();
    const auto grad = params_[i].grad();
    if (!grad.defined()) continue;
    // where, not a product: a diverged copy's NaN gradient times 0 is still NaN.
    auto d = torch::where(shaped(active, D), copy_view(grad, K), zero_);
    if (any_weight_decay_) d = torch::addcmul(d, shaped(weight_decay_, D), p);
    torch::Tensor update = d;
    if (any_momentum_) {
      auto b = copy_view(buffers_[i], K);
      b.mul_(shaped(keep, D)).addcmul_(d, shaped(take, D));
      // Copies without momentum have keep = 0, take = 1: b is d itself.
      update = any_nesterov_
                   ? torch::where(shaped(nesterov_, D), torch::addcmul(d, shaped(momentum_, D), b), b)
                   : b;
    }
    p.addcmul_(update, shaped(neg_lr, D));
  }
  if (any_momentum_) started_.logical_or_(active);
}

}  // namespace lrtune
