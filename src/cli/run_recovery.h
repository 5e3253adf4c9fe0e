// Before `lrtune train --resume` trains: the epochs its checkpoint covers must
// be in the run's database, and metrics.csv and the database restore each other.
#pragma once
#include <filesystem>
#include <functional>
#include <string>

#include "store/store.h"

namespace lrtune::cli {

// Rows of a metrics.csv written by lrtune (any column order; unknown columns
// ignored); empty when the file is missing. Reading stops at the first row
// that cannot be read.
std::vector<EpochMetrics> read_metrics_csv(const std::filesystem::path& file);

// When the checkpoint of run `dir` covers epochs the database lacks (lost,
// emptied), they are restored from metrics.csv; when neither holds them all,
// the checkpoint is renamed checkpoint.pt.orphaned and the run starts over.
// `say` gets one line for either. A damaged checkpoint is refused
// (DamagedCheckpointError, naming the file).
void reconcile_run(Store& store, const std::string& trial, const std::filesystem::path& dir,
                   const std::function<void(const std::string&)>& say);

}  // namespace lrtune::cli
