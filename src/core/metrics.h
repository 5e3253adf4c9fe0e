// One epoch's numbers, as the trainer records them and stores keep them, and
// the one table of their fields that the store, CSV, export and reports read.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace lrtune {

struct EpochMetrics {
  std::int64_t epoch = 0;   // 1-based: epoch 1 is the first pass over the data
  double lr = 0;            // learning rate at the last step of the epoch
  double train_loss = 0;    // mean over the epoch, training mode (dropout on)
  double train_acc = 0;     // fraction correct, training mode
  double val_loss = 0, val_acc = 0;    // evaluation mode, no gradients
  double test_loss = 0, test_acc = 0;  // evaluation mode, no gradients
  double seconds = 0;       // wall time of the whole epoch, evaluation included
  double images_per_s = 0;  // training images per second of training time
};

// The per-epoch numbers after `epoch`, in column order. A new metric is one
// member above and one row of this table: store columns, CSV, JSON export and
// report series follow.
struct MetricField {
  const char* name;              // column, CSV header and JSON key
  double EpochMetrics::*member;
  const char* csv_format;        // printf format of a CSV cell
  const char* help;
};
const std::vector<MetricField>& metric_fields();
const MetricField* find_metric_field(const std::string& name);

// The CSV header and one row, shared by every writer so columns never drift.
const std::vector<std::string>& epoch_csv_columns();
std::string epoch_csv_row(const EpochMetrics& m);

// How a run ended (or that it has not). pruned: stopped early by a pruner
// because it was unpromising (its epochs are kept); stopped: ended on purpose
// before its last epoch for another reason (a user's stop), also kept.
enum class RunStatus { pending, running, done, diverged, failed, pruned, stopped };
const char* to_string(RunStatus s);
RunStatus run_status_from_string(const std::string& s);  // throws StoreError
// done, diverged, failed, pruned and stopped: the trial will not run again by itself.
bool is_finished(RunStatus s);

}  // namespace lrtune
