// Before `lrtune train --resume` trains: the epochs its checkpoint covers that
// the run's database lost are restored from metrics.csv. (What neither holds,
// and a damaged checkpoint, the study lifecycle sets aside: study/trial_setup.h.)
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
// emptied) and metrics.csv holds them all, they are put back, and `say` gets
// one line. Otherwise nothing changes: no checkpoint, a damaged one, or one
// that neither file vouches for (it is set aside when the run starts).
void restore_from_csv(Store& store, const std::string& trial, const std::filesystem::path& dir,
                      const std::function<void(const std::string&)>& say);

}  // namespace lrtune::cli
