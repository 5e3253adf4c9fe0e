// Registration of the shipped optimizers and schedules.
#include "optim/builtin_kinds.h"

#include <mutex>

namespace lrtune {

KeySpec decay_gamma_key() {
  return {"gamma", KeyType::real, 0.2, "", "decay factor for multistep, step and exponential",
          true, in_range(0, 1, /*lo_open=*/true)};
}

KeySpec sgd_momentum_key() {
  return {"momentum", KeyType::real, 0.0, "", "momentum (sgd, rmsprop), 0 = off", true,
          in_range(0, 1, false, /*hi_open=*/true)};
}

KeySpec adaptive_eps_key() {
  return {"eps", KeyType::real, 1e-8, "", "adam, adamw, rmsprop: added to the denominator",
          true, in_range(0, 1, /*lo_open=*/true)};
}

KeySpec cosine_min_lr_key() {
  return {"min_lr", KeyType::real, 0.0, "", "cosine, cosine_restarts, plateau: the lowest rate",
          true, at_least(0)};
}

KeySpec cycle_momentum_key() {
  return {"cycle_momentum", KeyType::boolean, true, "",
          "onecycle, cyclic: cycle the momentum inversely to the rate", true, {}};
}

void register_builtin_optim_kinds() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_optimizer(sgd_optimizer());
    register_optimizer(adam_optimizer());
    register_optimizer(adamw_optimizer());
    register_optimizer(rmsprop_optimizer());
    register_schedule(constant_schedule());
    register_schedule(multistep_schedule());
    register_schedule(step_schedule());
    register_schedule(exponential_schedule());
    register_schedule(cosine_schedule());
    register_schedule(onecycle_schedule());
    register_schedule(cosine_restarts_schedule());
    register_schedule(linear_schedule());
    register_schedule(polynomial_schedule());
    register_schedule(cyclic_schedule());
    register_schedule(plateau_schedule());
    register_schedule(piecewise_schedule());
  });
}

}  // namespace lrtune
