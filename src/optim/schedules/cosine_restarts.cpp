// cosine_restarts: cosine annealing with warm restarts (PyTorch's
// CosineAnnealingWarmRestarts, stepped per step at fractional epochs as its
// documentation shows): from lr to min_lr over t_0 epochs, then again over
// t_0 * t_mult, t_0 * t_mult^2, ... epochs.
#include "optim/builtin_kinds.h"

#include <cmath>

namespace lrtune {

ScheduleKind cosine_restarts_schedule() {
  KindDecl decl{"schedule", "cosine_restarts",
                "cosine from lr to min_lr, restarting after t_0, t_0*t_mult, ... epochs", {}, {}};
  decl.keys = {
      cosine_min_lr_key(),
      {"t_0", KeyType::integer, 10, "epochs", "cosine_restarts: length of the first cycle", true,
       positive()},
      {"t_mult", KeyType::integer, 1, "", "cosine_restarts: each cycle is t_mult times longer",
       true, in_range(1, 1000)},
  };
  decl.validate = [](const TrainConfig& cfg, const KeyCheck& check) {
    check.need(cfg.real("min_lr") <= cfg.lr, "min_lr", "must be in [0, lr]");
  };
  return {decl, [](const TrainConfig& cfg, const ScheduleContext& ctx) {
            return rate_function([lr = cfg.lr, min_lr = cfg.real("min_lr"),
                                  t0 = static_cast<double>(cfg.integer("t_0")),
                                  mult = static_cast<double>(cfg.integer("t_mult")),
                                  spe = ctx.steps_per_epoch](std::int64_t epoch, std::int64_t step) {
              const double e = static_cast<double>(epoch) +
                               static_cast<double>(step) / static_cast<double>(spe);
              double t_cur = std::fmod(e, t0), t_i = t0;
              if (mult > 1) {
                const double n = std::floor(std::log(e / t0 * (mult - 1) + 1) / std::log(mult));
                t_cur = e - t0 * (std::pow(mult, n) - 1) / (mult - 1);
                t_i = t0 * std::pow(mult, n);
              }
              return min_lr + (lr - min_lr) * (1 + std::cos(M_PI * t_cur / t_i)) / 2;
            });
          }};
}

}  // namespace lrtune
