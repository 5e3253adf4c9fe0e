// The common face of every network lrtune trains, and the registry that
// builds them by name: the same shape as optimizers and schedules (a kind
// declares its keys; see core/keys.h).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

#include "core/config.h"
#include "data/dataset.h"

namespace lrtune {

// A classifier: float [B, C, H, W] -> logits [B, classes], for the shape of
// the data set it was built for.
class Network : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(torch::Tensor x) = 0;
};

struct ModelKind {
  KindDecl decl;  // family "model"
  std::function<std::shared_ptr<Network>(const TrainConfig&, const DataShape&)> build;
  // Whether the CPU trainer may keep its weights and batches channels-last
  // (faster convolutions); false for networks that view() their activations.
  bool channels_last = true;
};

// The kind cfg.model names (ConfigError listing the known ones when unknown).
const ModelKind& model_kind(const std::string& name);

// Adds a kind (its keys become configuration keys); std::logic_error when the name is taken.
void register_model(ModelKind kind);
// The shipped networks (model/registry.cpp); later calls do nothing.
void register_builtin_models();

// The registered kinds, in registration order.
std::vector<const ModelKind*> model_kinds();
// The network cfg.model names, for data of `shape` (default: CIFAR-10's,
// 3x32x32 and 10 classes). Throws ConfigError listing the known names when
// cfg.model is unknown, and when the network cannot take that shape.
std::shared_ptr<Network> build_model(const TrainConfig& cfg, const DataShape& shape = {});
// The same with every other key at its default.
std::shared_ptr<Network> build_model(const std::string& name);
bool model_exists(const std::string& name);

std::int64_t parameter_count(const torch::nn::Module& m);

// LibTorch's reason for an error in one line: for TorchScript's interpreter the
// error under its tracebacks ("RuntimeError: ..."), else the first line.
std::string torch_error_line(const std::exception& e);
// When `e` is LibTorch refusing an operation without a deterministic kernel:
// throws ConfigError naming the operation and the `deterministic` key.
// Returns otherwise.
void rethrow_determinism_refusal(const std::exception& e);

}  // namespace lrtune
