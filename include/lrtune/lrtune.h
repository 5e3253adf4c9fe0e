// lrtune as a library: the one header a program of your own includes to add
// its own kinds (networks, data sets, optimizers, schedules) to the whole
// lrtune command line. Register them in main, then hand over:
//
//   #include <lrtune/lrtune.h>
//
//   int main(int argc, char** argv) {
//     lrtune::register_model({{"model", "my_net", "my network", {}, {}},
//                             [](const lrtune::TrainConfig&, const lrtune::DataShape& shape) {
//                               return std::make_shared<MyNet>(shape);
//                             }});
//     return lrtune::main(argc, argv);
//   }
//
// `mytool study run`, `mytool study worker` (workers re-execute this same
// program, so they know its kinds), `mytool report` and every other command
// then work with the program's kinds as with lrtune's. CMake:
//
//   find_package(lrtune CONFIG REQUIRED)
//   target_link_libraries(mytool PRIVATE lrtune::lrtune)
//
// docs/models.md ("Your network in C++") and examples/cpp-plugin/ show it whole.
#pragma once

#include "core/config.h"     // TrainConfig: a run's keys; cfg.real("my_key") reads a declared key
#include "core/errors.h"     // ConfigError, DataError: one line for the user
#include "core/keys.h"       // KindDecl, KeySpec: a kind's name, help and keys
#include "data/dataset.h"    // ImageDataset, LabelledImages, DataShape
#include "data/datasets.h"   // DatasetKind, register_dataset
#include "model/network.h"   // Network, ModelKind, register_model
#include "optim/optimizer.h" // TrainOptimizer, OptimizerKind, register_optimizer
#include "optim/schedule.h"  // Schedule, ScheduleKind, register_schedule

namespace lrtune {

// The whole lrtune command line (`lrtune --help`), with the kinds registered
// before it was called; returns the exit status. A registered kind whose
// name lrtune's own kinds use is one line and status 2.
int main(int argc, char** argv);

}  // namespace lrtune
