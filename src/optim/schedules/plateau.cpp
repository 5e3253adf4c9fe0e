// plateau: PyTorch's ReduceLROnPlateau. After each epoch it looks at
// plateau_metric (val_loss by default; an accuracy is maximised, a loss
// minimised); after more than `patience` epochs without improvement beyond
// `threshold` it multiplies the rate by `factor` (not below min_lr) and waits
// `cooldown` epochs. What it learnt is saved in every checkpoint, so a
// resumed run gets the same rates as an uninterrupted one.
#include "optim/builtin_kinds.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace lrtune {
namespace {

class Plateau final : public Schedule {
 public:
  explicit Plateau(const TrainConfig& cfg)
      : field_(find_metric_field(cfg.text("plateau_metric"))),
        maximize_(cfg.text("plateau_metric").find("_acc") != std::string::npos),
        factor_(cfg.real("factor")), threshold_(cfg.real("threshold")),
        relative_(cfg.text("threshold_mode") == "rel"), min_lr_(cfg.real("min_lr")),
        patience_(cfg.integer("patience")), cooldown_(cfg.integer("cooldown")), lr_(cfg.lr),
        best_(worst()) {}

  double lr(std::int64_t, std::int64_t) const override { return lr_; }

  void observe(const EpochMetrics& m) override {
    const double current = m.*(field_->member);
    if (better(current)) {
      best_ = current;
      bad_ = 0;
    } else {
      ++bad_;
    }
    if (cooling_ > 0) {
      --cooling_;
      bad_ = 0;
    }
    if (bad_ > patience_) {
      const double reduced = std::max(lr_ * factor_, min_lr_);
      if (lr_ - reduced > 1e-8) lr_ = reduced;  // PyTorch's eps
      cooling_ = cooldown_;
      bad_ = 0;
    }
  }
  nlohmann::json state() const override {
    // An infinite best (nothing seen yet) is stored as null.
    return {{"lr", lr_}, {"best", std::isfinite(best_) ? nlohmann::json(best_) : nullptr},
            {"bad_epochs", bad_}, {"cooldown_left", cooling_}};
  }
  void load_state(const nlohmann::json& s) override {
    if (!s.is_object()) return;  // a checkpoint from before this state existed
    lr_ = s.at("lr").get<double>();
    best_ = s.at("best").is_null() ? worst() : s.at("best").get<double>();
    bad_ = s.at("bad_epochs").get<std::int64_t>();
    cooling_ = s.at("cooldown_left").get<std::int64_t>();
  }

 private:
  double worst() const {
    return maximize_ ? -std::numeric_limits<double>::infinity()
                     : std::numeric_limits<double>::infinity();
  }
  bool better(double a) const {
    if (maximize_) return relative_ ? a > best_ * (1 + threshold_) : a > best_ + threshold_;
    return relative_ ? a < best_ * (1 - threshold_) : a < best_ - threshold_;
  }

  const MetricField* field_;
  bool maximize_;
  double factor_, threshold_;
  bool relative_;
  double min_lr_;
  std::int64_t patience_, cooldown_;
  double lr_, best_;
  std::int64_t bad_ = 0, cooling_ = 0;
};

std::optional<std::string> loss_or_accuracy(const nlohmann::json& v) {
  for (const char* name : {"train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc"})
    if (v == name) return std::nullopt;
  return std::string("must be one of train_loss, train_acc, val_loss, val_acc, test_loss, test_acc");
}

}  // namespace

ScheduleKind plateau_schedule() {
  KindDecl decl{"schedule", "plateau",
                "lr times factor when plateau_metric stops improving (PyTorch's ReduceLROnPlateau)",
                {}, {}};
  decl.keys = {
      {"plateau_metric", KeyType::text, "val_loss", "",
       "plateau: the epoch metric watched (losses minimised, accuracies maximised)", true,
       loss_or_accuracy},
      {"factor", KeyType::real, 0.1, "", "plateau: the rate is multiplied by this", true,
       in_range(0, 1, /*lo_open=*/true, /*hi_open=*/true)},
      {"patience", KeyType::integer, 10, "epochs", "plateau: epochs without improvement tolerated",
       true, at_least(0)},
      {"threshold", KeyType::real, 1e-4, "", "plateau: smallest change that counts as improvement",
       true, at_least(0)},
      {"threshold_mode", KeyType::text, "rel", "", "plateau: rel (a fraction of the best) or abs",
       true,
       [](const nlohmann::json& v) -> std::optional<std::string> {
         if (v == "rel" || v == "abs") return std::nullopt;
         return std::string("must be rel or abs");
       }},
      {"cooldown", KeyType::integer, 0, "epochs", "plateau: epochs to wait after a reduction",
       true, at_least(0)},
      cosine_min_lr_key(),
  };
  return {decl, [](const TrainConfig& cfg, const ScheduleContext&) {
            return std::unique_ptr<Schedule>(new Plateau(cfg));
          }};
}

}  // namespace lrtune
