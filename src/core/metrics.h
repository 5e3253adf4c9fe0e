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
// member above and one row of this table: CSV, JSON export, report series and
// the stores' reads and writes follow. The stores' tables list their columns
// in their versioned schemas (store/sqlite_schema.cpp, store/postgres_db.cpp),
// so a new metric is also a new schema version with its migration
// (docs/results-store.md).
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

// The epoch of `epochs` with the best finite value of `metric` (the highest,
// or the lowest with `lowest`), the earliest of equal ones; nullptr when no
// epoch has a finite value. The one definition of "best epoch" that status
// tables, reports and search objectives share.
const EpochMetrics* best_epoch(const std::vector<EpochMetrics>& epochs,
                               double EpochMetrics::*metric, bool lowest = false);
// The epochs' seconds summed, non-finite ones left out.
double finite_seconds(const std::vector<EpochMetrics>& epochs);
// How many epochs from the first `epochs` (ordered by epoch) holds without a
// gap: 1, 2, ... up to the first one missing.
std::int64_t leading_epochs(const std::vector<EpochMetrics>& epochs);

// Seconds between the transient in-epoch progress lines of a training run.
inline constexpr double kProgressEverySeconds = 2.0;
// The line an epoch ends with: "epoch 3/15  lr 0.010000  train loss ... img/s",
// and " (pack of K)" for a trial trained in a pack of K > 0.
std::string epoch_summary_line(const EpochMetrics& m, std::int64_t epochs, std::size_t pack = 0);
// The transient in-epoch line: "epoch 4/15  [12,800/45,000]  2,345 img/s
// loss 1.2345  training left 14s" (" per trial" after img/s in a pack).
std::string epoch_progress_line(std::int64_t epoch, std::int64_t epochs, std::int64_t seen,
                                std::int64_t n_train, double seconds, double loss,
                                bool per_trial = false);

// How a run ended (or that it has not). pruned: stopped early by a pruner
// because it was unpromising (its epochs are kept); stopped: ended on purpose
// before its last epoch for another reason (a user's stop), also kept.
enum class RunStatus { pending, running, done, diverged, failed, pruned, stopped };
const char* to_string(RunStatus s);
RunStatus run_status_from_string(const std::string& s);  // throws StoreError
// done, diverged, failed, pruned and stopped: the trial will not run again by itself.
bool is_finished(RunStatus s);

}  // namespace lrtune
