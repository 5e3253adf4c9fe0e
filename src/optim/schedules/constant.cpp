// constant: the base rate at every step.
#include "optim/builtin_kinds.h"

namespace lrtune {

ScheduleKind constant_schedule() {
  return {{"schedule", "constant", "the base rate lr at every step", {}, {}},
          [](const TrainConfig& cfg, const ScheduleContext&) {
            return rate_function([lr = cfg.lr](std::int64_t, std::int64_t) { return lr; });
          }};
}

}  // namespace lrtune
