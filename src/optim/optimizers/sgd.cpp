// sgd: PyTorch's SGD with momentum, dampening, Nesterov and L2 weight decay.
#include "optim/builtin_kinds.h"

#include <torch/optim/sgd.h>

namespace lrtune {
namespace {

class Sgd final : public TrainOptimizer {
 public:
  Sgd(std::vector<torch::Tensor> params, const TrainConfig& cfg)
      : cfg_(cfg), opt_(std::move(params), torch::optim::SGDOptions(cfg.lr)) {
    restore_hyper_parameters();
  }
  torch::optim::Optimizer& torch() override { return opt_; }
  void set_lr(double lr) override {
    for (auto& g : opt_.param_groups()) options(g).lr(lr);
  }
  void set_momentum(double momentum) override {
    for (auto& g : opt_.param_groups()) options(g).momentum(momentum);
  }
  void restore_hyper_parameters() override {
    for (auto& g : opt_.param_groups())
      options(g).lr(cfg_.lr).momentum(cfg_.real("momentum")).dampening(cfg_.real("dampening"))
          .nesterov(cfg_.flag("nesterov")).weight_decay(cfg_.weight_decay);
  }

 private:
  static torch::optim::SGDOptions& options(torch::optim::OptimizerParamGroup& g) {
    return static_cast<torch::optim::SGDOptions&>(g.options());
  }
  TrainConfig cfg_;
  torch::optim::SGD opt_;
};

}  // namespace

OptimizerKind sgd_optimizer() {
  KindDecl decl{"optimizer", "sgd", "stochastic gradient descent (PyTorch's torch.optim.SGD)", {},
                {}};
  decl.keys = {
      sgd_momentum_key(),
      {"dampening", KeyType::real, 0.0, "", "SGD dampening (PyTorch semantics)", true,
       in_range(0, 1)},
      {"nesterov", KeyType::boolean, false, "",
       "Nesterov momentum (needs momentum > 0 and dampening 0)", true, {}},
  };
  decl.validate = [](const TrainConfig& cfg, const KeyCheck& check) {
    check.need(!cfg.flag("nesterov") || (cfg.real("momentum") > 0 && cfg.real("dampening") == 0),
               "nesterov", "needs momentum > 0 and dampening = 0 (as in PyTorch)");
  };
  return {decl,
          [](std::vector<torch::Tensor> params, const TrainConfig& cfg) {
            return std::unique_ptr<TrainOptimizer>(new Sgd(std::move(params), cfg));
          },
          /*packs=*/true};
}

}  // namespace lrtune
