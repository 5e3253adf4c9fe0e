// Names of the networks lrtune can build.
#include <torch/torch.h>

#include "core/errors.h"
#include "model/network.h"
#include "model/reference_cnn.h"

namespace lrtune {

const std::vector<ModelEntry>& model_registry() {
  static const std::vector<ModelEntry> entries = {
      {"reference_cnn", "the reference study's CNN: 3 conv stages (16/32/64), dropout 0.3, fc 500",
       [] { return std::make_shared<ReferenceCnn>(0.3); }},
  };
  return entries;
}

bool model_exists(const std::string& name) {
  for (const auto& e : model_registry())
    if (e.name == name) return true;
  return false;
}

std::shared_ptr<Network> build_model(const std::string& name) {
  std::string known;
  for (const auto& e : model_registry()) {
    if (e.name == name) return e.build();
    known += (known.empty() ? "" : ", ") + e.name;
  }
  throw ConfigError("model: unknown network '" + name + "' (known: " + known + ")");
}

std::int64_t parameter_count(const torch::nn::Module& m) {
  std::int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

}  // namespace lrtune
