// onecycle: PyTorch's OneCycleLR per step. The rate climbs from lr/div_factor
// to lr (the maximum) over pct_start of the run, then anneals to
// lr/div_factor/final_div_factor; with three_phase it first comes back down
// to lr/div_factor. The momentum cycles the other way, between max_momentum
// and base_momentum (cycle_momentum).
#include "optim/builtin_kinds.h"

#include <cmath>
#include <vector>

namespace lrtune {
namespace {

struct Phase {
  double end_step, start_lr, end_lr, start_momentum, end_momentum;
};

class OneCycle final : public Schedule {
 public:
  OneCycle(const TrainConfig& cfg, const ScheduleContext& ctx)
      : steps_per_epoch_(ctx.steps_per_epoch), cosine_(cfg.text("anneal_strategy") == "cos"),
        cycle_momentum_(cfg.flag("cycle_momentum")) {
    const double total = static_cast<double>(ctx.epochs * ctx.steps_per_epoch);
    const double top = cfg.lr, initial = top / cfg.real("div_factor");
    const double bottom = initial / cfg.real("final_div_factor");
    const double pct = cfg.real("pct_start");
    const double m_max = cfg.real("max_momentum"), m_base = cfg.real("base_momentum");
    if (cfg.flag("three_phase"))
      phases_ = {{pct * total - 1, initial, top, m_max, m_base},
                 {2 * pct * total - 2, top, initial, m_base, m_max},
                 {total - 1, initial, bottom, m_max, m_max}};
    else
      phases_ = {{pct * total - 1, initial, top, m_max, m_base},
                 {total - 1, top, bottom, m_base, m_max}};
  }
  double lr(std::int64_t epoch, std::int64_t step) const override {
    const auto [phase, pct] = where(epoch, step);
    return anneal(phase.start_lr, phase.end_lr, pct);
  }
  std::optional<double> momentum(std::int64_t epoch, std::int64_t step) const override {
    if (!cycle_momentum_) return std::nullopt;
    const auto [phase, pct] = where(epoch, step);
    return anneal(phase.start_momentum, phase.end_momentum, pct);
  }

 private:
  // The phase of global step t and how far into it (PyTorch's loop).
  std::pair<Phase, double> where(std::int64_t epoch, std::int64_t step) const {
    const double t = static_cast<double>(epoch * steps_per_epoch_ + step);
    double start = 0;
    for (std::size_t i = 0; i < phases_.size(); ++i) {
      const Phase& p = phases_[i];
      if (t <= p.end_step || i + 1 == phases_.size())
        return {p, (t - start) / (p.end_step - start)};
      start = p.end_step;
    }
    return {phases_.back(), 1.0};
  }
  double anneal(double from, double to, double pct) const {
    if (cosine_) return to + (from - to) / 2.0 * (std::cos(M_PI * pct) + 1.0);
    return (to - from) * pct + from;
  }

  std::int64_t steps_per_epoch_;
  bool cosine_, cycle_momentum_;
  std::vector<Phase> phases_;
};

}  // namespace

ScheduleKind onecycle_schedule() {
  KindDecl decl{"schedule", "onecycle",
                "one-cycle policy per step (PyTorch's OneCycleLR); lr is the maximum rate", {}, {}};
  decl.keys = {
      {"pct_start", KeyType::real, 0.3, "", "onecycle: fraction of the run spent climbing", true,
       in_range(0, 1, /*lo_open=*/true, /*hi_open=*/true)},
      {"div_factor", KeyType::real, 25.0, "", "onecycle: the first rate is lr / div_factor", true,
       in_range(1, 1e9)},
      {"final_div_factor", KeyType::real, 1e4, "",
       "onecycle: the last rate is lr / div_factor / final_div_factor", true, in_range(1, 1e12)},
      {"anneal_strategy", KeyType::text, "cos", "", "onecycle: cos or linear", true,
       [](const nlohmann::json& v) -> std::optional<std::string> {
         if (v == "cos" || v == "linear") return std::nullopt;
         return std::string("must be cos or linear");
       }},
      {"three_phase", KeyType::boolean, false, "",
       "onecycle: come back down to lr / div_factor before the final annealing", true, {}},
      cycle_momentum_key(),
      {"base_momentum", KeyType::real, 0.85, "", "onecycle: momentum at the highest rate", true,
       in_range(0, 1, false, /*hi_open=*/true)},
      {"max_momentum", KeyType::real, 0.95, "", "onecycle: momentum at the lowest rates", true,
       in_range(0, 1, false, /*hi_open=*/true)},
  };
  decl.validate = [](const TrainConfig& cfg, const KeyCheck& check) {
    check.need(cfg.real("base_momentum") <= cfg.real("max_momentum"), "base_momentum",
               "must be at most max_momentum");
  };
  return {decl, [](const TrainConfig& cfg, const ScheduleContext& ctx) {
            return std::unique_ptr<Schedule>(new OneCycle(cfg, ctx));
          }};
}

}  // namespace lrtune
