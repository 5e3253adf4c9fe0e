// Results and data folders named on the command line.
#include "cli/folders.h"

#include <filesystem>
#include <iostream>

#include "core/errors.h"
#include "data/datasets.h"

namespace lrtune::cli {

std::unique_ptr<Store> open_results_folder(const std::string& dir, const std::string& also) {
  const std::filesystem::path db = std::filesystem::path(dir) / "results.sqlite";
  if (!std::filesystem::is_regular_file(db))
    throw StoreError(dir + ": no results.sqlite here; give a folder made by `lrtune study run` " +
                     "or `lrtune train`" + (also.empty() ? "" : " (or " + also + ")"));
  return open_sqlite_store(db.string());
}

ImageDataset load_data_with_warnings(const TrainConfig& cfg) {
  ImageDataset data = load_dataset(cfg, data_folder(cfg));
  for (const auto& w : data.warnings) std::cout << "warning: " << w << "\n";
  return data;
}

}  // namespace lrtune::cli
