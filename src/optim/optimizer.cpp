// The optimizer registry.
#include "optim/optimizer.h"

#include "core/kind_table.h"

namespace lrtune {
namespace {

KindTable<OptimizerKind>& kinds() {
  static KindTable<OptimizerKind> k("optimizer");
  return k;
}

}  // namespace

void register_optimizer(OptimizerKind kind) { kinds().add(std::move(kind)); }

const OptimizerKind& optimizer_kind(const std::string& name) { return kinds().get(name); }

std::unique_ptr<TrainOptimizer> build_optimizer(std::vector<torch::Tensor> params,
                                                const TrainConfig& cfg) {
  return optimizer_kind(cfg.optimizer).build(std::move(params), cfg);
}

}  // namespace lrtune
