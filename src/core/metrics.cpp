// The metric field table, CSV form of EpochMetrics and names of run states.
#include "core/metrics.h"

#include <cstdio>

#include "core/errors.h"

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

}  // namespace lrtune
