// Training in tests: run_training with every epoch's metrics collected.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "data/cifar10.h"
#include "train/trainer.h"

namespace lrtune::test {

// Trains `cfg` with run_training at cfg.threads and returns every epoch's
// metrics; `stop` is polled every step, `outcome` receives the outcome.
std::vector<EpochMetrics> train_epochs(const TrainConfig& cfg, const Cifar10& data,
                                       const std::string& checkpoint,
                                       std::function<bool()> stop = nullptr,
                                       RunOutcome* outcome = nullptr);

}  // namespace lrtune::test
