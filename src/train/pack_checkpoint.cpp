// One copy <-> ReferenceCnn + torch::optim::SGD, then train/checkpoint.h does the file.
#include "train/pack_checkpoint.h"

#include <sstream>
#include <type_traits>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "model/reference_cnn.h"
#include "train/checkpoint.h"

namespace lrtune {
namespace {

// The optimiser's state is keyed by the parameter's TensorImpl: a string of the
// pointer in LibTorch 1.x, the pointer itself in 2.x.
template <typename Map>
typename Map::key_type state_key(const Map&, const torch::Tensor& p) {
  using Key = typename Map::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream os;  // what c10::guts::to_string writes
    os << p.unsafeGetTensorImpl();
    return os.str();
  } else {
    return static_cast<Key>(p.unsafeGetTensorImpl());
  }
}

torch::optim::SGDOptions sgd_options(const TrainConfig& cfg) {
  return torch::optim::SGDOptions(cfg.lr).momentum(cfg.real("momentum"))
      .dampening(cfg.real("dampening")).nesterov(cfg.flag("nesterov"))
      .weight_decay(cfg.weight_decay);
}

// The packed parameter index of each of the single model's parameters.
std::vector<std::size_t> packed_index(const PackedCnn& model, const ReferenceCnn& single) {
  const auto names = model->named_parameters().keys();
  std::vector<std::size_t> out;
  for (const auto& item : single.named_parameters())
    out.push_back(static_cast<std::size_t>(
        std::find(names.begin(), names.end(), item.key()) - names.begin()));
  return out;
}

}  // namespace

void save_copy_checkpoint(const std::string& path, const PackedCnn& model, PackedSgd& optimizer,
                          std::int64_t k, const TrainConfig& cfg, std::int64_t epoch) {
  ReferenceCnn single(model->shape());
  single.to(model->parameters().front().device());
  model->store_copy(k, single);
  torch::optim::SGD sgd(single.parameters(), sgd_options(cfg));
  const bool has_momentum = cfg.real("momentum") != 0 && optimizer.uses_momentum() &&
                            optimizer.started()[k].item<bool>();
  if (has_momentum) {
    const auto params = single.parameters();
    const auto index = packed_index(model, single);
    for (std::size_t i = 0; i < params.size(); ++i) {
      const auto& buf = optimizer.buffers()[index[i]];
      auto state = std::make_unique<torch::optim::SGDParamState>();
      state->momentum_buffer(copy_view(buf, optimizer.copies())[k].reshape(params[i].sizes()).clone());
      sgd.state()[state_key(sgd.state(), params[i])] = std::move(state);
    }
  }
  save_checkpoint(path, single, sgd, epoch, cfg);
}

std::optional<std::int64_t> load_copy_checkpoint(const std::string& path, PackedCnn& model,
                                                 PackedSgd& optimizer, std::int64_t k,
                                                 const TrainConfig& cfg,
                                                 const torch::Device& device) {
  ReferenceCnn single(model->shape());
  single.to(device);
  torch::optim::SGD sgd(single.parameters(), sgd_options(cfg));
  const auto loaded = load_checkpoint(path, single, sgd, cfg, device);
  if (!loaded) return std::nullopt;
  const std::optional<std::int64_t> epoch = loaded->epoch;
  model->load_copy(k, single);
  if (!optimizer.uses_momentum()) return epoch;
  torch::NoGradGuard no_grad;
  const auto params = single.parameters();
  const auto index = packed_index(model, single);
  bool started = false;
  for (std::size_t i = 0; i < params.size(); ++i) {
    auto slot = copy_view(optimizer.buffers()[index[i]], optimizer.copies())[k];
    const auto found = sgd.state().find(state_key(sgd.state(), params[i]));
    if (found == sgd.state().end()) {
      slot.zero_();
      continue;
    }
    const auto& buf = static_cast<torch::optim::SGDParamState&>(*found->second).momentum_buffer();
    slot.copy_(buf.reshape(slot.sizes()));
    started = true;
  }
  optimizer.started()[k].fill_(started);
  return epoch;
}

}  // namespace lrtune
