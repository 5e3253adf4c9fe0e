// The schedule formulas.
#include "optim/schedule.h"

#include <cmath>

namespace lrtune {

double learning_rate(const TrainConfig& cfg, std::int64_t epoch, std::int64_t step,
                     std::int64_t steps_per_epoch) {
  const double base = cfg.lr;
  double lr = base;
  if (cfg.schedule == "multistep") {
    for (auto m : cfg.milestones)
      if (epoch >= m) lr *= cfg.gamma;
  } else if (cfg.schedule == "step") {
    lr = base * std::pow(cfg.gamma, static_cast<double>(epoch / cfg.step_size));
  } else if (cfg.schedule == "exponential") {
    lr = base * std::pow(cfg.gamma, static_cast<double>(epoch));
  } else if (cfg.schedule == "cosine") {
    // Smooth per step from lr at the first step to min_lr at the end of training.
    const double total = static_cast<double>(cfg.epochs * steps_per_epoch);
    const double t = static_cast<double>(epoch * steps_per_epoch + step);
    lr = cfg.min_lr + (base - cfg.min_lr) * 0.5 * (1.0 + std::cos(M_PI * t / total));
  }
  const double warmup_steps = cfg.warmup_epochs * static_cast<double>(steps_per_epoch);
  const double global = static_cast<double>(epoch * steps_per_epoch + step);
  if (warmup_steps > 0 && global < warmup_steps) lr *= (global + 1.0) / std::ceil(warmup_steps);
  return lr;
}

}  // namespace lrtune
