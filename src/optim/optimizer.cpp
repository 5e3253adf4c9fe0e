// The optimizer registry.
#include "optim/optimizer.h"

#include <map>

#include "core/errors.h"

namespace lrtune {
namespace {

std::map<std::string, OptimizerKind>& kinds() {
  static std::map<std::string, OptimizerKind> k;
  return k;
}

}  // namespace

void register_optimizer(OptimizerKind kind) {
  kind.decl.family = "optimizer";
  declare_kind(kind.decl);  // throws when the name is taken
  const std::string name = kind.decl.name;
  kinds().emplace(name, std::move(kind));
}

const OptimizerKind& optimizer_kind(const std::string& name) {
  auto it = kinds().find(name);
  if (it == kinds().end())
    throw ConfigError("optimizer: unknown optimizer '" + name +
                      "' (known: " + kind_names("optimizer") + ")");
  return it->second;
}

std::unique_ptr<TrainOptimizer> build_optimizer(std::vector<torch::Tensor> params,
                                                const TrainConfig& cfg) {
  return optimizer_kind(cfg.optimizer).build(std::move(params), cfg);
}

}  // namespace lrtune
