// Learning-rate schedules as pure functions of (epoch, step): a resumed run
// gets exactly the rate an uninterrupted one would.
#pragma once
#include <cstdint>

#include "core/config.h"

namespace lrtune {

// The rate for step `step` (0-based) of epoch `epoch` (0-based), with
// `steps_per_epoch` steps in every epoch. Epoch e is decayed by every
// milestone m <= e (milestone 50 = the 51st epoch onward, as PyTorch's
// MultiStepLR stepped once per epoch). Warm-up, when on, ramps linearly per
// step from lr/W to lr over the first W = warmup_epochs * steps_per_epoch
// steps, and the chosen schedule then runs on its own epoch count.
double learning_rate(const TrainConfig& cfg, std::int64_t epoch, std::int64_t step,
                     std::int64_t steps_per_epoch);

}  // namespace lrtune
