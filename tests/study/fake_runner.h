// A TrialRunner for scheduler tests: canned metrics, and on demand a throw, a
// divergence, a hang, or killing its own process. It "checkpoints" the last
// epoch in a file in the trial's folder, so resumes work as the real one's do.
#pragma once
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>

#include "study/runner.h"

namespace lrtune::test {

class FakeRunner : public TrialRunner {
 public:
  // hang: never ends an epoch; hold: stores epochs up to at_epoch, then
  // waits for a stop. Both wait on the stop (polled every millisecond), never
  // on the clock: a trial lasts exactly until the test's event.
  enum class Act { normal, fail, diverge, hang, hold, kill_once, kill_always };
  struct Plan {
    Act act = Act::normal;
    std::int64_t at_epoch = 1;  // the epoch that fails, diverges or kills
  };

  std::map<std::string, Plan> plans;     // by trial label
  std::filesystem::path record_dir;      // "" = do not record start/end times
  // Called when a trial starts, before its first epoch (tests wait on events here).
  std::function<void(const TrialRecord&)> on_start;

  TrialResult run(const TrialRecord& trial, const TrialContext& ctx) override {
    namespace fs = std::filesystem;
    fs::create_directories(ctx.trial_dir);
    const fs::path ckpt = fs::path(ctx.trial_dir) / "fake-checkpoint";
    std::int64_t last = 0;
    if (std::ifstream in(ckpt); in) in >> last;
    if (ctx.on_resume) ctx.on_resume(last);
    if (on_start) on_start(trial);
    const Plan plan = plans.count(trial.spec.label) ? plans.at(trial.spec.label) : Plan{};
    const double started = wall();
    TrialResult result{RunStatus::done, last, ""};
    for (std::int64_t e = last + 1; e <= trial.spec.epochs_total; ++e) {
      const bool waits = plan.act == Act::hang || (plan.act == Act::hold && e > plan.at_epoch);
      for (int step = 0; step < 10 || waits; ++step) {
        if (ctx.should_stop()) {
          result.status = RunStatus::running;
          record(trial, started);
          return result;
        }
        if (waits) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      if (e == plan.at_epoch) {
        if (plan.act == Act::fail) throw std::runtime_error("out of memory (fake)");
        const fs::path marker = fs::path(ctx.trial_dir) / "killed-once";
        if (plan.act == Act::kill_always || (plan.act == Act::kill_once && !fs::exists(marker))) {
          std::ofstream(marker) << "x";
          raise(SIGKILL);
        }
      }
      EpochMetrics m = metrics(trial, e);
      if (plan.act == Act::diverge && e == plan.at_epoch) {
        m.train_loss = std::numeric_limits<double>::quiet_NaN();
        ctx.on_epoch(m);
        result.status = RunStatus::diverged;
        result.epochs_completed = e;
        result.message = "loss became nan";
        record(trial, started);
        return result;
      }
      ctx.on_epoch(m);
      std::ofstream(ckpt) << e;
      result.epochs_completed = e;
    }
    record(trial, started);
    return result;
  }

  // What every epoch of a trial should hold, whoever ran it.
  static EpochMetrics metrics(const TrialRecord& trial, std::int64_t epoch) {
    EpochMetrics m;
    m.epoch = epoch;
    m.lr = trial.spec.config.value("lr", 0.0);
    m.train_loss = 2.0 / static_cast<double>(epoch);
    m.val_acc = 0.1 * static_cast<double>(epoch) + m.lr;
    m.test_acc = m.val_acc - 0.01;
    m.seconds = 0.02;
    return m;
  }

  static double wall() {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
  }

 private:
  void record(const TrialRecord& trial, double started) const {
    if (record_dir.empty()) return;
    std::ofstream(record_dir / (trial.spec.id + ".times"), std::ios::app)
        << std::fixed << started << " " << wall() << "\n";
  }
};

}  // namespace lrtune::test
