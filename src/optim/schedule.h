// Learning-rate schedules: a registry of named kinds, each giving the rate as
// a pure function of (epoch, step), so that a resumed run gets exactly the
// rate an uninterrupted one would. Warm-up is applied on top of any kind.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/config.h"
#include "core/metrics.h"

namespace lrtune {

// How long the run is, for kinds that depend on it (cosine, one-cycle).
struct ScheduleContext {
  std::int64_t epochs = 0;
  std::int64_t steps_per_epoch = 0;
};

// One run's schedule. `epoch` and `step` are 0-based; every epoch has
// steps_per_epoch steps.
class Schedule {
 public:
  virtual ~Schedule() = default;
  virtual double lr(std::int64_t epoch, std::int64_t step) const = 0;
  // The optimizer's momentum for this step, for kinds that cycle it
  // (one-cycle); nothing keeps the optimizer's own.
  virtual std::optional<double> momentum(std::int64_t, std::int64_t) const { return std::nullopt; }
  // Kinds whose rates depend on results (reduce-on-plateau) see each finished
  // epoch and keep what they learnt in state(), which checkpoints save and
  // load_state() restores; the rest are stateless.
  virtual void observe(const EpochMetrics&) {}
  virtual nlohmann::json state() const { return nullptr; }
  virtual void load_state(const nlohmann::json&) {}
};

struct ScheduleKind {
  KindDecl decl;  // family "schedule"
  // Builds the schedule of a validated configuration.
  std::function<std::unique_ptr<Schedule>(const TrainConfig&, const ScheduleContext&)> make;
};

// A stateless schedule from its rate function.
std::unique_ptr<Schedule> rate_function(std::function<double(std::int64_t, std::int64_t)> lr);

// Adds a kind (its keys become configuration keys). Throws std::logic_error
// when the name is taken.
void register_schedule(ScheduleKind kind);

// The configuration's schedule with its warm-up (linear per step from lr/W to
// lr over the first W = warmup_epochs * steps_per_epoch steps, the kind's own
// rate multiplied in); throws ConfigError for an unknown kind.
std::unique_ptr<Schedule> make_schedule(const TrainConfig& cfg, const ScheduleContext& ctx);

// One rate of cfg's schedule (tests and tools; training builds the schedule once).
double learning_rate(const TrainConfig& cfg, std::int64_t epoch, std::int64_t step,
                     std::int64_t steps_per_epoch);

}  // namespace lrtune
