// The schedule registry and the warm-up applied on top of every kind.
#include "optim/schedule.h"

#include <cmath>

#include "core/errors.h"
#include "core/kind_table.h"

namespace lrtune {
namespace {

KindTable<ScheduleKind>& kinds() {
  static KindTable<ScheduleKind> k("schedule");
  return k;
}

class RateFunction final : public Schedule {
 public:
  explicit RateFunction(std::function<double(std::int64_t, std::int64_t)> f) : f_(std::move(f)) {}
  double lr(std::int64_t epoch, std::int64_t step) const override { return f_(epoch, step); }

 private:
  std::function<double(std::int64_t, std::int64_t)> f_;
};

class WarmedUp final : public Schedule {
 public:
  WarmedUp(std::unique_ptr<Schedule> inner, double warmup_steps, std::int64_t steps_per_epoch)
      : inner_(std::move(inner)), warmup_steps_(warmup_steps), steps_per_epoch_(steps_per_epoch) {}

  double lr(std::int64_t epoch, std::int64_t step) const override {
    const double rate = inner_->lr(epoch, step);
    const double global = static_cast<double>(epoch * steps_per_epoch_ + step);
    if (global < warmup_steps_) return rate * (global + 1.0) / std::ceil(warmup_steps_);
    return rate;
  }
  std::optional<double> momentum(std::int64_t epoch, std::int64_t step) const override {
    return inner_->momentum(epoch, step);
  }
  void observe(const EpochMetrics& m) override { inner_->observe(m); }
  nlohmann::json state() const override { return inner_->state(); }
  void load_state(const nlohmann::json& s) override { inner_->load_state(s); }

 private:
  std::unique_ptr<Schedule> inner_;
  double warmup_steps_;
  std::int64_t steps_per_epoch_;
};

}  // namespace

std::unique_ptr<Schedule> rate_function(std::function<double(std::int64_t, std::int64_t)> lr) {
  return std::make_unique<RateFunction>(std::move(lr));
}

void register_schedule(ScheduleKind kind) { kinds().add(std::move(kind)); }

std::unique_ptr<Schedule> make_schedule(const TrainConfig& cfg, const ScheduleContext& ctx) {
  // Kinds count steps as epoch * steps_per_epoch + step, in int64 and in
  // doubles: a run must have no more steps than a double holds exactly.
  constexpr std::int64_t kMaxSteps = std::int64_t{1} << 53;
  if (ctx.steps_per_epoch > 0 && ctx.epochs > kMaxSteps / ctx.steps_per_epoch)
    throw ConfigError("epochs: " + std::to_string(ctx.epochs) + " epochs of " +
                      std::to_string(ctx.steps_per_epoch) +
                      " steps are more steps than a schedule can count (2^53)");
  auto schedule = kinds().get(cfg.schedule).make(cfg, ctx);
  const double warmup_steps = cfg.warmup_epochs * static_cast<double>(ctx.steps_per_epoch);
  if (warmup_steps <= 0) return schedule;
  return std::make_unique<WarmedUp>(std::move(schedule), warmup_steps, ctx.steps_per_epoch);
}

double learning_rate(const TrainConfig& cfg, std::int64_t epoch, std::int64_t step,
                     std::int64_t steps_per_epoch) {
  return make_schedule(cfg, {cfg.epochs, steps_per_epoch})->lr(epoch, step);
}

}  // namespace lrtune
