// The metric field table, CSV form of EpochMetrics and names of run states.
#include "core/metrics.h"

#include <cmath>
#include <cstdio>

#include "core/errors.h"
#include "core/format.h"

namespace lrtune {

const std::vector<MetricField>& metric_fields() {
  using M = EpochMetrics;
  static const std::vector<MetricField> fields = {
      {"lr", &M::lr, "%.9g", "learning rate at the last step of the epoch"},
      {"train_loss", &M::train_loss, "%.9g", "mean training loss (training mode)"},
      {"train_acc", &M::train_acc, "%.9g", "training accuracy (training mode)"},
      {"val_loss", &M::val_loss, "%.9g", "validation loss"},
      {"val_acc", &M::val_acc, "%.9g", "validation accuracy"},
      {"test_loss", &M::test_loss, "%.9g", "test loss"},
      {"test_acc", &M::test_acc, "%.9g", "test accuracy"},
      {"seconds", &M::seconds, "%.4f", "wall time of the epoch, evaluation included"},
      {"images_per_s", &M::images_per_s, "%.2f", "training images per second"},
  };
  return fields;
}

const MetricField* find_metric_field(const std::string& name) {
  for (const auto& f : metric_fields())
    if (name == f.name) return &f;
  return nullptr;
}

const std::vector<std::string>& epoch_csv_columns() {
  static const std::vector<std::string> cols = [] {
    std::vector<std::string> c = {"epoch"};
    for (const auto& f : metric_fields()) c.emplace_back(f.name);
    return c;
  }();
  return cols;
}

std::string epoch_csv_row(const EpochMetrics& m) {
  std::string row = std::to_string(m.epoch);
  char buf[64];
  for (const auto& f : metric_fields()) {
    std::snprintf(buf, sizeof buf, f.csv_format, m.*f.member);
    row += ',';
    row += buf;
  }
  return row;
}

const char* to_string(RunStatus s) {
  switch (s) {
    case RunStatus::pending: return "pending";
    case RunStatus::running: return "running";
    case RunStatus::done: return "done";
    case RunStatus::diverged: return "diverged";
    case RunStatus::failed: return "failed";
    case RunStatus::pruned: return "pruned";
    case RunStatus::stopped: return "stopped";
  }
  return "?";
}

RunStatus run_status_from_string(const std::string& s) {
  for (RunStatus r : {RunStatus::pending, RunStatus::running, RunStatus::done,
                      RunStatus::diverged, RunStatus::failed, RunStatus::pruned,
                      RunStatus::stopped})
    if (s == to_string(r)) return r;
  throw StoreError("unknown run status '" + s + "' (written by a newer lrtune?)");
}

bool is_finished(RunStatus s) {
  return s != RunStatus::pending && s != RunStatus::running;
}

const EpochMetrics* best_epoch(const std::vector<EpochMetrics>& epochs,
                               double EpochMetrics::*metric, bool lowest) {
  const EpochMetrics* best = nullptr;
  for (const auto& m : epochs) {
    const double v = m.*metric;
    if (!std::isfinite(v)) continue;
    const bool better = !best || (lowest ? v < best->*metric : v > best->*metric) ||
                        (v == best->*metric && m.epoch < best->epoch);
    if (better) best = &m;
  }
  return best;
}

double finite_seconds(const std::vector<EpochMetrics>& epochs) {
  double sum = 0;
  for (const auto& m : epochs)
    if (std::isfinite(m.seconds)) sum += m.seconds;
  return sum;
}

std::int64_t leading_epochs(const std::vector<EpochMetrics>& epochs) {
  std::int64_t n = 0;
  for (const auto& m : epochs)
    if (m.epoch == n + 1) ++n;
  return n;
}

std::string epoch_summary_line(const EpochMetrics& m, std::int64_t epochs, std::size_t pack) {
  return "epoch " + std::to_string(m.epoch) + "/" + std::to_string(epochs) + "  lr " +
         format_fixed(m.lr, 6) + "  train loss " + format_fixed(m.train_loss, 4) + " acc " +
         format_fixed(m.train_acc, 4) + "  val loss " + format_fixed(m.val_loss, 4) + " acc " +
         format_fixed(m.val_acc, 4) + "  test loss " + format_fixed(m.test_loss, 4) + " acc " +
         format_fixed(m.test_acc, 4) + "  " + format_fixed(m.seconds, 1) + "s  " +
         format_count(m.images_per_s) + " img/s" +
         (pack > 0 ? "  (pack of " + std::to_string(pack) + ")" : "");
}

std::string epoch_progress_line(std::int64_t epoch, std::int64_t epochs, std::int64_t seen,
                                std::int64_t n_train, double seconds, double loss,
                                bool per_trial) {
  const double rate = static_cast<double>(seen) / seconds;
  return "epoch " + std::to_string(epoch + 1) + "/" + std::to_string(epochs) + "  [" +
         format_count(static_cast<double>(seen)) + "/" +
         format_count(static_cast<double>(n_train)) + "]  " + format_count(rate) + " img/s" +
         (per_trial ? " per trial" : "") + "  loss " + format_fixed(loss, 4) +
         "  training left " + format_duration(static_cast<double>(n_train - seen) / rate);
}

}  // namespace lrtune
