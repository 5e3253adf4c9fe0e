// adam and adamw: PyTorch's Adam (L2 weight decay added to the gradient) and
// AdamW (decoupled weight decay, Loshchilov & Hutter), with amsgrad.
#include "optim/builtin_kinds.h"

#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>

namespace lrtune {
namespace {

// Options is torch::optim::AdamOptions or AdamWOptions (the same setters).
template <typename Optim, typename Options>
class AdamFamily final : public TrainOptimizer {
 public:
  AdamFamily(std::vector<torch::Tensor> params, const TrainConfig& cfg)
      : cfg_(cfg), beta1_(cfg.real("beta1")), opt_(std::move(params), Options(cfg.lr)) {
    restore_hyper_parameters();
  }
  torch::optim::Optimizer& torch() override { return opt_; }
  void set_lr(double lr) override {
    for (auto& g : opt_.param_groups()) options(g).lr(lr);
  }
  // A schedule that cycles the momentum (one-cycle) cycles beta1, as PyTorch does.
  void set_momentum(double momentum) override {
    beta1_ = momentum;
    for (auto& g : opt_.param_groups()) options(g).betas({beta1_, cfg_.real("beta2")});
  }
  void restore_hyper_parameters() override {
    for (auto& g : opt_.param_groups())
      options(g).lr(cfg_.lr).betas({beta1_, cfg_.real("beta2")}).eps(cfg_.real("eps"))
          .weight_decay(cfg_.weight_decay).amsgrad(cfg_.flag("amsgrad"));
  }

 private:
  static Options& options(torch::optim::OptimizerParamGroup& g) {
    return static_cast<Options&>(g.options());
  }
  TrainConfig cfg_;
  double beta1_;
  Optim opt_;
};

// The keys Adam and AdamW share (one declaration, one default each).
std::vector<KeySpec> adam_keys() {
  return {
      {"beta1", KeyType::real, 0.9, "", "adam, adamw: decay of the gradient's running mean", true,
       in_range(0, 1, false, /*hi_open=*/true)},
      {"beta2", KeyType::real, 0.999, "", "adam, adamw: decay of the squared gradient's mean",
       true, in_range(0, 1, false, /*hi_open=*/true)},
      adaptive_eps_key(),
      {"amsgrad", KeyType::boolean, false, "", "adam, adamw: keep the maximum second moment (AMSGrad)",
       true, {}},
  };
}

}  // namespace

OptimizerKind adam_optimizer() {
  KindDecl decl{"optimizer", "adam",
                "Adam (PyTorch's torch.optim.Adam; weight_decay is L2, added to the gradient)",
                adam_keys(), {}};
  return {decl, [](std::vector<torch::Tensor> params, const TrainConfig& cfg) {
            return std::unique_ptr<TrainOptimizer>(
                new AdamFamily<torch::optim::Adam, torch::optim::AdamOptions>(std::move(params), cfg));
          }};
}

OptimizerKind adamw_optimizer() {
  KindDecl decl{"optimizer", "adamw",
                "AdamW (PyTorch's torch.optim.AdamW; weight_decay is decoupled from the gradient; "
                "lrtune's weight_decay default is 0, PyTorch's AdamW default 0.01)",
                adam_keys(), {}};
  return {decl, [](std::vector<torch::Tensor> params, const TrainConfig& cfg) {
            return std::unique_ptr<TrainOptimizer>(
                new AdamFamily<torch::optim::AdamW, torch::optim::AdamWOptions>(std::move(params), cfg));
          }};
}

}  // namespace lrtune
