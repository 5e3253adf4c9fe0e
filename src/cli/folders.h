// Folders the user names on the command line: results folders opened with a
// message that says what was expected, and data read with its warnings shown.
#pragma once
#include <memory>
#include <string>

#include "core/config.h"
#include "data/dataset.h"
#include "store/store.h"

namespace lrtune::cli {

// DIR/results.sqlite opened; StoreError naming DIR when it is not there.
// `also` names other folders the command accepts ("an `lrtune lr-find` folder").
std::unique_ptr<Store> open_results_folder(const std::string& dir, const std::string& also = "");

// cfg's data set (its `dataset` kind, from data_folder(cfg)); a file with an
// unusual image count is read, and "warning: ..." naming it and the count goes
// to standard output.
ImageDataset load_data_with_warnings(const TrainConfig& cfg);

}  // namespace lrtune::cli
