// Registration of the shipped optimizers and schedules.
#include "optim/builtin_kinds.h"

#include <mutex>

namespace lrtune {

KeySpec decay_gamma_key() {
  return {"gamma", KeyType::real, 0.2, "", "decay factor for multistep, step and exponential",
          true, in_range(0, 1, /*lo_open=*/true)};
}

void register_builtin_optim_kinds() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_optimizer(sgd_optimizer());
    register_schedule(constant_schedule());
    register_schedule(multistep_schedule());
    register_schedule(step_schedule());
    register_schedule(exponential_schedule());
    register_schedule(cosine_schedule());
  });
}

}  // namespace lrtune
