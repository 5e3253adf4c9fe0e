// The common face of every network lrtune trains, and the registry that
// builds them by name.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

namespace lrtune {

// A classifier: float [B, 3, 32, 32] -> logits [B, 10].
class Network : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(torch::Tensor x) = 0;
};

struct ModelEntry {
  std::string name;
  std::string description;
  std::function<std::shared_ptr<Network>()> build;
};

const std::vector<ModelEntry>& model_registry();
// Throws ConfigError listing the known names when `name` is unknown.
std::shared_ptr<Network> build_model(const std::string& name);
bool model_exists(const std::string& name);

std::int64_t parameter_count(const torch::nn::Module& m);

}  // namespace lrtune
