// The optimizers and schedules that ship with lrtune, one file each under
// optimizers/ and schedules/. A new kind is one such file plus one line in
// register_builtin_optim_kinds() (builtin_kinds.cpp).
#pragma once
#include "optim/optimizer.h"
#include "optim/schedule.h"

namespace lrtune {

OptimizerKind sgd_optimizer();
OptimizerKind adam_optimizer();
OptimizerKind adamw_optimizer();
OptimizerKind rmsprop_optimizer();

ScheduleKind constant_schedule();
ScheduleKind multistep_schedule();
ScheduleKind step_schedule();
ScheduleKind exponential_schedule();
ScheduleKind cosine_schedule();
ScheduleKind onecycle_schedule();
ScheduleKind cosine_restarts_schedule();
ScheduleKind linear_schedule();
ScheduleKind polynomial_schedule();
ScheduleKind cyclic_schedule();
ScheduleKind plateau_schedule();
ScheduleKind piecewise_schedule();

// `gamma`, shared by the decaying schedules (one declaration, one default).
KeySpec decay_gamma_key();
// `momentum`, shared by sgd and rmsprop; `eps`, shared by adam, adamw and rmsprop.
KeySpec sgd_momentum_key();
KeySpec adaptive_eps_key();
// `min_lr` (cosine, cosine_restarts, plateau); `cycle_momentum` (onecycle, cyclic).
KeySpec cosine_min_lr_key();
KeySpec cycle_momentum_key();

// Registers every kind above; later calls do nothing.
void register_builtin_optim_kinds();

}  // namespace lrtune
