// rmsprop: PyTorch's RMSprop (smoothing alpha, optional momentum and centring).
#include "optim/builtin_kinds.h"

#include <torch/optim/rmsprop.h>

namespace lrtune {
namespace {

class RmsProp final : public TrainOptimizer {
 public:
  RmsProp(std::vector<torch::Tensor> params, const TrainConfig& cfg)
      : cfg_(cfg), momentum_(cfg.real("momentum")),
        opt_(std::move(params), torch::optim::RMSpropOptions(cfg.lr)) {
    restore_hyper_parameters();
  }
  torch::optim::Optimizer& torch() override { return opt_; }
  void set_lr(double lr) override {
    for (auto& g : opt_.param_groups()) options(g).lr(lr);
  }
  void set_momentum(double momentum) override {
    momentum_ = momentum;
    for (auto& g : opt_.param_groups()) options(g).momentum(momentum_);
  }
  void restore_hyper_parameters() override {
    for (auto& g : opt_.param_groups())
      options(g).lr(cfg_.lr).alpha(cfg_.real("alpha")).eps(cfg_.real("eps"))
          .weight_decay(cfg_.weight_decay).momentum(momentum_).centered(cfg_.flag("centered"));
  }

 private:
  static torch::optim::RMSpropOptions& options(torch::optim::OptimizerParamGroup& g) {
    return static_cast<torch::optim::RMSpropOptions&>(g.options());
  }
  TrainConfig cfg_;
  double momentum_;
  torch::optim::RMSprop opt_;
};

}  // namespace

OptimizerKind rmsprop_optimizer() {
  KindDecl decl{"optimizer", "rmsprop", "RMSprop (PyTorch's torch.optim.RMSprop)", {}, {}};
  decl.keys = {
      {"alpha", KeyType::real, 0.99, "", "rmsprop: decay of the squared gradient's mean", true,
       in_range(0, 1, false, /*hi_open=*/true)},
      adaptive_eps_key(),
      sgd_momentum_key(),
      {"centered", KeyType::boolean, false, "",
       "rmsprop: divide by the gradient's variance instead of its second moment", true, {}},
  };
  return {decl, [](std::vector<torch::Tensor> params, const TrainConfig& cfg) {
            return std::unique_ptr<TrainOptimizer>(new RmsProp(std::move(params), cfg));
          }};
}

}  // namespace lrtune
