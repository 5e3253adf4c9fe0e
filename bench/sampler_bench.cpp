// The search sampler's own cost per new trial as a study grows: TPE and
// random, from the stored history of N finished trials (default 1,000),
// drawn in memory and through the SQLite store's transaction (history read,
// draw, nothing added). Compare with one training epoch (docs/search.md).
//
//   build/bench/lrtune_sampler_bench [--trials 1000] [--repeats 20]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/errors.h"
#include "search/space.h"
#include "store/store.h"
#include "study/search_source.h"
#include "study/trial_source.h"
#include "train/builtin_kinds.h"

namespace {

using namespace lrtune;
using json = nlohmann::json;
namespace fs = std::filesystem;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

json search_table(const std::string& sampler, std::int64_t trials) {
  return {{"sampler", sampler}, {"pruner", "asha"}, {"trials", trials}, {"seed", 1},
          {"space",
           {{"lr", {{"log_uniform", {1e-3, 0.5}}}},
            {"momentum", {{"uniform", {0.0, 0.99}}}},
            {"nesterov", {{"choice", {false, true}}, {"when", "momentum > 0"}}},
            {"weight_decay", {{"log_uniform", {1e-5, 1e-2}}}},
            {"warmup_epochs", {{"uniform", {0, 3}}, {"step", 0.5}}}}}};
}

// A study of `n` finished trials, 9 epochs each (a third of them pruned after 3),
// drawn by the random sampler so that filling it is quick.
void fill(Store& store, std::int64_t n) {
  TrainConfig base;
  base.epochs = 9;
  store.put_study({"bench", "", {{"search", {{"table", search_table("random", n)},
                                             {"file", "bench"}, {"base", to_json(base)}}}}, {}});
  auto source = source_for(*store.study());
  for (std::int64_t i = 0; i < n; ++i) {
    if (!source->grow(store)) throw Error("could not add trial " + std::to_string(i));
    const auto t = store.claim_trial(store.study()->trial_ids, "bench", 1, 60);
    const double q = 0.3 + 0.5 * std::fmod(0.618 * static_cast<double>(i), 1.0);
    const std::int64_t epochs = i % 3 == 0 ? 3 : 9;
    for (std::int64_t e = 1; e <= epochs; ++e) {
      EpochMetrics m;
      m.epoch = e;
      m.val_acc = q * (1.0 - std::exp(-static_cast<double>(e) / 3.0));
      m.val_loss = 1.0 - m.val_acc;
      store.put_epoch(t->spec.id, m);
    }
    store.finish_trial(t->spec.id, epochs == 9 ? RunStatus::done : RunStatus::pruned);
  }
}

// Seconds per draw (median over `repeats`): in memory, and in the store's transaction.
std::pair<double, double> time_draws(Store& store, const std::string& sampler, int repeats) {
  const auto info = *store.study();
  json spec = info.spec;
  spec["search"]["table"] = search_table(sampler, 1000000);
  const auto source = search_source_of(spec);
  const auto history = store.history();
  std::vector<double> memory, stored;
  for (int r = 0; r < repeats; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    if (!source->choose(history)) throw Error("no draw");
    memory.push_back(seconds_since(t0));
    t0 = std::chrono::steady_clock::now();
    store.add_trial_with([&](const std::vector<TrialHistory>& h) {
      if (!source->choose(h)) throw Error("no draw");
      return std::optional<TrialSpec>();  // measure, add nothing
    });
    stored.push_back(seconds_since(t0));
  }
  return {median(memory), median(stored)};
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t trials = 1000;
  int repeats = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--trials") trials = std::atoll(argv[i + 1]);
    else if (flag == "--repeats") repeats = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: %s [--trials N] [--repeats R]\n", argv[0]);
      return 2;
    }
  }
  register_builtin_kinds();
  const fs::path dir = fs::temp_directory_path() / ("lrtune-sampler-bench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  try {
    auto store = open_sqlite_store((dir / "results.sqlite").string());
    const auto t0 = std::chrono::steady_clock::now();
    fill(*store, trials);
    std::printf("history: %lld finished trials (a third pruned), filled in %.1f s\n",
                static_cast<long long>(trials), seconds_since(t0));
    std::printf("| sampler | draw in memory (ms) | draw in a store transaction (ms) |\n|---|---|---|\n");
    for (const char* sampler : {"random", "tpe"}) {
      const auto [memory, stored] = time_draws(*store, sampler, repeats);
      std::printf("| %s | %.2f | %.2f |\n", sampler, 1e3 * memory, 1e3 * stored);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    fs::remove_all(dir);
    return 1;
  }
  fs::remove_all(dir);
  return 0;
}
