// piecewise: a learning rate (and optionally a momentum) per stretch of
// epochs, written out: piecewise_epochs = [1, 10, 20] with piecewise_lr =
// [0.1, 0.05, 0.01] trains epochs 1-9 at 0.1, 10-19 at 0.05 and 20 on at
// 0.01. Any schedule can be written this way, such as the one a population
// found (a member's rates epoch by epoch), and replayed from scratch.
#include "optim/builtin_kinds.h"

#include <algorithm>
#include <string>
#include <vector>

namespace lrtune {
namespace {

class Piecewise final : public Schedule {
 public:
  explicit Piecewise(const TrainConfig& cfg)
      : starts_(cfg.int_list("piecewise_epochs")), lr_(cfg.real_list("piecewise_lr")),
        momentum_(cfg.real_list("piecewise_momentum")), base_lr_(cfg.lr) {}
  double lr(std::int64_t epoch, std::int64_t) const override {
    return lr_.empty() ? base_lr_ : lr_[piece(epoch)];
  }
  std::optional<double> momentum(std::int64_t epoch, std::int64_t) const override {
    if (momentum_.empty()) return std::nullopt;
    return momentum_[piece(epoch)];
  }

 private:
  // The stretch epoch (0-based) falls in: the last whose start is at or before it.
  std::size_t piece(std::int64_t epoch) const {
    const auto after = std::upper_bound(starts_.begin(), starts_.end(), epoch + 1);
    return static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, after - starts_.begin() - 1));
  }
  std::vector<std::int64_t> starts_;
  std::vector<double> lr_, momentum_;
  double base_lr_;
};

std::string count_text(std::size_t n) { return std::to_string(n) + (n == 1 ? " entry" : " entries"); }

void check_piecewise(const TrainConfig& cfg, const KeyCheck& check) {
  const auto starts = cfg.int_list("piecewise_epochs");
  const auto lr = cfg.real_list("piecewise_lr"), momentum = cfg.real_list("piecewise_momentum");
  if (starts.empty() || starts.front() != 1)
    check.fail("piecewise_epochs", "must start with epoch 1 (the first stretch begins the run)");
  for (std::size_t i = 1; i < starts.size(); ++i)
    check.need(starts[i] > starts[i - 1], "piecewise_epochs",
               "must be in increasing order, got " + std::to_string(starts[i - 1]) + " then " +
                   std::to_string(starts[i]));
  check.need(starts.back() <= cfg.epochs, "piecewise_epochs",
             "epoch " + std::to_string(starts.back()) + " is beyond the run's " +
                 std::to_string(cfg.epochs) + " epochs");
  check.need(lr.empty() || lr.size() == starts.size(), "piecewise_lr",
             "has " + count_text(lr.size()) + "; give one rate per piecewise_epochs entry (" +
                 count_text(starts.size()) + ")");
  for (double r : lr) check.need(r > 0, "piecewise_lr", "rates must be above 0");
  check.need(momentum.empty() || momentum.size() == starts.size(), "piecewise_momentum",
             "has " + count_text(momentum.size()) + "; give one momentum per piecewise_epochs entry (" +
                 count_text(starts.size()) + ")");
  for (double m : momentum)
    check.need(m >= 0 && m < 1, "piecewise_momentum", "values must be in [0, 1)");
}

}  // namespace

ScheduleKind piecewise_schedule() {
  KindDecl decl{"schedule", "piecewise",
                "a rate (and momentum) per stretch of epochs, written out: any schedule", {}, {}};
  decl.keys = {
      {"piecewise_epochs", KeyType::int_list, nlohmann::json::array({1}), "epochs",
       "piecewise: the epoch (from 1) at which each stretch starts, in increasing order", true, {}},
      {"piecewise_lr", KeyType::real_list, nlohmann::json::array(), "",
       "piecewise: the rate of each stretch (empty: lr throughout)", true, {}},
      {"piecewise_momentum", KeyType::real_list, nlohmann::json::array(), "",
       "piecewise: the momentum of each stretch (empty: the optimizer's own)", true, {}},
  };
  decl.validate = check_piecewise;
  return {decl, [](const TrainConfig& cfg, const ScheduleContext&) {
            return std::unique_ptr<Schedule>(new Piecewise(cfg));
          }};
}

}  // namespace lrtune
