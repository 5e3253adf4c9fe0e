// The process's thread setting and, when adapted, its governor.
#include "train/threads.h"

#include <algorithm>
#include <memory>
#include <thread>

#include <torch/torch.h>

#include "train/thread_governor.h"

namespace lrtune {
namespace {

std::unique_ptr<ThreadGovernor> g_governor;  // null: the count is fixed
std::function<void(const std::string&)> g_log;

}  // namespace

int apply_threads(std::int64_t threads, bool adapt) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int n = threads > 0 ? static_cast<int>(threads) : cores;
  g_governor.reset();
  if ((threads == 0 || adapt) && n > 1) g_governor = std::make_unique<ThreadGovernor>(n);
  torch::set_num_threads(n);
  return n;
}

void after_training_step(double seconds, std::int64_t images) {
  if (!g_governor) return;
  const int adoptions = g_governor->adoptions();
  if (g_governor->record(seconds, images)) torch::set_num_threads(g_governor->threads());
  if (g_governor->adoptions() != adoptions && g_log) g_log(g_governor->last_change());
}

void set_thread_change_log(std::function<void(const std::string&)> log) { g_log = std::move(log); }

}  // namespace lrtune
