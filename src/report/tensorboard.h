// Trials as TensorBoard runs: per-epoch scalars and, through the HParams
// plugin, each trial's hyper-parameters and outcome, so that TensorBoard's
// Scalars and HParams dashboards both list a study's trials. Results are read
// through the Store interface only (docs/export.md).
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "store/store.h"

namespace lrtune::report {

// A scalar written per epoch (step = the epoch, 1-based). The first six are
// also the HParams dashboard's metrics (their last value per run).
struct TbScalar {
  const char* tag;  // "val/acc"
  double EpochMetrics::*member;
  bool metric;
};
const std::vector<TbScalar>& tensorboard_scalars();

using OpenStore = std::function<std::unique_ptr<Store>(const std::string& dir)>;

struct TensorBoardExport {
  std::vector<std::string> runs;  // run folders written, relative to the log directory
  int without_epochs = 0;         // trials left out: nothing recorded yet
};

// `lrtune export tensorboard DIR... --out LOGDIR`: one run folder per trial
// with epochs (named by its label; with several DIRs, below a folder named
// after the study), and the experiment in LOGDIR's top level. Event files
// lrtune wrote there before are replaced; other files are left alone.
TensorBoardExport export_tensorboard(const std::vector<std::string>& dirs, const OpenStore& open,
                                     const std::string& logdir);

// Follows a store while its trials train (`train --tensorboard`, `study run
// --tensorboard`): each update() appends the epochs stored since the last
// one, a run's session start before its first epoch and its end once it
// finished. Steps a run's folder already holds (an earlier process, a
// resumed run) are never written again, so curves have no repeated steps.
class TensorBoardLive {
 public:
  struct Options {
    std::string logdir;
    // Name of the run when the store holds one trial (`lrtune train`: the run
    // folder's name); "" = each trial's label, as the export names them.
    std::string run_name;
    // Write the experiment (hyper-parameters and metrics of the whole study)
    // in the top level. Off for `train`, whose runs may share a log directory:
    // TensorBoard then infers it from the runs.
    bool experiment = true;
  };
  explicit TensorBoardLive(Options options);
  ~TensorBoardLive();
  TensorBoardLive(const TensorBoardLive&) = delete;
  TensorBoardLive& operator=(const TensorBoardLive&) = delete;

  void update(Store& store);
  // update() for a run that must not stop for TensorBoard: a write that
  // fails is reported once through `warn` and the follower stops.
  void follow(Store& store, const std::function<void(const std::string&)>& warn);

 private:
  struct Run;
  Options options_;
  bool stopped_ = false;
  std::string experiment_keys_;  // the hyper-parameters the written experiment lists
  std::map<std::string, std::unique_ptr<Run>> runs_;  // by trial id
};

}  // namespace lrtune::report
