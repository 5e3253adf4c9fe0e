// CSV form of EpochMetrics and names of run states.
#include "core/metrics.h"

#include <cstdio>

#include "core/errors.h"

namespace lrtune {

const std::vector<std::string>& epoch_csv_columns() {
  static const std::vector<std::string> cols = {
      "epoch",   "lr",       "train_loss", "train_acc", "val_loss",
      "val_acc", "test_loss", "test_acc",  "seconds",   "images_per_s"};
  return cols;
}

std::string epoch_csv_row(const EpochMetrics& m) {
  char buf[512];
  std::snprintf(buf, sizeof buf, "%lld,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.4f,%.2f",
                static_cast<long long>(m.epoch), m.lr, m.train_loss, m.train_acc, m.val_loss,
                m.val_acc, m.test_loss, m.test_acc, m.seconds, m.images_per_s);
  return buf;
}

const char* to_string(RunStatus s) {
  switch (s) {
    case RunStatus::pending: return "pending";
    case RunStatus::running: return "running";
    case RunStatus::done: return "done";
    case RunStatus::diverged: return "diverged";
    case RunStatus::failed: return "failed";
  }
  return "?";
}

RunStatus run_status_from_string(const std::string& s) {
  for (RunStatus r : {RunStatus::pending, RunStatus::running, RunStatus::done,
                      RunStatus::diverged, RunStatus::failed})
    if (s == to_string(r)) return r;
  throw StoreError("unknown run status '" + s + "'");
}

}  // namespace lrtune
