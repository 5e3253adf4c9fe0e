// Optimizers: a registry of named kinds, each building a LibTorch optimizer
// over a network's parameters from the configuration keys it declares.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/optim/optimizer.h>
#include <torch/types.h>

#include "core/config.h"

namespace lrtune {

// One run's optimizer: the LibTorch object plus what the trainer changes per step.
class TrainOptimizer {
 public:
  virtual ~TrainOptimizer() = default;
  virtual torch::optim::Optimizer& torch() = 0;
  virtual void set_lr(double lr) = 0;
  // The momentum a schedule asks for at this step (one-cycle). Kinds without
  // a momentum refuse such schedules in their validate(), so this is a no-op there.
  virtual void set_momentum(double) {}
  // LibTorch 1.13 restores state but not hyper-parameters when an optimizer is
  // loaded: the trainer calls this after every checkpoint load.
  virtual void restore_hyper_parameters() = 0;
};

struct OptimizerKind {
  KindDecl decl;  // family "optimizer"
  // Builds over `params` for a validated configuration.
  std::function<std::unique_ptr<TrainOptimizer>(std::vector<torch::Tensor> params,
                                                const TrainConfig& cfg)>
      build;
  // Whether trial packs (model/packed_cnn.h) can train it per copy.
  bool packs = false;
};

// Adds a kind (its keys become configuration keys); std::logic_error when the name is taken.
void register_optimizer(OptimizerKind kind);
// Throws ConfigError for an unknown kind.
const OptimizerKind& optimizer_kind(const std::string& name);
std::unique_ptr<TrainOptimizer> build_optimizer(std::vector<torch::Tensor> params,
                                                const TrainConfig& cfg);

}  // namespace lrtune
