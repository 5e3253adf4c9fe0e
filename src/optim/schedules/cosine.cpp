// cosine: smooth per step from lr at the first step to min_lr at the end of
// training (PyTorch's CosineAnnealingLR with T_max = all steps).
#include "optim/builtin_kinds.h"

#include <cmath>

namespace lrtune {

ScheduleKind cosine_schedule() {
  KindDecl decl{"schedule", "cosine", "cosine annealing per step from lr to min_lr", {}, {}};
  decl.keys = {cosine_min_lr_key()};
  decl.validate = [](const TrainConfig& cfg, const KeyCheck& check) {
    check.need(cfg.real("min_lr") <= cfg.lr, "min_lr", "must be in [0, lr]");
  };
  return {decl, [](const TrainConfig& cfg, const ScheduleContext& ctx) {
            const double total = static_cast<double>(ctx.epochs * ctx.steps_per_epoch);
            return rate_function([lr = cfg.lr, min_lr = cfg.real("min_lr"), total,
                                  spe = ctx.steps_per_epoch](std::int64_t epoch, std::int64_t step) {
              const double t = static_cast<double>(epoch * spe + step);
              return min_lr + (lr - min_lr) * 0.5 * (1.0 + std::cos(M_PI * t / total));
            });
          }};
}

}  // namespace lrtune
