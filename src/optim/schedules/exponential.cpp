// exponential: lr times gamma^epoch (PyTorch's ExponentialLR per epoch).
#include "optim/builtin_kinds.h"

#include <cmath>

namespace lrtune {

ScheduleKind exponential_schedule() {
  KindDecl decl{"schedule", "exponential", "lr times gamma^epoch", {decay_gamma_key()}, {}};
  return {decl, [](const TrainConfig& cfg, const ScheduleContext&) {
            return rate_function(
                [lr = cfg.lr, gamma = cfg.real("gamma")](std::int64_t epoch, std::int64_t) {
                  return lr * std::pow(gamma, static_cast<double>(epoch));
                });
          }};
}

}  // namespace lrtune
