// What a report draws: one line per trial, or per repeat group (mean and
// min-max band), for each per-epoch quantity; shared by the gnuplot figures
// and the interactive page so both always show the same numbers.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "report/summary.h"
#include "store/store.h"

namespace lrtune::report {

enum class Metric { val_acc, train_acc, test_acc, train_loss, val_loss, lr };
inline constexpr std::array<Metric, 6> kMetrics = {Metric::val_acc,    Metric::train_acc,
                                                   Metric::test_acc,   Metric::train_loss,
                                                   Metric::val_loss,   Metric::lr};
const char* metric_key(Metric m);  // "val_acc", ...
double metric_value(const EpochMetrics& e, Metric m);

// One figure of a study: a quantity over all epochs, or over the first ones.
struct FigureSpec {
  std::string id;       // file stem: "val_acc", "val_acc_zoom"
  std::string title;    // "Validation accuracy"
  std::string y_label;  // "validation accuracy (%)"
  Metric metric = Metric::val_acc;
  double scale = 1;     // 100 for accuracies shown in percent
  std::int64_t zoom_epochs = 0;  // 0 = every epoch, else epochs 1..zoom_epochs
};
// Validation, training and test accuracy, training and validation loss,
// learning rate, then validation and training accuracy over the first
// `zoom_epochs` epochs (none when zoom_epochs is 0).
std::vector<FigureSpec> figure_specs(std::int64_t zoom_epochs);

struct Series {
  std::string label;      // group key (or "study: key" in a comparison), clean text
  std::string colour;     // "#1f77b4"
  int dash = 0;           // 0 = solid; 1, 2... once the ten colours are used up
  std::size_t n = 0;      // trials in the group
  std::size_t diverged = 0;
  std::optional<std::int64_t> diverged_epoch;  // earliest among the group
  std::size_t pruned = 0;  // trials a search's pruner stopped early
  std::optional<std::int64_t> pruned_epoch;    // last epoch trained, earliest among the group
  std::string progress;    // "running 3/10" for a single unfinished trial, else ""
  std::int64_t epochs_total = 0;
  std::vector<std::int64_t> epochs;  // x values, ascending, 1-based
  // Per metric, per x: mean over the trials that have a finite value there,
  // and the min and max of those values (NaN where no trial has one).
  struct Values {
    std::vector<double> mean, lo, hi;
  };
  std::array<Values, kMetrics.size()> values;

  const Values& of(Metric m) const { return values[static_cast<std::size_t>(m)]; }
  // The legend: label plus notes() such as " (mean of 3, diverged @ep 4)".
  std::string legend() const { return label + notes(); }
  // " (mean of 3)", " (diverged @ep 4)", " (pruned @ep 3)", " (running 12/100)" or "".
  std::string notes() const;
  // Where the divergence mark goes: the last finite mean at or before the
  // divergence epoch (NaN when there is none).
  double marker_value(Metric m) const;
  // Where the pruning mark goes: the last finite mean at or before the
  // pruned epoch (NaN when there is none).
  double pruned_marker_value(Metric m) const;
};

// Groups trials by group_key (first-seen order) and builds their lines.
// `epochs[i]` belongs to `trials[i]`. Colours follow the order of the result.
std::vector<Series> build_series(const std::vector<TrialRecord>& trials,
                                 const std::vector<std::vector<EpochMetrics>>& epochs);

// Colour i of the report's ten-colour palette (wrapping around).
std::string palette_colour(std::size_t i);

// Gives series i colour i of a ten-colour palette, then dashes after ten.
void assign_styles(std::vector<Series>& series);

// True when a figure reads better on a log scale: every value positive and
// spanning more than two decades (learning rates from 1e-4 to 0.5).
bool wants_log_scale(const std::vector<Series>& series, const FigureSpec& fig);

}  // namespace lrtune::report
