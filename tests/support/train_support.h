// Training in tests: run_training with every epoch's metrics collected.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "data/cifar10.h"
#include "train/trainer.h"

namespace lrtune::test {

// What the trainer tests train on tiny data: SGD with Nesterov momentum, 6
// epochs on the CPU, one thread (ctest runs two tests at once on two cores,
// and more threads would spin against each other).
inline TrainConfig tiny_train_config() {
  TrainConfig c;
  c.val_size = 100;
  c.batch_size = 32;
  c.eval_batch_size = 64;
  c.lr = 0.02;
  c.set("momentum", 0.9);
  c.set("nesterov", true);
  c.epochs = 6;
  c.device = "cpu";
  c.threads = 1;
  c.seed = 11;
  return c;
}

// Generated data of any shape: `per_class` training images of each class and
// a quarter as many test images. Class c lights a 3x3 block at its own place
// of a grid over the image (and its own channel mix), over noise of up to a
// quarter of full brightness. Told apart by where the block lies: train it
// with augment = "none".
ImageDataset generated_blocks(const DataShape& shape, std::int64_t per_class);

// Trains `cfg` with run_training at cfg.threads and returns every epoch's
// metrics; `stop` is polled every step, `outcome` receives the outcome.
std::vector<EpochMetrics> train_epochs(const TrainConfig& cfg, const ImageDataset& data,
                                       const std::string& checkpoint,
                                       std::function<bool()> stop = nullptr,
                                       RunOutcome* outcome = nullptr);

}  // namespace lrtune::test
