// Builds the lines of a report's charts from stored trials and epochs.
#include "report/series.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "report/escape.h"

namespace lrtune::report {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Tableau's ten categorical colours: distinct for up to ten lines, also in grey print.
constexpr const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
constexpr std::size_t kColours = sizeof kPalette / sizeof kPalette[0];

// The last finite value of `mean` at or before `epoch` (NaN when none).
double last_value_by(const Series& s, Metric m, std::int64_t epoch) {
  const auto& mean = s.of(m).mean;
  double v = kNaN;
  for (std::size_t i = 0; i < s.epochs.size() && s.epochs[i] <= epoch; ++i)
    if (std::isfinite(mean[i])) v = mean[i];
  return v;
}

// A note for trials of a group that ended at an epoch: "diverged @ep 4" for
// one trial, "1 of 3 diverged, first @ep 4" for a group.
std::string ended_note(const char* what, std::size_t count, std::size_t n, std::int64_t epoch) {
  std::string at = "@ep " + std::to_string(epoch);
  return n > 1 ? std::to_string(count) + " of " + std::to_string(n) + " " + what + ", first " + at
               : std::string(what) + " " + at;
}

}  // namespace

const char* metric_key(Metric m) {
  switch (m) {
    case Metric::val_acc: return "val_acc";
    case Metric::train_acc: return "train_acc";
    case Metric::test_acc: return "test_acc";
    case Metric::train_loss: return "train_loss";
    case Metric::val_loss: return "val_loss";
    case Metric::lr: return "lr";
  }
  return "?";
}

double metric_value(const EpochMetrics& e, Metric m) {
  switch (m) {
    case Metric::val_acc: return e.val_acc;
    case Metric::train_acc: return e.train_acc;
    case Metric::test_acc: return e.test_acc;
    case Metric::train_loss: return e.train_loss;
    case Metric::val_loss: return e.val_loss;
    case Metric::lr: return e.lr;
  }
  return kNaN;
}

std::vector<FigureSpec> figure_specs(std::int64_t zoom_epochs) {
  std::vector<FigureSpec> figs = {
      {"val_acc", "Validation accuracy", "validation accuracy (%)", Metric::val_acc, 100, 0},
      {"train_acc", "Training accuracy", "training accuracy (%)", Metric::train_acc, 100, 0},
      {"test_acc", "Test accuracy", "test accuracy (%)", Metric::test_acc, 100, 0},
      {"train_loss", "Training loss", "training loss (cross-entropy)", Metric::train_loss, 1, 0},
      {"val_loss", "Validation loss", "validation loss (cross-entropy)", Metric::val_loss, 1, 0},
      {"lr", "Learning rate", "learning rate (last step of the epoch)", Metric::lr, 1, 0},
  };
  if (zoom_epochs > 0) {
    std::string first = "first " + std::to_string(zoom_epochs) + " epochs";
    figs.push_back({"val_acc_zoom", "Validation accuracy, " + first, "validation accuracy (%)",
                    Metric::val_acc, 100, zoom_epochs});
    figs.push_back({"train_acc_zoom", "Training accuracy, " + first, "training accuracy (%)",
                    Metric::train_acc, 100, zoom_epochs});
  }
  return figs;
}

std::string Series::notes() const {
  std::string out;
  std::vector<std::string> notes;
  if (n > 1) notes.push_back("mean of " + std::to_string(n));
  if (diverged_epoch) notes.push_back(ended_note("diverged", diverged, n, *diverged_epoch));
  if (pruned_epoch) notes.push_back(ended_note("pruned", pruned, n, *pruned_epoch));
  if (!progress.empty()) notes.push_back(progress);
  for (std::size_t i = 0; i < notes.size(); ++i) out += (i ? ", " : " (") + notes[i];
  return notes.empty() ? out : out + ")";
}

double Series::marker_value(Metric m) const {
  return diverged_epoch ? last_value_by(*this, m, *diverged_epoch) : kNaN;
}

double Series::pruned_marker_value(Metric m) const {
  return pruned_epoch ? last_value_by(*this, m, *pruned_epoch) : kNaN;
}

namespace {

// Per metric and epoch: the mean, min and max over the members' finite values.
void fill_values(Series& s, const std::vector<std::size_t>& members,
                 const std::vector<std::vector<EpochMetrics>>& epochs) {
  for (Metric m : kMetrics) {
    auto& v = s.values[static_cast<std::size_t>(m)];
    v.mean.assign(s.epochs.size(), kNaN);
    v.lo = v.mean;
    v.hi = v.mean;
    std::vector<double> sum(s.epochs.size(), 0.0);
    std::vector<int> count(s.epochs.size(), 0);
    for (std::size_t i : members)
      for (const auto& e : epochs[i]) {
        double x = metric_value(e, m);
        if (e.epoch < 1 || !std::isfinite(x)) continue;
        auto k = static_cast<std::size_t>(e.epoch - 1);
        sum[k] += x;
        ++count[k];
        v.lo[k] = count[k] == 1 ? x : std::min(v.lo[k], x);
        v.hi[k] = count[k] == 1 ? x : std::max(v.hi[k], x);
      }
    for (std::size_t k = 0; k < sum.size(); ++k)
      if (count[k]) v.mean[k] = sum[k] / count[k];
  }
}

// Counts one member: its epochs, and how it ended (diverged, pruned).
void add_member(Series& s, const TrialRecord& trial, const std::vector<EpochMetrics>& epochs) {
  ++s.n;
  s.epochs_total = std::max(s.epochs_total, trial.spec.epochs_total);
  if (auto d = divergence_epoch(trial, epochs)) {
    ++s.diverged;
    if (!s.diverged_epoch || *d < *s.diverged_epoch) s.diverged_epoch = d;
  }
  if (trial.status == RunStatus::pruned) {
    ++s.pruned;
    std::int64_t end = 0;
    for (const auto& e : epochs) end = std::max(end, e.epoch);
    if (!s.pruned_epoch || end < *s.pruned_epoch) s.pruned_epoch = end;
  }
}

}  // namespace

std::vector<Series> build_series(const std::vector<TrialRecord>& trials,
                                 const std::vector<std::vector<EpochMetrics>>& epochs) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::size_t>> members;
  for (std::size_t i = 0; i < trials.size(); ++i) {
    std::string key = group_key(clean_text(trials[i].spec.label));
    if (key.empty()) key = trials[i].spec.id.substr(0, 12);
    if (!members.count(key)) order.push_back(key);
    members[key].push_back(i);
  }
  std::vector<Series> out;
  for (const auto& key : order) {
    Series s;
    s.label = key;
    std::int64_t last = 0;
    for (std::size_t i : members[key]) {
      add_member(s, trials[i], epochs[i]);
      for (const auto& e : epochs[i]) last = std::max(last, e.epoch);
    }
    if (s.n == 1) {
      // A running trial, or one stopped part-way (pending again, epochs kept).
      const auto& t = trials[members[key].front()];
      auto done = static_cast<std::int64_t>(epochs[members[key].front()].size());
      if (t.status == RunStatus::running || (t.status == RunStatus::pending && done > 0))
        s.progress = std::string(to_string(t.status)) + " " + std::to_string(done) + "/" +
                     std::to_string(t.spec.epochs_total);
    }
    for (std::int64_t e = 1; e <= last; ++e) s.epochs.push_back(e);
    fill_values(s, members[key], epochs);
    out.push_back(std::move(s));
  }
  assign_styles(out);
  return out;
}

std::string palette_colour(std::size_t i) { return kPalette[i % kColours]; }

void assign_styles(std::vector<Series>& series) {
  for (std::size_t i = 0; i < series.size(); ++i) {
    series[i].colour = palette_colour(i);
    series[i].dash = static_cast<int>(i / kColours);
  }
}

bool wants_log_scale(const std::vector<Series>& series, const FigureSpec& fig) {
  double lo = std::numeric_limits<double>::infinity(), hi = 0;
  for (const auto& s : series)
    for (std::size_t k = 0; k < s.epochs.size(); ++k) {
      if (fig.zoom_epochs > 0 && s.epochs[k] > fig.zoom_epochs) break;
      for (double x : {s.of(fig.metric).lo[k], s.of(fig.metric).hi[k]}) {
        if (!std::isfinite(x)) continue;
        if (x <= 0) return false;
        lo = std::min(lo, x);
        hi = std::max(hi, x);
      }
    }
  return hi > 0 && hi / lo > 100;
}

}  // namespace lrtune::report
