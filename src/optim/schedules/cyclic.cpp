// cyclic: PyTorch's CyclicLR per step. The rate goes from lr (the base) up to
// max_lr over step_size_up steps and back over step_size_down; triangular2
// halves the height every cycle, exp_range multiplies it by
// cyclic_gamma^step. The momentum cycles inversely, between
// cyclic_max_momentum and cyclic_base_momentum (cycle_momentum).
#include "optim/builtin_kinds.h"

#include <cmath>

namespace lrtune {
namespace {

class Cyclic final : public Schedule {
 public:
  Cyclic(const TrainConfig& cfg, const ScheduleContext& ctx)
      : base_(cfg.lr), max_(cfg.real("max_lr")), mode_(cfg.text("cyclic_mode")),
        gamma_(cfg.real("cyclic_gamma")), m_base_(cfg.real("cyclic_base_momentum")),
        m_max_(cfg.real("cyclic_max_momentum")), cycle_momentum_(cfg.flag("cycle_momentum")),
        steps_per_epoch_(ctx.steps_per_epoch) {
    const auto up = static_cast<double>(cfg.integer("step_size_up"));
    const auto down_key = cfg.integer("step_size_down");
    const double down = down_key > 0 ? static_cast<double>(down_key) : up;
    total_ = up + down;
    ratio_ = up / total_;
  }
  double lr(std::int64_t epoch, std::int64_t step) const override {
    const Point p = at(epoch, step);
    return base_ + (max_ - base_) * p.height * p.scale;
  }
  std::optional<double> momentum(std::int64_t epoch, std::int64_t step) const override {
    if (!cycle_momentum_) return std::nullopt;
    const Point p = at(epoch, step);
    return m_max_ - (m_max_ - m_base_) * p.height * p.scale;
  }

 private:
  struct Point {
    double height, scale;  // place in the cycle (0..1..0), and the mode's scale
  };
  Point at(std::int64_t epoch, std::int64_t step) const {
    const double t = static_cast<double>(epoch * steps_per_epoch_ + step);
    const double cycle = std::floor(1 + t / total_);
    const double x = 1 + t / total_ - cycle;
    const double height = x <= ratio_ ? x / ratio_ : (x - 1) / (ratio_ - 1);
    double scale = 1.0;
    if (mode_ == "triangular2") scale = 1.0 / std::pow(2.0, cycle - 1);
    else if (mode_ == "exp_range") scale = std::pow(gamma_, t);
    return {height, scale};
  }

  double base_, max_;
  std::string mode_;
  double gamma_, m_base_, m_max_;
  bool cycle_momentum_;
  std::int64_t steps_per_epoch_;
  double total_ = 0, ratio_ = 0;
};

}  // namespace

ScheduleKind cyclic_schedule() {
  KindDecl decl{"schedule", "cyclic",
                "cyclic rate per step between lr and max_lr (PyTorch's CyclicLR)", {}, {}};
  decl.keys = {
      {"max_lr", KeyType::real, 0.1, "", "cyclic: the rate at the top of a cycle", true,
       positive()},
      {"step_size_up", KeyType::integer, 2000, "steps", "cyclic: steps from lr up to max_lr",
       true, positive()},
      {"step_size_down", KeyType::integer, 0, "steps",
       "cyclic: steps from max_lr back down (0 = step_size_up)", true, at_least(0)},
      {"cyclic_mode", KeyType::text, "triangular", "", "cyclic: triangular, triangular2 or exp_range",
       true,
       [](const nlohmann::json& v) -> std::optional<std::string> {
         if (v == "triangular" || v == "triangular2" || v == "exp_range") return std::nullopt;
         return std::string("must be triangular, triangular2 or exp_range");
       }},
      {"cyclic_gamma", KeyType::real, 1.0, "", "cyclic exp_range: height times gamma^step", true,
       in_range(0, 1, /*lo_open=*/true)},
      cycle_momentum_key(),
      {"cyclic_base_momentum", KeyType::real, 0.8, "", "cyclic: momentum at the top rate", true,
       in_range(0, 1, false, /*hi_open=*/true)},
      {"cyclic_max_momentum", KeyType::real, 0.9, "", "cyclic: momentum at the base rate", true,
       in_range(0, 1, false, /*hi_open=*/true)},
  };
  decl.validate = [](const TrainConfig& cfg, const KeyCheck& check) {
    check.need(cfg.real("max_lr") >= cfg.lr, "max_lr", "must be at least lr (the base rate)");
  };
  return {decl, [](const TrainConfig& cfg, const ScheduleContext& ctx) {
            return std::unique_ptr<Schedule>(new Cyclic(cfg, ctx));
          }};
}

}  // namespace lrtune
