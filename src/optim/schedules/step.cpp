// step: lr times gamma every step_size epochs (PyTorch's StepLR per epoch).
#include "optim/builtin_kinds.h"

#include <cmath>

namespace lrtune {

ScheduleKind step_schedule() {
  KindDecl decl{"schedule", "step", "lr times gamma every step_size epochs", {}, {}};
  decl.keys = {{"step_size", KeyType::integer, 30, "epochs", "step: epochs between decays", true,
                positive()},
               decay_gamma_key()};
  return {decl, [](const TrainConfig& cfg, const ScheduleContext&) {
            return rate_function([lr = cfg.lr, size = cfg.integer("step_size"),
                                  gamma = cfg.real("gamma")](std::int64_t epoch, std::int64_t) {
              return lr * std::pow(gamma, static_cast<double>(epoch / size));
            });
          }};
}

}  // namespace lrtune
