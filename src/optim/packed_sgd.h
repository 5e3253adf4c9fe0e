// PyTorch's SGD (momentum, dampening, Nesterov, weight decay) on packed
// parameters, each copy with its own hyper-parameters: one set of element-wise
// kernels per parameter for all copies, coefficients shaped [K, 1, ...].
#pragma once
#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace lrtune {

struct SgdSettings {
  double momentum = 0;
  double dampening = 0;
  bool nesterov = false;
  double weight_decay = 0;
};

class PackedSgd {
 public:
  // `params` are packed parameters (dimension 0 = copies x rows, see
  // model/packed_cnn.h); `settings` has one entry per copy.
  PackedSgd(std::vector<torch::Tensor> params, std::vector<SgdSettings> settings);

  // One step with learning rates `lr` (float [K], on the parameters' device).
  // Only copies with `active` (bool [K]) change: the others keep parameters and
  // momentum, and their gradients are ignored even when they are NaN. For each
  // active copy this is torch::optim::SGD::step with that copy's settings:
  //   d = g + wd*p;  b = d on the copy's first step, else mu*b + (1-dampening)*d;
  //   p -= lr * (nesterov ? d + mu*b : (mu > 0 ? b : d)).
  void step(const torch::Tensor& lr, const torch::Tensor& active);

  // Drops the gradients (as zero_grad(set_to_none) does): backward then
  // writes fresh ones instead of adding to old.
  void zero_grad();

  std::int64_t copies() const { return static_cast<std::int64_t>(settings_.size()); }
  const std::vector<torch::Tensor>& params() const { return params_; }
  const std::vector<SgdSettings>& settings() const { return settings_; }
  bool uses_momentum() const { return any_momentum_; }

  // Momentum buffers, one per parameter, shaped like it (zeros until used), and
  // whether each copy's buffers hold momentum yet (bool [K]). Checkpoints read
  // and write these through copy_view(buffer, K)[k].
  const std::vector<torch::Tensor>& buffers() const { return buffers_; }
  torch::Tensor& started() { return started_; }

 private:
  torch::Tensor per_copy(const std::vector<double>& v) const;  // float [K] on the device

  std::vector<torch::Tensor> params_;
  std::vector<SgdSettings> settings_;
  std::vector<torch::Tensor> buffers_;
  torch::Tensor started_;                      // bool [K]
  torch::Tensor zero_;                         // a 0-d zero on the device
  torch::Tensor momentum_, one_minus_damp_, weight_decay_, nesterov_;  // [K]
  bool any_momentum_ = false, any_weight_decay_ = false, any_nesterov_ = false;
};

}  // namespace lrtune
