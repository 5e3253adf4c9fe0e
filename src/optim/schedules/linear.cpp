// linear and polynomial: PyTorch's LinearLR and PolynomialLR, per epoch.
// linear multiplies lr by a factor going linearly from start_factor to
// end_factor over total_iters epochs (start_factor 1, end_factor 0 and
// total_iters = epochs decay it to zero); polynomial multiplies it by
// (1 - min(e, total_iters) / total_iters)^power.
#include "optim/builtin_kinds.h"

#include <algorithm>
#include <cmath>

namespace lrtune {
namespace {

KeySpec total_iters_key() {
  return {"total_iters", KeyType::integer, 5, "epochs",
          "linear, polynomial: epochs over which the factor changes", true, positive()};
}

}  // namespace

ScheduleKind linear_schedule() {
  KindDecl decl{"schedule", "linear",
                "lr times a factor linear from start_factor to end_factor over total_iters epochs",
                {}, {}};
  decl.keys = {
      {"start_factor", KeyType::real, 1.0 / 3.0, "", "linear: factor in the first epoch", true,
       in_range(0, 1, /*lo_open=*/true)},
      {"end_factor", KeyType::real, 1.0, "", "linear: factor from epoch total_iters on", true,
       in_range(0, 1)},
      total_iters_key(),
  };
  return {decl, [](const TrainConfig& cfg, const ScheduleContext&) {
            return rate_function([lr = cfg.lr, from = cfg.real("start_factor"),
                                  to = cfg.real("end_factor"),
                                  total = cfg.integer("total_iters")](std::int64_t epoch,
                                                                      std::int64_t) {
              const double done = static_cast<double>(std::min(epoch, total)) /
                                  static_cast<double>(total);
              return lr * (from + (to - from) * done);
            });
          }};
}

ScheduleKind polynomial_schedule() {
  KindDecl decl{"schedule", "polynomial",
                "lr times (1 - e / total_iters)^power, then 0 (PyTorch's PolynomialLR)", {}, {}};
  decl.keys = {total_iters_key(),
               {"power", KeyType::real, 1.0, "", "polynomial: power of the decay", true,
                in_range(0, 100, /*lo_open=*/true)}};
  return {decl, [](const TrainConfig& cfg, const ScheduleContext&) {
            return rate_function([lr = cfg.lr, total = cfg.integer("total_iters"),
                                  power = cfg.real("power")](std::int64_t epoch, std::int64_t) {
              const double done = static_cast<double>(std::min(epoch, total)) /
                                  static_cast<double>(total);
              return lr * std::pow(1.0 - done, power);
            });
          }};
}

}  // namespace lrtune
