// The model registry and the networks lrtune ships.
#include <mutex>

#include <torch/torch.h>

#include "core/kind_table.h"
#include "model/network.h"
#include "model/reference_cnn.h"
#include "model/resnet.h"

namespace lrtune {
namespace {

KindTable<ModelKind>& kinds() {
  static KindTable<ModelKind> k("model");
  return k;
}

}  // namespace

void register_model(ModelKind kind) { kinds().add(std::move(kind)); }

void register_builtin_models() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_model({{"model", "reference_cnn",
                     "the reference study's CNN: 3 conv stages (16/32/64), dropout 0.3, fc 500",
                     {}, {}},
                    [](const TrainConfig&, const DataShape& shape) {
                      return std::make_shared<ReferenceCnn>(shape, 0.3);
                    }});
    register_model({{"model", "resnet18",
                     "ResNet-18, CIFAR variant (3x3 stem, no max-pool, batch norm, global average "
                     "pooling): 11.2 M parameters; for GPUs, short tests on a CPU",
                     {}, {}},
                    [](const TrainConfig&, const DataShape& shape) {
                      return std::make_shared<ResNet18>(shape);
                    }});
  });
}

std::vector<const ModelKind*> model_kinds() {
  std::vector<const ModelKind*> out;
  for (const auto& k : kinds().all()) out.push_back(&k);
  return out;
}

bool model_exists(const std::string& name) { return kinds().find(name) != nullptr; }

std::shared_ptr<Network> build_model(const TrainConfig& cfg, const DataShape& shape) {
  return kinds().get(cfg.model).build(cfg, shape);
}

std::shared_ptr<Network> build_model(const std::string& name) {
  TrainConfig cfg;
  cfg.model = name;
  return build_model(cfg);
}

std::int64_t parameter_count(const torch::nn::Module& m) {
  std::int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

}  // namespace lrtune
