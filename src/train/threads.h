// LibTorch's CPU thread count for this process (it is per process, so this is
// too): fixed, or adapted while training to what trains fastest right now.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace lrtune {

// Sets LibTorch's thread count and returns it. `threads` 0 = all cores,
// adapted to measured speed (a busy machine gets fewer: train/thread_governor.h);
// `threads` > 0 is fixed, or with `adapt` the most the governor may use.
int apply_threads(std::int64_t threads, bool adapt = false);

// Called by the trainer after each training step on the CPU: with an adapted
// count, the step's time may change the count for the steps that follow.
void after_training_step(double seconds, std::int64_t images);

// Where a change of the adapted count is told ("threads 2 -> 1: ..."); none by default.
void set_thread_change_log(std::function<void(const std::string&)> log);

}  // namespace lrtune
