// The model registry and the networks lrtune ships.
#include <mutex>

#include <torch/torch.h>

#include "core/errors.h"
#include "core/kind_table.h"
#include "model/network.h"
#include "model/reference_cnn.h"
#include "model/resnet.h"
#include "model/torchscript.h"

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
    register_model(torchscript_model());
  });
}

std::vector<const ModelKind*> model_kinds() {
  std::vector<const ModelKind*> out;
  for (const auto& k : kinds().all()) out.push_back(&k);
  return out;
}

const ModelKind& model_kind(const std::string& name) { return kinds().get(name); }

bool model_exists(const std::string& name) { return kinds().find(name) != nullptr; }

std::shared_ptr<Network> build_model(const TrainConfig& cfg, const DataShape& shape) {
  return kinds().get(cfg.model).build(cfg, shape);
}

std::shared_ptr<Network> build_model(const std::string& name) {
  TrainConfig cfg;
  cfg.model = name;
  return build_model(cfg);
}

std::string torch_error_line(const std::exception& e) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
  std::string what = c10_error ? c10_error->what_without_backtrace() : e.what();
  const std::string mark = "RuntimeError: ";
  if (const auto at = what.rfind("\n" + mark); at != std::string::npos) what.erase(0, at + 1 + mark.size());
  if (const auto nl = what.find('\n'); nl != std::string::npos) what.resize(nl);
  return what;
}

void rethrow_determinism_refusal(const std::exception& e) {
  const std::string line = torch_error_line(e);
  const auto at = line.find(" does not have a deterministic implementation");
  if (at == std::string::npos) return;
  throw ConfigError(line.substr(0, at) +
                    " has no deterministic implementation, and deterministic = true (the default) "
                    "refuses it: set deterministic = false to allow it (the run then may not repeat "
                    "exactly, nor resume to an uninterrupted run's numbers)");
}

std::int64_t parameter_count(const torch::nn::Module& m) {
  std::int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

}  // namespace lrtune
